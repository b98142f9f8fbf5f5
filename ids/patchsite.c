/* The kernel's patch sites and the forms the kernel writes there
 * (ids/patchsite.h). The byte forms are those of Linux 6.1's x86
 * text-patching code: the 2- and 5-byte NOPs (66 90; 0f 1f 44 00 00),
 * JMP rel8/rel32, CALL rel32, RET (c3 followed by int3s, or the
 * trampolines' own c3 cc 90 90 90), and the `cs cs cs xor eax,eax` that
 * stands for a call of __static_call_return0. */
#include "ids/patchsite.h"
#include "lib/string.h"

static const u8 nop2[2] = { 0x66, 0x90 };
static const u8 nop5[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };
static const u8 xor5[5] = { 0x2e, 0x2e, 0x2e, 0x31, 0xc0 };

void patch_sites_init(struct patch_sites *ps, u64 text, u64 text_len, u64 tramp, u64 tramp_end)
{
    ps->text = text;
    ps->text_len = text_len;
    ps->tramp = tramp;
    ps->tramp_end = tramp_end;
    ps->n = ps->dropped = 0;
}

static bool in_text(const struct patch_sites *ps, u64 va) { return va - ps->text < ps->text_len; }

static s32 rel32(const u8 *b) { return (s32)((u32)b[1] | (u32)b[2] << 8 | (u32)b[3] << 16 | (u32)b[4] << 24); }

/* b[0..5) is op (E8/E9) rel32 to an address in the text. */
static bool branch_into_text(const struct patch_sites *ps, u64 va, const u8 *b, u8 op)
{
    return b[0] == op && in_text(ps, va + 5 + (u64)(s64)rel32(b));
}

static bool ret5(const u8 *b)
{
    return b[0] == 0xc3 && b[1] == 0xcc &&
           ((b[2] == 0xcc && b[3] == 0xcc && b[4] == 0xcc) || (b[2] == 0x90 && b[3] == 0x90 && b[4] == 0x90));
}

bool patch_site_form(const struct patch_sites *ps, const struct patch_site *s, const u8 *b)
{
    u64 va = ps->text + s->off;
    switch (s->kind) {
    case PATCH_JUMP:
        if (s->len == 2)
            return !memcmp(b, nop2, 2) || (b[0] == 0xeb && va + 2 + (u64)(s64)(s8)b[1] == ps->text + s->target);
        return !memcmp(b, nop5, 5) || (b[0] == 0xe9 && va + 5 + (u64)(s64)rel32(b) == ps->text + s->target);
    case PATCH_CALL:
        return !memcmp(b, nop5, 5) || !memcmp(b, xor5, 5) || branch_into_text(ps, va, b, 0xe8);
    case PATCH_TAIL:
        return !memcmp(b, nop5, 5) || ret5(b) || branch_into_text(ps, va, b, 0xe9);
    case PATCH_TRAMP:
        return ret5(b) || branch_into_text(ps, va, b, 0xe9);
    default:
        return false;
    }
}

bool patch_site_ok(const struct patch_sites *ps, const struct patch_site *s, const u8 *b)
{
    return b[0] == 0xcc || patch_site_form(ps, s, b);
}

bool patch_sites_add(struct patch_sites *ps, u64 va, enum patch_kind kind, u64 target, const u8 *cur, u32 n)
{
    struct patch_site s = { (u32)(va - ps->text), 0, 5, (u8)kind };
    if (!in_text(ps, va) || va + 5 - ps->text > ps->text_len || n < 5 || kind < PATCH_JUMP || kind > PATCH_TRAMP)
        return false;
    if (kind == PATCH_JUMP) {
        if (!in_text(ps, target))
            return false;
        s.target = (u32)(target - ps->text);
        s.len = (!memcmp(cur, nop2, 2) || cur[0] == 0xeb) ? 2 : 5;
    }
    if (!patch_site_ok(ps, &s, cur))
        return false;
    if (ps->n == PATCH_MAX_SITES) {
        ps->dropped++;
        return false;
    }
    ps->s[ps->n++] = s;
    return true;
}

/* Heapsort by offset: no allocation, bounded time. */
static void sift(struct patch_site *a, u32 root, u32 n)
{
    for (;;) {
        u32 c = 2 * root + 1;
        if (c >= n)
            return;
        if (c + 1 < n && a[c + 1].off > a[c].off)
            c++;
        if (a[root].off >= a[c].off)
            return;
        struct patch_site t = a[root];
        a[root] = a[c];
        a[c] = t;
        root = c;
    }
}

void patch_sites_sort(struct patch_sites *ps)
{
    struct patch_site *a = ps->s;
    u32 n = ps->n;
    for (u32 i = n / 2; i-- > 0;)
        sift(a, i, n);
    for (u32 end = n; end > 1; end--) {
        struct patch_site t = a[0];
        a[0] = a[end - 1];
        a[end - 1] = t;
        sift(a, 0, end - 1);
    }
}

bool patch_site_find(const struct patch_sites *ps, u64 va, struct patch_site *out)
{
    if (!in_text(ps, va))
        return false;
    u32 off = (u32)(va - ps->text);
    /* A trampoline: 8 bytes each from the section's start (5 patched, 3 ud1). */
    if (va >= ps->tramp && va < ps->tramp_end) {
        u64 t = ps->tramp + ((va - ps->tramp) & ~7ull);
        if (va - t < 5 && t + 5 <= ps->tramp_end) {
            *out = (struct patch_site){ (u32)(t - ps->text), 0, 5, PATCH_TRAMP };
            return true;
        }
        return false;
    }
    u32 lo = 0, hi = ps->n;                /* the last site starting at or before off */
    while (lo < hi) {
        u32 mid = lo + (hi - lo) / 2;
        if (ps->s[mid].off <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!lo || off - ps->s[lo - 1].off >= ps->s[lo - 1].len)
        return false;
    *out = ps->s[lo - 1];
    return true;
}
