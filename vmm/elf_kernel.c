/* ELF64 loading.  Everything read from the file is bounds-checked against
 * its length before use (offsets and sizes are attacker-controlled as far
 * as the VMM is concerned), with subtraction-based checks that cannot
 * overflow. */
#include "vmm/elf_kernel.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

/* True when [off, off + size) lies inside a buffer of len bytes. */
static bool
in_file (size_t len, uint64_t off, uint64_t size)
{
  return off <= len && size <= len - off;
}

static int
elf_check_header (const uint8_t *buf, size_t len, Elf64_Ehdr *eh, hull_error_t *err)
{
  if (len < sizeof (*eh))
    return hull_error (err, 0, "ELF kernel truncated: %zu bytes, the ELF header needs %zu", len,
                       sizeof (*eh));
  memcpy (eh, buf, sizeof (*eh));
  if (memcmp (eh->e_ident, ELFMAG, SELFMAG) != 0)
    return hull_error (err, 0, "not an ELF file");
  if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB
      || eh->e_machine != EM_X86_64)
    return hull_error (err, 0, "ELF kernel is not little-endian x86-64 ELF64");
  if (eh->e_phnum == 0 || eh->e_phentsize != sizeof (Elf64_Phdr))
    return hull_error (err, 0, "ELF kernel has no usable program headers (phnum %u, phentsize %u)",
                       eh->e_phnum, eh->e_phentsize);
  if (!in_file (len, eh->e_phoff, (uint64_t) eh->e_phnum * sizeof (Elf64_Phdr)))
    return hull_error (err, 0, "ELF kernel truncated: program headers at 0x%llx run past the end",
                       (unsigned long long) eh->e_phoff);
  return 0;
}

static void
elf_phdr (const uint8_t *buf, const Elf64_Ehdr *eh, unsigned i, Elf64_Phdr *ph)
{
  memcpy (ph, buf + eh->e_phoff + (uint64_t) i * sizeof (*ph), sizeof (*ph));
}

/* Walk one PT_NOTE segment looking for Xen's PHYS32_ENTRY. */
static bool
elf_find_pvh_note (const uint8_t *seg, uint64_t size, uint64_t *entry)
{
  uint64_t off = 0;

  while (size - off >= sizeof (Elf64_Nhdr))
    {
      Elf64_Nhdr nh;
      uint64_t name_sz, desc_sz;

      memcpy (&nh, seg + off, sizeof (nh));
      off += sizeof (nh);
      name_sz = ((uint64_t) nh.n_namesz + 3) & ~3ULL;
      desc_sz = ((uint64_t) nh.n_descsz + 3) & ~3ULL;
      if (name_sz > size - off || desc_sz > size - off - name_sz)
        return false;
      if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4
          && memcmp (seg + off, "Xen", 4) == 0 && (nh.n_descsz == 4 || nh.n_descsz == 8))
        {
          uint32_t e32;
          uint64_t e64;

          if (nh.n_descsz == 4)
            {
              memcpy (&e32, seg + off + name_sz, 4);
              *entry = e32;
            }
          else
            {
              memcpy (&e64, seg + off + name_sz, 8);
              *entry = e64;
            }
          return true;
        }
      off += name_sz + desc_sz;
    }
  return false;
}

int
elf_kernel_parse (const uint8_t *buf, size_t len, struct elf_kernel_info *info,
                  hull_error_t *err)
{
  Elf64_Ehdr eh;
  bool found = false, loads = false;

  memset (info, 0, sizeof (*info));
  info->phys_start = UINT64_MAX;
  if (elf_check_header (buf, len, &eh, err) < 0)
    return -1;
  for (unsigned i = 0; i < eh.e_phnum; i++)
    {
      Elf64_Phdr ph;

      elf_phdr (buf, &eh, i, &ph);
      if (ph.p_type != PT_LOAD && ph.p_type != PT_NOTE)
        continue;
      if (!in_file (len, ph.p_offset, ph.p_filesz))
        return hull_error (err, 0, "ELF kernel truncated: segment %u (offset 0x%llx, 0x%llx"
                                   " bytes) runs past the end", i,
                           (unsigned long long) ph.p_offset, (unsigned long long) ph.p_filesz);
      if (ph.p_type == PT_NOTE)
        {
          if (!found)
            found = elf_find_pvh_note (buf + ph.p_offset, ph.p_filesz, &info->pvh_entry);
          continue;
        }
      if (ph.p_filesz > ph.p_memsz || ph.p_paddr + ph.p_memsz < ph.p_paddr)
        return hull_error (err, 0, "ELF kernel segment %u has bad sizes (filesz 0x%llx, memsz"
                                   " 0x%llx)", i, (unsigned long long) ph.p_filesz,
                           (unsigned long long) ph.p_memsz);
      loads = true;
      if (ph.p_paddr < info->phys_start)
        info->phys_start = ph.p_paddr;
      if (ph.p_paddr + ph.p_memsz > info->phys_end)
        info->phys_end = ph.p_paddr + ph.p_memsz;
    }
  if (!loads)
    return hull_error (err, 0, "ELF kernel has no loadable segment");
  if (!found)
    return hull_error (err, 0, "ELF kernel has no PVH entry note (Xen note type %d,"
                               " XEN_ELFNOTE_PHYS32_ENTRY): hull boots ELF kernels only"
                               " through PVH", XEN_ELFNOTE_PHYS32_ENTRY);
  if (info->pvh_entry < info->phys_start || info->pvh_entry >= info->phys_end)
    return hull_error (err, 0, "ELF kernel PVH entry 0x%llx is outside its segments",
                       (unsigned long long) info->pvh_entry);
  return 0;
}

int
elf_kernel_load (struct guest_mem *mem, const uint8_t *buf, size_t len,
                 const struct elf_kernel_info *info, hull_error_t *err)
{
  Elf64_Ehdr eh;

  (void) info;
  if (elf_check_header (buf, len, &eh, err) < 0)
    return -1;
  for (unsigned i = 0; i < eh.e_phnum; i++)
    {
      Elf64_Phdr ph;
      uint8_t *dst;

      elf_phdr (buf, &eh, i, &ph);
      if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
        continue;
      dst = guest_mem_ptr (mem, ph.p_paddr, ph.p_memsz);
      if (dst == NULL || !in_file (len, ph.p_offset, ph.p_filesz))
        return hull_error (err, ENOMEM, "memory too small for the kernel: segment %u needs"
                                        " 0x%llx-0x%llx", i, (unsigned long long) ph.p_paddr,
                           (unsigned long long) (ph.p_paddr + ph.p_memsz));
      memcpy (dst, buf + ph.p_offset, ph.p_filesz);
      memset (dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
    }
  return 0;
}
