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

#endif
