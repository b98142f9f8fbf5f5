/* SMBIOS, for the machine's identity: the entry point (in the BIOS ROM
 * area) and the System Information structure's UUID. Pure: what firmware
 * wrote is checked before it is used (unit tests and a fuzz target). */
#ifndef VIGIL_VMM_SMBIOS_H
#define VIGIL_VMM_SMBIOS_H

#include "lib/types.h"

/* The entry point in area (searched on 16-byte boundaries): "_SM3_" (64-bit) or "_SM_" (32-bit), its checksum
 * right. Gives the structure table's physical address and its length (for
 * SMBIOS 3, the maximum). */
bool smbios_find(const u8 *area, size_t len, u64 *table, u32 *table_len);
/* The type 1 structure's UUID as text (36 characters and a NUL), the
 * first three fields little-endian as SMBIOS 2.6 says. False when the
 * table has no type 1 structure, it is too short to hold a UUID, or the
 * UUID is all zeros (not present) or all ones (not set). */
bool smbios_uuid(const u8 *table, size_t len, char out[37]);

#endif
