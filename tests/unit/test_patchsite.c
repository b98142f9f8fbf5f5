/* Unit tests for ids/patchsite.c: the kernel's own patch sites and the
 * forms that may be written there. A jump label accepts only its NOP and a
 * JMP to its own target, of its own length; a static call site a NOP, the
 * return-0 XOR or a CALL into the text; a trampoline a JMP into the text or
 * a RET; an int3 in the first byte is text_poke_bp at work. A jmp to a
 * module address, a call at a jump label, a byte past a site, or any write
 * between sites is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ids/patchsite.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

#define TEXT 0xffffffff81000000ull
#define TLEN 0x00e01d32ull
#define TRAMP (TEXT + 0xe00010)
#define TRAMP_END (TEXT + 0xe01580)

static struct patch_sites ps;

static const u8 nop2[2] = { 0x66, 0x90 };
static const u8 nop5[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };

static void rel(u8 *b, u8 op, u64 at, u64 to, u32 len)
{
    b[0] = op;
    if (len == 2) {
        b[1] = (u8)(s8)(to - (at + 2));
        return;
    }
    s32 r = (s32)(to - (at + 5));
    memcpy(b + 1, &r, 4);
}

static int setup(void **st)
{
    (void)st;
    patch_sites_init(&ps, TEXT, TLEN, TRAMP, TRAMP_END);
    u8 b[5];
    /* added out of order: the sort puts them right */
    assert_true(patch_sites_add(&ps, TEXT + 0x5000, PATCH_JUMP, TEXT + 0x5040, nop5, 5));
    assert_true(patch_sites_add(&ps, TEXT + 0x1000, PATCH_JUMP, TEXT + 0x1010, nop2, 5));
    rel(b, 0xe8, TEXT + 0x3000, TEXT + 0x200000, 5);
    assert_true(patch_sites_add(&ps, TEXT + 0x3000, PATCH_CALL, 0, b, 5));
    rel(b, 0xe9, TEXT + 0x4000, TEXT + 0x9000, 5);
    assert_true(patch_sites_add(&ps, TEXT + 0x4000, PATCH_TAIL, 0, b, 5));
    patch_sites_sort(&ps);
    return 0;
}

static void test_sort_and_find(void **st)
{
    (void)st;
    assert_int_equal(ps.n, 4);
    for (u32 i = 1; i < ps.n; i++)
        assert_true(ps.s[i - 1].off < ps.s[i].off);
    struct patch_site s;
    assert_true(patch_site_find(&ps, TEXT + 0x1001, &s));
    assert_int_equal(s.len, 2);
    assert_int_equal(s.kind, PATCH_JUMP);
    assert_false(patch_site_find(&ps, TEXT + 0x1002, &s));          /* past the 2-byte site */
    assert_true(patch_site_find(&ps, TEXT + 0x5004, &s));
    assert_int_equal(s.len, 5);
    assert_false(patch_site_find(&ps, TEXT + 0x5005, &s));
    assert_false(patch_site_find(&ps, TEXT + 0xfff, &s));
    assert_false(patch_site_find(&ps, TEXT + 0x123456, &s));        /* an ordinary function */
    assert_false(patch_site_find(&ps, TEXT - 1, &s));
    /* trampolines: 8 bytes each, 5 of them patched */
    assert_true(patch_site_find(&ps, TRAMP + 0x490 + 4, &s));
    assert_int_equal(s.kind, PATCH_TRAMP);
    assert_int_equal(s.off, TRAMP + 0x490 - TEXT);
    assert_false(patch_site_find(&ps, TRAMP + 0x490 + 5, &s));      /* its ud1 */
}

static void test_jump_label_forms(void **st)
{
    (void)st;
    struct patch_site s;
    u8 b[5];
    assert_true(patch_site_find(&ps, TEXT + 0x5000, &s));
    assert_true(patch_site_ok(&ps, &s, nop5));
    rel(b, 0xe9, TEXT + 0x5000, TEXT + 0x5040, 5);
    assert_true(patch_site_ok(&ps, &s, b));
    rel(b, 0xe9, TEXT + 0x5000, TEXT + 0x5041, 5);                  /* not its target */
    assert_false(patch_site_ok(&ps, &s, b));
    rel(b, 0xe8, TEXT + 0x5000, TEXT + 0x5040, 5);                  /* a call, not a jump */
    assert_false(patch_site_ok(&ps, &s, b));
    b[0] = 0xcc;                                                    /* text_poke_bp's int3 */
    assert_true(patch_site_ok(&ps, &s, b));
    assert_false(patch_site_form(&ps, &s, b));
    assert_true(patch_site_find(&ps, TEXT + 0x1000, &s));
    assert_true(patch_site_ok(&ps, &s, nop2));
    rel(b, 0xeb, TEXT + 0x1000, TEXT + 0x1010, 2);
    assert_true(patch_site_ok(&ps, &s, b));
    rel(b, 0xeb, TEXT + 0x1000, TEXT + 0x1020, 2);
    assert_false(patch_site_ok(&ps, &s, b));
    u8 bad[2] = { 0x90, 0x90 };
    assert_false(patch_site_ok(&ps, &s, bad));
}

static void test_static_call_forms(void **st)
{
    (void)st;
    struct patch_site s;
    u8 b[5];
    assert_true(patch_site_find(&ps, TEXT + 0x3000, &s));
    assert_true(patch_site_ok(&ps, &s, nop5));
    rel(b, 0xe8, TEXT + 0x3000, TEXT + 0x400, 5);
    assert_true(patch_site_ok(&ps, &s, b));
    rel(b, 0xe8, TEXT + 0x3000, 0xffffffffc0001000ull, 5);          /* a module's function */
    assert_false(patch_site_ok(&ps, &s, b));
    u8 x[5] = { 0x2e, 0x2e, 0x2e, 0x31, 0xc0 };
    assert_true(patch_site_ok(&ps, &s, x));
    rel(b, 0xe9, TEXT + 0x3000, TEXT + 0x400, 5);                   /* not a tail call site */
    assert_false(patch_site_ok(&ps, &s, b));
    assert_true(patch_site_find(&ps, TEXT + 0x4000, &s));
    rel(b, 0xe9, TEXT + 0x4000, TEXT + 0x400, 5);
    assert_true(patch_site_ok(&ps, &s, b));
    u8 r[5] = { 0xc3, 0xcc, 0xcc, 0xcc, 0xcc };
    assert_true(patch_site_ok(&ps, &s, r));
    assert_true(patch_site_find(&ps, TRAMP + 8, &s));
    u8 r2[5] = { 0xc3, 0xcc, 0x90, 0x90, 0x90 };
    assert_true(patch_site_ok(&ps, &s, r2));
    assert_false(patch_site_ok(&ps, &s, nop5));                     /* a trampoline is never a NOP */
    rel(b, 0xe9, TRAMP + 8, 0xffffffffc0001000ull, 5);
    assert_false(patch_site_ok(&ps, &s, b));
    rel(b, 0xe9, TRAMP + 8, TEXT + 0x77777, 5);
    assert_true(patch_site_ok(&ps, &s, b));
}

static void test_add_refuses(void **st)
{
    (void)st;
    struct patch_sites *p = malloc(sizeof(*p));
    patch_sites_init(p, TEXT, TLEN, TRAMP, TRAMP_END);
    u8 junk[5] = { 0x55, 0x48, 0x89, 0xe5, 0x90 };
    assert_false(patch_sites_add(p, TEXT + 0x100, PATCH_JUMP, TEXT + 0x110, junk, 5));   /* not a jump label's form */
    assert_false(patch_sites_add(p, TEXT + TLEN, PATCH_JUMP, TEXT + 0x110, nop5, 5));     /* outside the text */
    assert_false(patch_sites_add(p, TEXT + 0x100, PATCH_JUMP, 0xffffffffc0000000ull, nop5, 5));
    assert_false(patch_sites_add(p, TEXT + 0x100, PATCH_JUMP, TEXT + 0x110, nop5, 4));   /* too few bytes */
    assert_int_equal(p->n, 0);
    for (u32 i = 0; i < PATCH_MAX_SITES + 3; i++)
        patch_sites_add(p, TEXT + 0x10 * (u64)(PATCH_MAX_SITES + 3 - i), PATCH_JUMP, TEXT, nop5, 5);
    assert_int_equal(p->n, PATCH_MAX_SITES);
    assert_int_equal(p->dropped, 3);
    patch_sites_sort(p);
    for (u32 i = 1; i < p->n; i++)
        assert_true(p->s[i - 1].off < p->s[i].off);
    struct patch_site s;
    assert_true(patch_site_find(p, TEXT + 0x40, &s));
    assert_int_equal(s.off, 0x40);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_sort_and_find, setup),
        cmocka_unit_test_setup(test_jump_label_forms, setup),
        cmocka_unit_test_setup(test_static_call_forms, setup),
        cmocka_unit_test(test_add_refuses),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
