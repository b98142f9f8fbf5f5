/* The machine's processors from firmware tables: the ACPI MADT (ACPI 6.5,
 * 5.2.12 "Multiple APIC Description Table") or, on machines without ACPI,
 * the Intel MultiProcessor Specification 1.4 tables (chapter 4). Pure and
 * bounds-checked: the input is untrusted firmware memory, every length is
 * checked before it is used, every multi-byte field is read unaligned, and
 * anything malformed is refused with a message rather than half-accepted. */
#ifndef VIGIL_VMM_MADT_H
#define VIGIL_VMM_MADT_H

#include "lib/types.h"

#define CPU_TABLE_MAX 64            /* processors vigil records; more are counted in `dropped` */

struct cpu_entry {
    u32 apic_id;                    /* local APIC ID (x2APIC ID for type-9 entries) */
    u32 uid;                        /* ACPI processor UID (MP table: 0) */
    bool enabled;                   /* MADT flags bit 0 / MP CPU flags EN */
    bool online_capable;            /* MADT flags bit 1 (ACPI 6.3+) */
    bool x2apic;                    /* from a Processor Local x2APIC structure (type 9) */
    bool bsp;                       /* MP table: CPU flags BP bit; MADT: false (the caller decides) */
};

struct cpu_table {
    u64 lapic_addr;                 /* MADT Local Interrupt Controller Address, overridden by a type-5 Local APIC Address Override; MP: the config table's local APIC address */
    u32 count;                      /* entries in cpu[] */
    u32 dropped;                    /* processor entries beyond CPU_TABLE_MAX */
    struct cpu_entry cpu[CPU_TABLE_MAX];
};

/* Parse an ACPI MADT ("APIC" signature, header length field, checksum over the whole length).
 * len is how many bytes of t may be read at most. Records type 0 (Processor Local APIC:
 * ACPI UID, APIC ID, flags), type 9 (Processor Local x2APIC: x2APIC ID, flags, UID) and type 5
 * (64-bit local APIC address override; the last one wins); skips other types by their length.
 * An entry longer than its type requires is accepted (later ACPI revisions may extend it).
 * Entries that are neither enabled nor online-capable are still recorded (the caller decides).
 * Two exceptions: a type-0 entry with APIC ID 0xff and a type-9 entry with x2APIC ID
 * 0xffffffff are skipped, not recorded: those IDs are the broadcast address, never a
 * processor's, and firmware uses them for placeholder entries (Linux ignores them too, see
 * its "x86/acpi: Prevent LAPIC id 0xff from being accounted").
 * A duplicate APIC ID is an error; type-0 and type-9 IDs are one name space, and an entry
 * beyond CPU_TABLE_MAX is still checked against the recorded ones. Returns 0, or -1 with a
 * message in err naming the offset, entry type and field (for example "MADT: entry at offset
 * 0x2c (type 0) has length 0, which would loop forever").
 * Errors: too short for the header (44 bytes), wrong signature, length field larger than len or
 * smaller than 44, bad checksum (say the sum seen), an entry header crossing the end, an entry
 * length < 2 or crossing the end, an entry shorter than its type requires (type 0: 8, type 9: 16,
 * type 5: 12), duplicate APIC ID. Bytes of t past the length field are ignored. *out is
 * cleared first; after an error it holds what was parsed so far and must not be used.
 * err may be NULL (errlen 0). */
int madt_parse(const u8 *t, size_t len, struct cpu_table *out, char *err, size_t errlen);

/* Find the MP floating pointer structure ("_MP_", 16 bytes, 16-byte aligned, checksum 0, length
 * field 1) in mem[0..len), which holds physical memory starting at `base` (alignment is of the
 * physical address base + offset). The specification puts it in the first KiB of the EBDA, the
 * last KiB of base memory or the BIOS ROM at 0xf0000-0xfffff; the caller passes each region.
 * Returns true and the physical address of the configuration table (the pointer's PHYSICAL
 * ADDRESS POINTER field) in *config; false if none is found or it has no configuration table.
 * A pointer of 0 means one of the specification's default configurations (feature byte 1
 * names which), which vigil does not support: the first valid floating pointer decides, and
 * with a 0 pointer the answer is false. *config is written only when true is returned. */
bool mp_find(const u8 *mem, size_t len, u64 base, u64 *config);

/* Parse an MP configuration table ("PCMP", base table length, checksum, entry count), len bytes
 * readable at most. Records processor entries (type 0, 20 bytes: local APIC ID, CPU flags EN bit 0
 * and BP bit 1); skips bus (1, 8 bytes), I/O APIC (2, 8), I/O interrupt (3, 8) and local interrupt
 * (4, 8) entries; an unknown entry type is an error (its length is unknown). Same error rules as
 * madt_parse (header 44 bytes, length field against len and 44, checksum over the base table,
 * an entry starting at or crossing the end of the base table, duplicate APIC ID; no broadcast-ID
 * exception). Exactly the entry count's entries are read; the extended table and any bytes
 * after the last entry are ignored. */
int mp_parse(const u8 *t, size_t len, struct cpu_table *out, char *err, size_t errlen);

#endif
