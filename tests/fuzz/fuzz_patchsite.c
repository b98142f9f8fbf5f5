/* libFuzzer target: ids/patchsite.c, the kernel's patch sites, from tables
 * the guest controls (its __jump_table and .static_call_sites are read from
 * guest memory at the boot lock). The input is a list of 16-byte records:
 *   bytes 0-3    the site's offset from the text's start (anywhere, even
 *                outside the text)
 *   byte  4      its kind (any value)
 *   bytes 5-7    a jump label's target offset
 *   bytes 8-15   the bytes there now, then the bytes a write leaves
 * Every record is added (kept or refused), the table sorted, and then each
 * record's address looked up and its bytes judged. The table must stay
 * sorted and within bounds, a found site must cover the address looked up
 * and lie inside the text, and a form judged whole is also acceptable. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ids/patchsite.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

#define check(ok) do { if (!(ok)) { fprintf(stderr, "fuzz_patchsite: line %d: %s\n", __LINE__, #ok); abort(); } } while (0)

#define TEXT 0xffffffff81000000ull
#define TLEN 0xe01d32ull

static struct patch_sites ps;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    patch_sites_init(&ps, TEXT, TLEN, TEXT + 0xe00010, TEXT + 0xe01580);
    size_t n = size / 16;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *r = data + 16 * i;
        u32 off, tgt = 0;
        memcpy(&off, r, 4);
        memcpy(&tgt, r + 5, 3);
        u8 cur[5];
        memcpy(cur, r + 8, 5);
        patch_sites_add(&ps, TEXT + off, (enum patch_kind)r[4], TEXT + tgt, cur, 5);
        check(ps.n <= PATCH_MAX_SITES);
    }
    patch_sites_sort(&ps);
    for (u32 i = 1; i < ps.n; i++)
        check(ps.s[i - 1].off <= ps.s[i].off);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *r = data + 16 * i;
        u32 off;
        memcpy(&off, r, 4);
        u64 va = TEXT + off + (r[4] & 3);
        struct patch_site s;
        if (!patch_site_find(&ps, va, &s))
            continue;
        check(s.off < TLEN && s.off + 5 <= TLEN);
        check(va >= TEXT + s.off && va < TEXT + s.off + s.len);
        check(s.len == 2 || s.len == 5);
        u8 b[5];
        memcpy(b, r + 11, 5);
        if (patch_site_form(&ps, &s, b))
            check(patch_site_ok(&ps, &s, b));
        b[0] = 0xcc;
        check(patch_site_ok(&ps, &s, b));
    }
    return 0;
}
