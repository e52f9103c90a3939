/* Kernel loading: detection, then the per-format placement.  Memory
 * picture for a bzImage (see layout.h for the fixed addresses):
 *   0x500 GDT, 0x7000 zero page, 0x9000-0xEFFF page tables,
 *   0x20000 command line, kernel at pref_address (16 MiB) for init_size
 *   bytes, initrd as high as initrd_addr_max and low RAM allow.
 * PVH replaces the zero page by the hvm_start_info at 0x6000 and puts the
 * segments at their ELF physical addresses. */
#include "vmm/kernel_load.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "vmm/boot_params.h"
#include "vmm/layout.h"

/* Kernels and initrds hull boots are tens of MiB; refuse silly sizes
 * before allocating. */
#define KERNEL_FILE_MAX (1ULL << 30)

static int
read_file (const char *what, const char *path, uint8_t **out, size_t *len, hull_error_t *err)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  cleanup_free uint8_t *buf = NULL;
  struct stat st;
  size_t done = 0;

  if (fd < 0)
    return hull_error (err, errno, "open %s `%s`", what, path);
  if (fstat (fd, &st) < 0)
    return hull_error (err, errno, "stat %s `%s`", what, path);
  if (!S_ISREG (st.st_mode))
    return hull_error (err, 0, "%s `%s` is not a regular file", what, path);
  if (st.st_size == 0 || (uint64_t) st.st_size > KERNEL_FILE_MAX)
    return hull_error (err, 0, "%s `%s` has an unusable size (%lld bytes)", what, path,
                       (long long) st.st_size);
  buf = malloc ((size_t) st.st_size);
  if (buf == NULL)
    return hull_error (err, ENOMEM, "read %s `%s`", what, path);
  while (done < (size_t) st.st_size)
    {
      ssize_t r = read (fd, buf + done, (size_t) st.st_size - done);

      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return hull_error (err, errno, "read %s `%s`", what, path);
      if (r == 0)
        break;
      done += (size_t) r;
    }
  *len = done;
  *out = hull_steal_ptr (&buf);
  return 0;
}

int
kernel_image_read (const char *kernel_path, const char *initrd_path, struct kernel_image *img,
                   hull_error_t *err)
{
  int r;

  memset (img, 0, sizeof (*img));
  if (read_file ("kernel", kernel_path, &img->data, &img->len, err) < 0)
    return -1;
  if (img->len >= 4 && memcmp (img->data, "\177ELF", 4) == 0)
    {
      img->format = KERNEL_ELF_PVH;
      r = elf_kernel_parse (img->data, img->len, &img->elf, err);
    }
  else
    {
      img->format = KERNEL_BZIMAGE;
      r = bzimage_parse (img->data, img->len, &img->bz, err);
    }
  if (r < 0)
    {
      kernel_image_free (img);
      return hull_error_prefix (err, "kernel `%s`", kernel_path);
    }
  if (initrd_path != NULL && read_file ("initrd", initrd_path, &img->initrd, &img->initrd_len, err) < 0)
    {
      kernel_image_free (img);
      return -1;
    }
  return 0;
}

void
kernel_image_free (struct kernel_image *img)
{
  free (img->data);
  free (img->initrd);
  memset (img, 0, sizeof (*img));
}

static int
load_initrd (const struct kernel_image *img, struct guest_mem *mem, uint64_t floor,
             uint64_t addr_max, uint64_t *addr, hull_error_t *err)
{
  uint8_t *dst;

  *addr = 0;
  if (img->initrd == NULL)
    return 0;
  if (initrd_place (mem, img->initrd_len, floor, addr_max, addr, err) < 0)
    return -1;
  dst = guest_mem_ptr (mem, *addr, img->initrd_len);
  if (dst == NULL)
    return hull_error (err, ERANGE, "initrd at 0x%llx is outside RAM", (unsigned long long) *addr);
  memcpy (dst, img->initrd, img->initrd_len);
  return 0;
}

static int
load_bzimage (const struct kernel_image *img, struct guest_mem *mem, const char *cmdline,
              uint64_t rsdp, struct boot_entry *entry, hull_error_t *err)
{
  const struct bzimage_info *bz = &img->bz;
  struct boot_params_args a = {
    .setup_header = img->data + BZIMAGE_HDR_START,
    .setup_header_len = bz->hdr_len,
    .cmdline_addr = LAYOUT_BOOT_CMDLINE,
    .initrd_size = img->initrd_len,
    .rsdp_addr = rsdp,
  };
  size_t max = bz->cmdline_size < LAYOUT_BOOT_CMDLINE_MAX - 1 ? bz->cmdline_size
                                                             : LAYOUT_BOOT_CMDLINE_MAX - 1;
  uint64_t end;

  if (bzimage_load (mem, img->data, bz, &end, err) < 0)
    return -1;
  if (boot_cmdline_write (mem, LAYOUT_BOOT_CMDLINE, cmdline, max, err) < 0)
    return -1;
  if (load_initrd (img, mem, end, bz->initrd_addr_max, &a.initrd_addr, err) < 0)
    return -1;
  if (boot_params_write (mem, LAYOUT_BOOT_ZERO_PAGE, &a, err) < 0)
    return -1;
  /* The 64-bit entry sits 0x200 bytes into the protected-mode kernel. */
  *entry = (struct boot_entry){ .mode = BOOT_LINUX_64,
                                .entry = bzimage_load_address (bz) + 0x200,
                                .param = LAYOUT_BOOT_ZERO_PAGE };
  return 0;
}

static int
load_elf (const struct kernel_image *img, struct guest_mem *mem, const char *cmdline,
          uint64_t rsdp, struct boot_entry *entry, hull_error_t *err)
{
  uint64_t initrd_addr;

  if (elf_kernel_load (mem, img->data, img->len, &img->elf, err) < 0)
    return -1;
  if (boot_cmdline_write (mem, LAYOUT_BOOT_CMDLINE, cmdline, LAYOUT_BOOT_CMDLINE_MAX - 1, err) < 0)
    return -1;
  /* PVH has no initrd limit of its own; stay below 4 GiB anyway. */
  if (load_initrd (img, mem, img->elf.phys_end, UINT32_MAX, &initrd_addr, err) < 0)
    return -1;
  if (pvh_start_info_write (mem, LAYOUT_BOOT_PVH_INFO, LAYOUT_BOOT_CMDLINE, initrd_addr,
                            img->initrd_len, rsdp, err) < 0)
    return -1;
  *entry = (struct boot_entry){ .mode = BOOT_PVH_32, .entry = img->elf.pvh_entry,
                                .param = LAYOUT_BOOT_PVH_INFO };
  return 0;
}

int
kernel_image_load (const struct kernel_image *img, struct guest_mem *mem, const char *cmdline,
                   uint64_t rsdp, struct boot_entry *entry, hull_error_t *err)
{
  if (img->format == KERNEL_BZIMAGE)
    return load_bzimage (img, mem, cmdline, rsdp, entry, err);
  return load_elf (img, mem, cmdline, rsdp, entry, err);
}
