/* The guest OS profile: kernel symbols and structure layouts that bridge
 * the semantic gap (docs/testos.md, "Profile", gives the text format).
 * Pure: parsed from the `profile` module, unit-tested and fuzzed. */
#ifndef VIGIL_IDS_PROFILE_H
#define VIGIL_IDS_PROFILE_H

#include "lib/types.h"

#define PROFILE_MAX_SYMS 48
#define PROFILE_MAX_FIELDS 32
#define PROFILE_MAX_CONSTS 32
#define PROFILE_NAME 40

struct profile {
    char os[24];
    u64 kernel_virt_base, kernel_phys_start, kernel_phys_end;
    u64 direct_map_base, direct_map_limit, user_top;
    u32 nsyms, nfields, nconsts;
    struct { char name[PROFILE_NAME]; u64 addr, size; } syms[PROFILE_MAX_SYMS];
    struct { char name[PROFILE_NAME]; u64 off, size; } fields[PROFILE_MAX_FIELDS];
    struct { char name[PROFILE_NAME]; u64 value; } consts[PROFILE_MAX_CONSTS];
};

/* Returns 0, or -1 with "profile line N: ..." in err. */
int profile_parse(const char *text, size_t len, struct profile *p, char *err, size_t errlen);

bool profile_symbol(const struct profile *p, const char *name, u64 *addr, u64 *size);
/* "proc.cr3" style names; also "proc" for the structure's size. */
bool profile_field(const struct profile *p, const char *name, u64 *off, u64 *size);
bool profile_const(const struct profile *p, const char *name, u64 *value);
/* Kernel image virtual address to guest-physical (0 if outside the image). */
u64 profile_kva_to_pa(const struct profile *p, u64 va);

#endif
