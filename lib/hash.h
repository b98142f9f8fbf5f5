/* FNV-1a, 64-bit, fed a quadword at a time: the IDS's content hashes (not
 * a cryptographic hash: it detects changes the guest made, and the guest
 * never chooses what vigil compares it with). And the byte sum that
 * firmware tables (ACPI, MP, SMBIOS) carry as their checksum. */
#ifndef VIGIL_LIB_HASH_H
#define VIGIL_LIB_HASH_H

#include "lib/types.h"

#define FNV64_BASIS 0xcbf29ce484222325ull
#define FNV64_PRIME 0x100000001b3ull

static inline u64 fnv64_add(u64 h, u64 q) { return (h ^ q) * FNV64_PRIME; }

/* Unrolled: a page's 512 quadwords are then two instructions each (an XOR
 * from memory and a multiply), not six. */
static inline u64 fnv64_qwords(u64 h, const u64 *p, u64 n)
{
#pragma GCC unroll 8
    for (u64 i = 0; i < n; i++)
        h = fnv64_add(h, p[i]);
    return h;
}

/* The 8-bit sum of n bytes: 0 for a table whose checksum is right. */
static inline u8 byte_sum(const u8 *p, size_t n)
{
    u8 s = 0;
    for (size_t i = 0; i < n; i++)
        s = (u8)(s + p[i]);
    return s;
}

#endif
