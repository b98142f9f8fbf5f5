/* Device DMA under vigil (docs/design.md, "Device DMA"): PCI configuration
 * space through 0xcf8/0xcfc is vigil's to carry out, the IDE bus master of
 * a PIIX/ICH controller is mediated (every PRD table checked and handed to
 * the device as vigil's own copy), and every other device's bus-master
 * enable stays off unless the IDS allows it. */
#ifndef VIGIL_VMM_PCI_H
#define VIGIL_VMM_PCI_H

#include "lib/types.h"
#include "vmm/vcpu.h"
#include "vmm/memmap.h"
#include "arch/x86_64/multiboot2.h"

/* Before EPT is built: the MMCONFIG windows of the ACPI MCFG table, which
 * vigil leaves out of EPT (the guest reaches configuration space only
 * through the ports vigil mediates). Appends them to holes[*n] (at most
 * max) and returns false, with the reason printed, when they do not fit. */
bool pci_mcfg_holes(const struct boot_info *bi, struct mem_range *holes, u32 *n, u32 max);
/* With VT-d on: the pages of [gpa, gpa+len) read-only for every device (or
 * out of reach, read_too), in force when this returns. False when the
 * tables cannot be split (their spare tables are used up). */
bool pci_vtd_protect(u64 gpa, u64 len, bool read_too);
/* Before the guest runs, with the page pool still open: find the mediated
 * IDE controller on bus 0, take its shadow PRD pages, trap the ports. */
void pci_init(void);
/* After IDS_EV_START: every device on bus 0 that vigil does not mediate
 * and the IDS does not allow loses its bus-master enable, named. */
void pci_boot_scan(void);
/* Is any port of this access one vigil carries out itself? */
bool pci_owns(u16 port, u32 size);
/* Carry it out (an IN's result goes to RAX); string I/O is refused (#GP). */
enum exit_action pci_io(struct vcpu *v, u16 port, u32 size, bool in, bool string, u32 val);
void pci_print_summary(void);

#endif
