/* bzImage parsing.  Field offsets are those of the setup header in the
 * boot protocol; each is only read when the protocol version that
 * introduced it is present. */
#include "vmm/bzimage.h"

#include <errno.h>
#include <string.h>

#include "vmm/layout.h"

#define OFF_SETUP_SECTS 0x1f1
#define OFF_SYSSIZE 0x1f4
#define OFF_BOOT_FLAG 0x1fe
#define OFF_JUMP 0x200
#define OFF_MAGIC 0x202
#define OFF_VERSION 0x206
#define OFF_LOADFLAGS 0x211
#define OFF_INITRD_ADDR_MAX 0x22c
#define OFF_KERNEL_ALIGNMENT 0x230
#define OFF_RELOCATABLE 0x234
#define OFF_XLOADFLAGS 0x236
#define OFF_CMDLINE_SIZE 0x238
#define OFF_PREF_ADDRESS 0x258
#define OFF_INIT_SIZE 0x260
#define HDR_MIN_LEN 0x264 /* through init_size (2.10+) */

#define LOADFLAG_LOADED_HIGH 0x01
#define XLF_KERNEL_64 0x01

static uint16_t
rd16 (const uint8_t *b, size_t off)
{
  return (uint16_t) (b[off] | b[off + 1] << 8);
}

static uint32_t
rd32 (const uint8_t *b, size_t off)
{
  return (uint32_t) rd16 (b, off) | (uint32_t) rd16 (b, off + 2) << 16;
}

static uint64_t
rd64 (const uint8_t *b, size_t off)
{
  return (uint64_t) rd32 (b, off) | (uint64_t) rd32 (b, off + 4) << 32;
}

static void
bzimage_read_fields (const uint8_t *buf, struct bzimage_info *info)
{
  uint16_t v = info->version;

  info->loadflags = buf[OFF_LOADFLAGS];
  info->initrd_addr_max = rd32 (buf, OFF_INITRD_ADDR_MAX);
  info->kernel_alignment = rd32 (buf, OFF_KERNEL_ALIGNMENT);
  info->relocatable = buf[OFF_RELOCATABLE] != 0;
  info->cmdline_size = rd32 (buf, OFF_CMDLINE_SIZE);
  info->xloadflags = v >= 0x020c ? rd16 (buf, OFF_XLOADFLAGS) : 0;
  info->pref_address = v >= 0x020a ? rd64 (buf, OFF_PREF_ADDRESS) : 0x100000;
  info->init_size = v >= 0x020a ? rd32 (buf, OFF_INIT_SIZE) : 0;
  /* The header ends at 0x202 + the jump's displacement byte. */
  info->hdr_len = (size_t) (OFF_MAGIC + buf[OFF_JUMP + 1]) - BZIMAGE_HDR_START;
}

static int
bzimage_check_layout (size_t len, struct bzimage_info *info, const uint8_t *buf,
                      hull_error_t *err)
{
  uint64_t syssize = (uint64_t) rd32 (buf, OFF_SYSSIZE) * 16;

  info->setup_sects = buf[OFF_SETUP_SECTS] ? buf[OFF_SETUP_SECTS] : 4;
  info->kernel_offset = ((size_t) info->setup_sects + 1) * 512;
  if (len <= info->kernel_offset)
    return hull_error (err, 0, "bzImage truncated: %zu bytes, setup alone is %zu", len,
                       info->kernel_offset);
  info->kernel_size = len - info->kernel_offset;
  if (syssize > info->kernel_size)
    return hull_error (err, 0, "bzImage truncated: header says %llu kernel bytes, file has %zu",
                       (unsigned long long) syssize, info->kernel_size);
  if (info->hdr_len < OFF_CMDLINE_SIZE + 4 - BZIMAGE_HDR_START || info->hdr_len > 0x1000)
    return hull_error (err, 0, "bzImage setup header length %zu is not valid", info->hdr_len);
  return 0;
}

int
bzimage_parse (const uint8_t *buf, size_t len, struct bzimage_info *info, hull_error_t *err)
{
  memset (info, 0, sizeof (*info));
  if (len < OFF_VERSION + 2)
    return hull_error (err, 0, "kernel image truncated: %zu bytes is too short for a bzImage", len);
  if (memcmp (buf + OFF_MAGIC, "HdrS", 4) != 0 || rd16 (buf, OFF_BOOT_FLAG) != 0xAA55)
    return hull_error (err, 0, "not a bzImage: no \"HdrS\" setup header magic");
  info->version = rd16 (buf, OFF_VERSION);
  if (info->version < BZIMAGE_MIN_VERSION)
    return hull_error (err, 0, "bzImage boot protocol %u.%02u is too old: the 64-bit entry needs"
                               " at least 2.06", info->version >> 8, info->version & 0xff);
  if (len < HDR_MIN_LEN)
    return hull_error (err, 0, "bzImage truncated: %zu bytes, the setup header needs %d", len,
                       HDR_MIN_LEN);
  bzimage_read_fields (buf, info);
  if (bzimage_check_layout (len, info, buf, err) < 0)
    return -1;
  if (!(info->loadflags & LOADFLAG_LOADED_HIGH))
    return hull_error (err, 0, "bzImage is a zImage (loads low): not supported");
  if (info->version >= 0x020c && !(info->xloadflags & XLF_KERNEL_64))
    return hull_error (err, 0, "bzImage has no 64-bit entry point (XLF_KERNEL_64 clear):"
                               " a 32-bit kernel?");
  if (info->kernel_alignment != 0 && (info->kernel_alignment & (info->kernel_alignment - 1)))
    return hull_error (err, 0, "bzImage kernel_alignment 0x%x is not a power of two",
                       info->kernel_alignment);
  return 0;
}

uint64_t
bzimage_load_address (const struct bzimage_info *info)
{
  uint64_t align = info->kernel_alignment ? info->kernel_alignment : 0x200000;
  uint64_t addr = info->pref_address;

  if (!info->relocatable)
    return addr;
  if (addr < LAYOUT_BIOS_END || (addr & (align - 1)) != 0)
    addr = (LAYOUT_KERNEL_DEFAULT + align - 1) & ~(align - 1);
  return addr;
}

int
bzimage_load (struct guest_mem *mem, const uint8_t *buf, const struct bzimage_info *info,
              uint64_t *end, hull_error_t *err)
{
  uint64_t addr = bzimage_load_address (info);
  uint64_t need = info->init_size > info->kernel_size ? info->init_size : info->kernel_size;
  uint8_t *dst = guest_mem_ptr (mem, addr, need);

  if (dst == NULL)
    return hull_error (err, ENOMEM, "memory too small for the kernel: it needs %llu MiB at"
                                    " 0x%llx (RAM below 4 GiB: %llu MiB)",
                       (unsigned long long) (need >> 20) + 1, (unsigned long long) addr,
                       (unsigned long long) (mem->regions[0].size >> 20));
  /* The rest of init_size is fresh memfd RAM, already zero: leaving it
   * untouched keeps it unallocated on the host until the guest uses it. */
  memcpy (dst, buf + info->kernel_offset, info->kernel_size);
  *end = addr + need;
  return 0;
}
