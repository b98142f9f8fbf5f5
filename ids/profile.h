/* The guest OS profile: kernel symbols and structure layouts that bridge
 * the semantic gap (docs/profile.md gives the text format: testos's, and
 * Linux's from scripts/linuxprofile.py). Pure: parsed from the `profile`
 * module, unit-tested and fuzzed.
 *
 * A `kaslr 1` profile (Linux) holds link-time addresses: the kernel moves
 * at boot, virtually and physically. Until the engine has learned where
 * (profile_place) such a profile places nothing: profile_symbol and
 * profile_sym find no symbol and profile_kva_to_pa translates nothing.
 * Afterwards both give run-time (slid) addresses. A profile without
 * `kaslr` is placed from the start, with a slide of 0. */
#ifndef VIGIL_IDS_PROFILE_H
#define VIGIL_IDS_PROFILE_H

#include "lib/types.h"

#define PROFILE_MAX_SYMS 64
#define PROFILE_MAX_FIELDS 64
#define PROFILE_MAX_CONSTS 32
#define PROFILE_NAME 40

struct profile {
    char os[24];
    char release[48];              /* `release`: the kernel's release string, if given */
    bool kaslr;                    /* `kaslr 1`: link-time addresses, placed at run time */
    bool placed;                   /* where the image is is known (always, without kaslr) */
    u64 slide;                     /* run-time virtual address - link-time address */
    u64 phys_start;                /* guest-physical address of kernel_phys_start's byte at run time */
    u64 kernel_virt_base, kernel_phys_start, kernel_phys_end;
    u64 direct_map_base, direct_map_limit, user_top;
    u32 nsyms, nfields, nconsts;
    struct { char name[PROFILE_NAME]; u64 addr, size; } syms[PROFILE_MAX_SYMS];
    struct { char name[PROFILE_NAME]; u64 off, size; } fields[PROFILE_MAX_FIELDS];
    struct { char name[PROFILE_NAME]; u64 value; } consts[PROFILE_MAX_CONSTS];
};

/* A profile line's words, split in place at spaces (a # word and what
 * follows are a comment): at most max, into w. */
u32 profile_words(char *line, char **w, u32 max);

/* Returns 0, or -1 with "profile line N: ..." in err. */
int profile_parse(const char *text, size_t len, struct profile *p, char *err, size_t errlen);

/* A symbol's run-time address (slid) and size; false if the profile does
 * not name it or is not placed yet. */
bool profile_symbol(const struct profile *p, const char *name, u64 *addr, u64 *size);
/* The same, as a value: 0 when unknown or not placed. For the policies:
 * profile_sym(&ids.prof, "init_task"). */
u64 profile_sym(const struct profile *p, const char *name);
/* The link-time address, as written in the profile, placed or not. */
bool profile_link_symbol(const struct profile *p, const char *name, u64 *addr);
/* Place a kaslr profile: the virtual slide, and the guest-physical address
 * the image's kernel_phys_start byte has at run time. Returns false (and
 * places nothing) when the slide moves the image out of the top 2 GiB, is
 * not 4 KiB-aligned, or phys_start is not 4 KiB-aligned. */
bool profile_place(struct profile *p, u64 slide, u64 phys_start);
bool profile_is_linux(const struct profile *p);
/* "proc.cr3" style names; also "proc" for the structure's size. */
bool profile_field(const struct profile *p, const char *name, u64 *off, u64 *size);
bool profile_const(const struct profile *p, const char *name, u64 *value);
/* Kernel image virtual address (run time) to guest-physical (0 if outside
 * the image, or not placed). */
u64 profile_kva_to_pa(const struct profile *p, u64 va);

#endif
