/* Device DMA the guest can start, the pure part: PCI configuration
 * mechanism #1 decoding (0xcf8/0xcfc), the bus-master enable bit of a
 * configuration write, the SFF-8038i IDE bus-master PRD table (checked and
 * copied into vigil's memory, so what the device reads is what was
 * checked), and the ACPI MCFG table (the MMCONFIG windows). Every input is
 * the guest's or the firmware's: bounded, and anything malformed is refused
 * with a reason. The hardware side is vmm/pci.c. */
#ifndef VIGIL_VMM_PCIDMA_H
#define VIGIL_VMM_PCIDMA_H

#include "lib/types.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA 0xcfc
#define PCI_COMMAND 0x04
#define PCI_COMMAND_MASTER 0x4u        /* bus master enable (command register bit 2) */
#define PCI_BAR4 0x20

/* A configuration access through CONFIG_ADDRESS (its enable bit, bus,
 * device, function, register) and the data port byte. */
struct pci_cfg {
    u8 bus, dev, fn;
    u16 reg;                            /* byte offset of the access's first byte (0-255) */
};

/* Decode an access of `size` bytes at data port `port` (0xcfc-0xcff) under
 * CONFIG_ADDRESS `addr`. False when the enable bit is clear or the access
 * leaves the data register (it is then no configuration access). */
bool pci_cfg_decode(u32 addr, u16 port, u32 size, struct pci_cfg *c);
/* Does a `size`-byte access at register `reg` touch any byte of lo..hi? */
bool pci_cfg_touches(u16 reg, u32 size, u16 lo, u16 hi);
/* A write of `val` (`size` bytes at `reg`): if it carries the command
 * register's low byte with bus master enable set, *had is set and the value
 * with that bit cleared is returned; otherwise val unchanged. */
u32 pci_cfg_strip_master(u16 reg, u32 size, u32 val, bool *had);

/* --- IDE bus-master PRD tables (SFF-8038i; Bochs's PIIX3 reads each entry
 * when it reaches it, so the guest could change a table it pointed the
 * device at: the device gets vigil's copy) -------------------------------- */

#define PRD_MAX_ENTRIES 512            /* one 4 KiB page of entries; a longer table is refused */
#define PRD_EOT 0x80000000u

/* One region the device would move: [addr, addr + len). */
struct prd_region { u64 addr, len; u32 entry; };

enum prd_status {
    PRD_OK,
    PRD_TABLE_UNREADABLE,              /* an entry lies outside guest RAM */
    PRD_NO_END,                        /* no end-of-table bit in PRD_MAX_ENTRIES entries */
    PRD_REFUSED,                       /* a region is forbidden: see why/owner */
};

/* Read `len` bytes of guest-physical memory at gpa; false if that is not guest RAM. */
typedef bool (*prd_read_fn)(void *ctx, u64 gpa, void *buf, u32 len);
/* May the device move [r->addr, r->addr + r->len) (to_memory: the device
 * writes memory)? 0 if so; otherwise a nonzero reason of the caller's, with
 * *hit the first forbidden byte and *owner whatever the caller keeps. */
typedef int (*prd_judge_fn)(void *ctx, const struct prd_region *r, bool to_memory, u64 *hit, u32 *owner);

struct prd_result {
    enum prd_status status;
    u32 entries;                       /* copied into the shadow (with PRD_OK) */
    u64 bytes;                         /* the bytes the table describes */
    struct prd_region bad;             /* PRD_REFUSED: the region refused; otherwise the entry that failed */
    int why;                           /* PRD_REFUSED: the judge's reason */
    u64 hit;
    u32 owner;
};

/* The region of one entry as the device reads it: the address with bit 0
 * ignored, the byte count bits 15:1, 0 meaning 64 KiB. */
struct prd_region prd_entry_region(u32 addr, u32 count, u32 index);

/* Check the guest's table at `table` (bits 1:0 ignored, as the device does)
 * entry by entry and write each checked entry, normalized as the device
 * reads it, into shadow (2 * PRD_MAX_ENTRIES dwords). Nothing in the shadow
 * is valid unless the status is PRD_OK. */
void prd_shadow(u64 table, bool to_memory, prd_read_fn rd, prd_judge_fn judge, void *ctx, u32 *shadow,
                struct prd_result *r);

/* --- ACPI MCFG (PCI Firmware Specification 3.2, 4.1.2) --------------------- */

#define MCFG_MAX 8

/* base is bus 0's configuration space in the segment; the window the
 * table's buses use is [start, end), 1 MiB per bus. */
struct mcfg_window { u64 base, start, end; u16 segment; u8 bus_start, bus_end; };

/* Parse an MCFG table (signature, length and checksum checked; at most
 * `len` bytes read). Returns the number of windows (up to MCFG_MAX), or -1
 * with err naming what was wrong. */
int mcfg_parse(const u8 *t, size_t len, struct mcfg_window *w, u32 max, char *err, size_t errlen);

#endif
