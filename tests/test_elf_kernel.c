/* ELF64 kernels and the PVH entry note: a good file built in memory, a
 * missing note, and malformed or truncated program headers. */
#include <criterion/criterion.h>
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/elf_kernel.h"

#define ELF_LEN 0x2000
#define LOAD_OFF 0x1000
#define NOTE_OFF 0x200

struct note
{
  Elf64_Nhdr h;
  char name[4];
  uint32_t entry;
};

static uint8_t *
make_elf (void)
{
  uint8_t *b = calloc (1, ELF_LEN);
  Elf64_Ehdr *eh = (Elf64_Ehdr *) b;
  Elf64_Phdr *ph = (Elf64_Phdr *) (b + sizeof (*eh));
  struct note n = { .h = { .n_namesz = 4, .n_descsz = 4, .n_type = XEN_ELFNOTE_PHYS32_ENTRY },
                    .name = "Xen", .entry = 0x100010 };

  cr_assert_not_null (b);
  memcpy (eh->e_ident, ELFMAG, SELFMAG);
  eh->e_ident[EI_CLASS] = ELFCLASS64;
  eh->e_ident[EI_DATA] = ELFDATA2LSB;
  eh->e_ident[EI_VERSION] = EV_CURRENT;
  eh->e_type = ET_EXEC;
  eh->e_machine = EM_X86_64;
  eh->e_phoff = sizeof (*eh);
  eh->e_phentsize = sizeof (Elf64_Phdr);
  eh->e_phnum = 2;
  ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = LOAD_OFF, .p_paddr = 0x100000,
                        .p_vaddr = 0x100000, .p_filesz = 0x100, .p_memsz = 0x3000 };
  ph[1] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = NOTE_OFF, .p_filesz = sizeof (n) };
  memcpy (b + NOTE_OFF, &n, sizeof (n));
  memset (b + LOAD_OFF, 0x90, 0x100);
  return b;
}

static Elf64_Phdr *
phdr (uint8_t *b, int i)
{
  return (Elf64_Phdr *) (b + sizeof (Elf64_Ehdr)) + i;
}

static void
expect_reject (const uint8_t *b, size_t len, const char *want)
{
  struct elf_kernel_info info;
  hull_error_t err = NULL;

  cr_expect_lt (elf_kernel_parse (b, len, &info, &err), 0, "accepted, wanted \"%s\"", want);
  cr_expect_not_null (strstr (hull_error_msg (&err), want), "error \"%s\" lacks \"%s\"",
                      hull_error_msg (&err), want);
  hull_error_free (&err);
}

Test (elf_kernel, good_with_pvh_note)
{
  uint8_t *b = make_elf ();
  uint8_t *ram = calloc (1, 2 << 20);
  struct elf_kernel_info info;
  struct guest_mem mem;
  hull_error_t err = NULL;

  cr_assert_eq (elf_kernel_parse (b, ELF_LEN, &info, &err), 0, "%s", hull_error_msg (&err));
  cr_expect_eq (info.pvh_entry, 0x100010);
  cr_expect_eq (info.phys_start, 0x100000);
  cr_expect_eq (info.phys_end, 0x103000);
  guest_mem_init_fake (&mem, ram, 2 << 20);
  memset (ram + 0x100100, 0xcc, 0x100);
  cr_assert_eq (elf_kernel_load (&mem, b, ELF_LEN, &info, &err), 0, "%s", hull_error_msg (&err));
  cr_expect_eq (ram[0x100000], 0x90);
  cr_expect_eq (ram[0x100100], 0, "bss zeroed");
  guest_mem_init_fake (&mem, ram, 1 << 20);
  cr_expect_lt (elf_kernel_load (&mem, b, ELF_LEN, &info, &err), 0, "segment beyond RAM");
  hull_error_free (&err);
  free (ram);
  free (b);
}

Test (elf_kernel, eight_byte_note_and_other_notes_first)
{
  uint8_t *b = make_elf ();
  struct elf_kernel_info info;
  hull_error_t err = NULL;
  /* An unrelated note, then a PVH note with a 64-bit descriptor. */
  uint8_t notes[64] = { 0 };
  Elf64_Nhdr other = { .n_namesz = 4, .n_descsz = 4, .n_type = 1 };
  Elf64_Nhdr pvh = { .n_namesz = 4, .n_descsz = 8, .n_type = XEN_ELFNOTE_PHYS32_ENTRY };
  uint64_t entry = 0x100020;

  memcpy (notes, &other, 12);
  memcpy (notes + 12, "GNU", 4);
  memcpy (notes + 20, &pvh, 12);
  memcpy (notes + 32, "Xen", 4);
  memcpy (notes + 36, &entry, 8);
  memcpy (b + NOTE_OFF, notes, sizeof (notes));
  phdr (b, 1)->p_filesz = 44;
  cr_assert_eq (elf_kernel_parse (b, ELF_LEN, &info, &err), 0, "%s", hull_error_msg (&err));
  cr_expect_eq (info.pvh_entry, 0x100020);
  free (b);
}

Test (elf_kernel, missing_note)
{
  uint8_t *b = make_elf ();

  ((Elf64_Nhdr *) (b + NOTE_OFF))->n_type = 17;
  expect_reject (b, ELF_LEN, "no PVH entry note");
  ((Elf64_Nhdr *) (b + NOTE_OFF))->n_type = XEN_ELFNOTE_PHYS32_ENTRY;
  memcpy (b + NOTE_OFF + 12, "Xex", 4);
  expect_reject (b, ELF_LEN, "no PVH entry note");
  memcpy (b + NOTE_OFF + 12, "Xen", 4);
  phdr (b, 1)->p_type = PT_NULL;
  expect_reject (b, ELF_LEN, "no PVH entry note");
  free (b);
}

Test (elf_kernel, malformed_phdrs)
{
  uint8_t *b = make_elf ();
  Elf64_Ehdr *eh = (Elf64_Ehdr *) b;

  eh->e_phoff = ELF_LEN - 8;
  expect_reject (b, ELF_LEN, "truncated");
  eh->e_phoff = UINT64_MAX - 16; /* offset + size would wrap */
  expect_reject (b, ELF_LEN, "truncated");
  eh->e_phoff = sizeof (*eh);
  eh->e_phentsize = 32;
  expect_reject (b, ELF_LEN, "program headers");
  eh->e_phentsize = sizeof (Elf64_Phdr);
  eh->e_phnum = 0;
  expect_reject (b, ELF_LEN, "program headers");
  eh->e_phnum = 2;
  phdr (b, 0)->p_offset = ELF_LEN - 0x10; /* segment runs past the end */
  expect_reject (b, ELF_LEN, "truncated");
  phdr (b, 0)->p_offset = LOAD_OFF;
  phdr (b, 0)->p_filesz = 0x4000; /* filesz > memsz (and past the end) */
  expect_reject (b, ELF_LEN, "segment 0");
  phdr (b, 0)->p_filesz = 0x100;
  phdr (b, 1)->p_filesz = UINT64_MAX; /* note segment wraps */
  expect_reject (b, ELF_LEN, "truncated");
  phdr (b, 1)->p_filesz = 24;
  ((Elf64_Nhdr *) (b + NOTE_OFF))->n_descsz = 0xfffffff0; /* note body past its segment */
  expect_reject (b, ELF_LEN, "no PVH entry note");
  free (b);
}

Test (elf_kernel, bad_header)
{
  uint8_t *b = make_elf ();

  expect_reject (b, 20, "truncated");
  b[EI_CLASS] = ELFCLASS32;
  expect_reject (b, ELF_LEN, "ELF64");
  b[EI_CLASS] = ELFCLASS64;
  ((Elf64_Ehdr *) b)->e_machine = EM_AARCH64;
  expect_reject (b, ELF_LEN, "x86-64");
  b[0] = 0;
  expect_reject (b, ELF_LEN, "not an ELF");
  free (b);
}

Test (elf_kernel, entry_outside_segments)
{
  uint8_t *b = make_elf ();

  ((struct note *) (b + NOTE_OFF))->entry = 0x200000;
  expect_reject (b, ELF_LEN, "outside its segments");
  free (b);
}
