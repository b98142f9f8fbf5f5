/* The kernel's own patch sites (Linux): the places in its core text that
 * the kernel itself rewrites after boot through text_poke, and what it may
 * write there. Read once, at the boot lock, from tables in the kernel's
 * image (the profile places them): jump labels (`__jump_table`: static keys
 * and tracepoints) and static calls (`.static_call_sites`, and the
 * trampolines between __static_call_text_start and _end). A write to the
 * text is then judged by what it leaves at the site: a whole instruction
 * of the site's own forms, or the int3 that text_poke_bp puts in front
 * while it rewrites the rest (docs/ids.md, "kernel-text on Linux"). Pure:
 * unit-tested in tests/unit/test_patchsite.c. */
#ifndef VIGIL_IDS_PATCHSITE_H
#define VIGIL_IDS_PATCHSITE_H

#include "lib/types.h"

#define PATCH_MAX_SITES 16384

enum patch_kind {
    PATCH_JUMP = 1,            /* jump label: its NOP, or a JMP to its own target */
    PATCH_CALL,                /* static call site: NOP, CALL into the text, or the return-0 XOR */
    PATCH_TAIL,                /* static call tail site: NOP, JMP into the text, RET */
    PATCH_TRAMP,               /* static call trampoline: JMP into the text, RET */
};

struct patch_site {
    u32 off;                   /* from the text's start */
    u32 target;                /* PATCH_JUMP: the jump's target, from the text's start */
    u8 len, kind;
};

struct patch_sites {
    u64 text, text_len;        /* the core kernel text (run-time addresses) */
    u64 tramp, tramp_end;      /* the static call trampolines */
    u32 n, dropped;
    struct patch_site s[PATCH_MAX_SITES];
};

void patch_sites_init(struct patch_sites *ps, u64 text, u64 text_len, u64 tramp, u64 tramp_end);
/* One site at va of `kind`, whose current bytes are cur[0..n) (for a jump
 * label they give its length: 2 or 5); target: a jump label's. Sites
 * outside the text, or whose bytes are none of the kind's forms, are not
 * kept (returns false); so are those past PATCH_MAX_SITES (counted in
 * dropped). */
bool patch_sites_add(struct patch_sites *ps, u64 va, enum patch_kind kind, u64 target, const u8 *cur, u32 n);
/* Sort them (once, after the last add): patch_site_find needs it. */
void patch_sites_sort(struct patch_sites *ps);
/* The site whose bytes cover va, into *out; false if none. */
bool patch_site_find(const struct patch_sites *ps, u64 va, struct patch_site *out);
/* The site's bytes b[0..len) are acceptable: one of its forms whole, or an
 * int3 in its first byte (text_poke_bp at work: the CPU traps there until
 * the last byte is written; how long that may last is the caller's to
 * judge). */
bool patch_site_ok(const struct patch_sites *ps, const struct patch_site *site, const u8 *b);
/* b is one of the site's forms whole (no int3). */
bool patch_site_form(const struct patch_sites *ps, const struct patch_site *site, const u8 *b);

#endif
