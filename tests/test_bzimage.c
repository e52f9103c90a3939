/* bzImage setup header parsing: a good header built in memory, and the
 * ways a file can be unusable (truncated, not a bzImage, too old, no
 * 64-bit entry). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/bzimage.h"
#include "vmm/layout.h"

#define IMG_LEN (64 * 1024)

static void
w16 (uint8_t *b, size_t off, uint16_t v)
{
  memcpy (b + off, &v, 2);
}

static void
w32 (uint8_t *b, size_t off, uint32_t v)
{
  memcpy (b + off, &v, 4);
}

static void
w64 (uint8_t *b, size_t off, uint64_t v)
{
  memcpy (b + off, &v, 8);
}

/* A plausible modern bzImage: protocol 2.15, 4 setup sectors. */
static uint8_t *
make_image (void)
{
  uint8_t *b = calloc (1, IMG_LEN);

  cr_assert_not_null (b);
  b[0x1f1] = 4;                       /* setup_sects */
  w32 (b, 0x1f4, (IMG_LEN - 5 * 512) / 16); /* syssize */
  w16 (b, 0x1fe, 0xaa55);
  b[0x200] = 0xeb;
  b[0x201] = 0x6a;                    /* header ends at 0x26c */
  memcpy (b + 0x202, "HdrS", 4);
  w16 (b, 0x206, 0x020f);
  b[0x211] = 0x01;                    /* LOADED_HIGH */
  w32 (b, 0x22c, 0x7fffffff);         /* initrd_addr_max */
  w32 (b, 0x230, 0x200000);           /* kernel_alignment */
  b[0x234] = 1;                       /* relocatable */
  w16 (b, 0x236, 0x0001);             /* XLF_KERNEL_64 */
  w32 (b, 0x238, 2047);               /* cmdline_size */
  w64 (b, 0x258, 0x1000000);          /* pref_address */
  w32 (b, 0x260, 0x2000000);          /* init_size */
  b[5 * 512] = 0xf4;                  /* first kernel byte */
  return b;
}

static void
expect_reject (const uint8_t *b, size_t len, const char *want)
{
  struct bzimage_info info;
  hull_error_t err = NULL;

  cr_expect_lt (bzimage_parse (b, len, &info, &err), 0, "accepted, wanted \"%s\"", want);
  cr_expect_not_null (strstr (hull_error_msg (&err), want), "error \"%s\" lacks \"%s\"",
                      hull_error_msg (&err), want);
  hull_error_free (&err);
}

Test (bzimage, good_header)
{
  uint8_t *b = make_image ();
  struct bzimage_info info;
  hull_error_t err = NULL;

  cr_assert_eq (bzimage_parse (b, IMG_LEN, &info, &err), 0, "%s", hull_error_msg (&err));
  cr_expect_eq (info.version, 0x020f);
  cr_expect_eq (info.setup_sects, 4);
  cr_expect_eq (info.kernel_offset, 5 * 512);
  cr_expect_eq (info.kernel_size, IMG_LEN - 5 * 512);
  cr_expect_eq (info.loadflags, 1);
  cr_expect_eq (info.xloadflags, 1);
  cr_expect_eq (info.initrd_addr_max, 0x7fffffff);
  cr_expect_eq (info.kernel_alignment, 0x200000);
  cr_expect (info.relocatable);
  cr_expect_eq (info.pref_address, 0x1000000);
  cr_expect_eq (info.init_size, 0x2000000);
  cr_expect_eq (info.cmdline_size, 2047);
  cr_expect_eq (info.hdr_len, 0x26c - 0x1f1);
  cr_expect_eq (bzimage_load_address (&info), 0x1000000);
  free (b);
}

Test (bzimage, setup_sects_zero_means_four)
{
  uint8_t *b = make_image ();
  struct bzimage_info info;
  hull_error_t err = NULL;

  b[0x1f1] = 0;
  cr_assert_eq (bzimage_parse (b, IMG_LEN, &info, &err), 0, "%s", hull_error_msg (&err));
  cr_expect_eq (info.setup_sects, 4);
  free (b);
}

Test (bzimage, load_address_fallback)
{
  uint8_t *b = make_image ();
  struct bzimage_info info;
  hull_error_t err = NULL;

  w64 (b, 0x258, 0x123456); /* not aligned: the loader picks 16 MiB */
  cr_assert_eq (bzimage_parse (b, IMG_LEN, &info, &err), 0);
  cr_expect_eq (bzimage_load_address (&info), LAYOUT_KERNEL_DEFAULT);
  free (b);
}

Test (bzimage, truncated)
{
  uint8_t *b = make_image ();

  expect_reject (b, 0x100, "truncated");
  expect_reject (b, 0x250, "truncated");       /* header cut short */
  expect_reject (b, 5 * 512, "truncated");     /* setup only */
  expect_reject (b, IMG_LEN - 4096, "truncated"); /* syssize says more */
  free (b);
}

Test (bzimage, wrong_magic)
{
  uint8_t *b = make_image ();

  memcpy (b + 0x202, "HdrZ", 4);
  expect_reject (b, IMG_LEN, "HdrS");
  memcpy (b + 0x202, "HdrS", 4);
  w16 (b, 0x1fe, 0x1234);
  expect_reject (b, IMG_LEN, "HdrS");
  free (b);
}

Test (bzimage, old_protocol)
{
  uint8_t *b = make_image ();

  w16 (b, 0x206, 0x0205);
  expect_reject (b, IMG_LEN, "2.05 is too old");
  w16 (b, 0x206, 0x0206); /* the oldest accepted */
  {
    struct bzimage_info info;
    hull_error_t err = NULL;

    cr_expect_eq (bzimage_parse (b, IMG_LEN, &info, &err), 0, "%s", hull_error_msg (&err));
    cr_expect_eq (info.xloadflags, 0, "xloadflags only exists from 2.12");
    cr_expect_eq (info.pref_address, 0x100000, "pref_address only exists from 2.10");
  }
  free (b);
}

Test (bzimage, no_64bit_entry_or_not_loaded_high)
{
  uint8_t *b = make_image ();

  w16 (b, 0x236, 0);
  expect_reject (b, IMG_LEN, "XLF_KERNEL_64");
  w16 (b, 0x236, 1);
  b[0x211] = 0;
  expect_reject (b, IMG_LEN, "zImage");
  free (b);
}

Test (bzimage, load_needs_room)
{
  uint8_t *b = make_image ();
  uint8_t *ram = calloc (1, 64 << 20);
  struct bzimage_info info;
  struct guest_mem mem;
  hull_error_t err = NULL;
  uint64_t end = 0;

  cr_assert_not_null (ram);
  cr_assert_eq (bzimage_parse (b, IMG_LEN, &info, &err), 0);
  guest_mem_init_fake (&mem, ram, 64 << 20);
  cr_assert_eq (bzimage_load (&mem, b, &info, &end, &err), 0, "%s", hull_error_msg (&err));
  cr_expect_eq (end, 0x1000000 + 0x2000000);
  cr_expect_eq (ram[0x1000000], 0xf4, "kernel copied to its load address");
  guest_mem_init_fake (&mem, ram, 32 << 20);
  cr_expect_lt (bzimage_load (&mem, b, &info, &end, &err), 0, "init_size does not fit");
  cr_expect_not_null (strstr (hull_error_msg (&err), "memory too small"));
  hull_error_free (&err);
  free (ram);
  free (b);
}
