/* Interrupt half of the virtio PCI transport (virtio_pci_irq.c); only
 * virtio_pci.c uses this.  Every function expects vp->lock held. */
#ifndef HULL_VMM_VIRTIO_PCI_IRQ_H
#define HULL_VMM_VIRTIO_PCI_IRQ_H

#include <stdint.h>

struct virtio_pci;

void virtio_pci_irq_init (struct virtio_pci *vp);
void virtio_pci_irq_release (struct virtio_pci *vp);
void virtio_pci_irq_signal_queue (struct virtio_pci *vp, unsigned q);
void virtio_pci_irq_signal_config (struct virtio_pci *vp);
/* Reading the ISR returns and clears it, lowering INTx. */
uint8_t virtio_pci_irq_isr_read (struct virtio_pci *vp);
void virtio_pci_irq_isr_clear (struct virtio_pci *vp);
/* The irqfd eventfd of a vector, routed; -1 if none/unavailable. */
int virtio_pci_irq_vector_fd (struct virtio_pci *vp, uint16_t vector);
void virtio_pci_irq_msix_read (struct virtio_pci *vp, uint64_t off,
                               uint8_t *data, uint32_t len);
void virtio_pci_irq_msix_write (struct virtio_pci *vp, uint64_t off,
                                const uint8_t *data, uint32_t len);
void virtio_pci_irq_pba_read (struct virtio_pci *vp, uint64_t off,
                              uint8_t *data, uint32_t len);
/* The guest wrote the MSI-X message control word. */
void virtio_pci_irq_msix_control (struct virtio_pci *vp);

#endif
