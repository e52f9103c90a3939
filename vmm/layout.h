/* Guest physical address map of a hull microVM.  Everything the VMM places
 * in guest memory or on the MMIO bus takes its address from here. */
#ifndef HULL_VMM_LAYOUT_H
#define HULL_VMM_LAYOUT_H

#include <stdint.h>

/* RAM starts at 0 and stops below the 32-bit MMIO hole; the rest of RAM,
 * if any, continues at 4 GiB. */
#define LAYOUT_MMIO_HOLE_START 0xC0000000ULL /* 3 GiB */
#define LAYOUT_HIGH_RAM_START 0x100000000ULL /* 4 GiB */

/* PCI memory BARs are assigned from this window, inside the hole. */
#define LAYOUT_PCI_MMIO_START 0xC0000000ULL
#define LAYOUT_PCI_MMIO_END 0xFEC00000ULL /* exclusive; IOAPIC follows */
/* PCI I/O BARs (if any device wants one). */
#define LAYOUT_PCI_PIO_START 0xC000U
#define LAYOUT_PCI_PIO_END 0x10000U

#define LAYOUT_IOAPIC_ADDR 0xFEC00000ULL
#define LAYOUT_LAPIC_ADDR 0xFEE00000ULL

/* KVM needs three pages for the TSS and one for the identity map, inside
 * the hole and away from everything above. */
#define LAYOUT_KVM_IDENTITY_MAP 0xFFFFC000ULL
#define LAYOUT_KVM_TSS 0xFFFFD000ULL

/* Boot structures the VMM writes into low RAM before the first
 * instruction.  All of it is usable RAM to the guest afterwards (the
 * kernel copies what it needs early), except the BIOS-area tables. */
#define LAYOUT_BOOT_GDT 0x500ULL           /* 4 descriptors */
#define LAYOUT_BOOT_PVH_INFO 0x6000ULL     /* hvm_start_info, modlist, memmap */
#define LAYOUT_BOOT_ZERO_PAGE 0x7000ULL    /* struct boot_params */
#define LAYOUT_BOOT_PML4 0x9000ULL         /* then PDPT and 4 PDs: 6 pages */
#define LAYOUT_BOOT_PAGE_TABLES_END 0xF000ULL
#define LAYOUT_BOOT_CMDLINE 0x20000ULL
#define LAYOUT_BOOT_CMDLINE_MAX 0x10000ULL
/* Legacy areas, reserved in the e820 map: the top KiB of base memory (an
 * EBDA stand-in) and the BIOS ROM area 0xE0000-0xFFFFF, which Linux scans
 * for the ACPI RSDP (0xE0000-0xFFFFF) and the MP floating pointer
 * (0xF0000-0xFFFFF). */
#define LAYOUT_EBDA_START 0x9FC00ULL
#define LAYOUT_VGA_START 0xA0000ULL
#define LAYOUT_BIOS_START 0xE0000ULL
#define LAYOUT_BIOS_END 0x100000ULL
#define LAYOUT_ACPI_START 0xE0000ULL    /* RSDP, then the other tables */
#define LAYOUT_ACPI_END 0xF0000ULL
#define LAYOUT_MPTABLE 0xF0000ULL
/* ACPI hardware-reduced sleep registers (FADT SLEEP_CONTROL/STATUS_REG):
 * the guest's S5 (poweroff) request arrives here. */
#define LAYOUT_ACPI_SLEEP_CONTROL 0x600
#define LAYOUT_ACPI_SLEEP_STATUS 0x601
/* Where a relocatable bzImage goes when its pref_address is unusable. */
#define LAYOUT_KERNEL_DEFAULT 0x1000000ULL /* 16 MiB */

#endif
