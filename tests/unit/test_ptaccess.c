/* Unit tests for lib/ptaccess.c: the #PF decision and error code for the
 * accesses vigil emulates (SDM Vol. 3, 4.6 access rights, 4.7 error code):
 * every error-code bit vigil sets (P, W/R, U/S, RSVD), CR0.WP, SMAP with
 * and without RFLAGS.AC, implicit supervisor accesses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "lib/ptaccess.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

static const struct pt_access kread = { .wp = true }, kwrite = { .write = true, .wp = true },
                              uread = { .user = true, .wp = true }, uwrite = { .write = true, .user = true, .wp = true };

static u32 fault(enum pt_found f, bool w, bool u, struct pt_access a)
{
    u32 err = 0xdead;
    assert_true(pt_access_faults(f, w, u, &a, &err));
    return err;
}

static void allowed(enum pt_found f, bool w, bool u, struct pt_access a)
{
    u32 err = 0;
    assert_false(pt_access_faults(f, w, u, &a, &err));
}

static void test_not_present(void **state)
{
    (void)state;
    assert_int_equal(fault(PT_FOUND_NOT_PRESENT, true, true, kread), 0);
    assert_int_equal(fault(PT_FOUND_NOT_PRESENT, true, true, kwrite), PF_W);
    assert_int_equal(fault(PT_FOUND_NOT_PRESENT, true, true, uread), PF_U);
    assert_int_equal(fault(PT_FOUND_NOT_PRESENT, true, true, uwrite), PF_W | PF_U);
}

static void test_reserved_bits(void **state)
{
    (void)state;
    assert_int_equal(fault(PT_FOUND_RESERVED, true, true, kread), PF_P | PF_RSVD);
    assert_int_equal(fault(PT_FOUND_RESERVED, true, true, uwrite), PF_P | PF_RSVD | PF_W | PF_U);
}

/* A SIDT into read-only kernel text: #PF error 3 (P, W). */
static void test_supervisor_write_read_only_with_wp(void **state)
{
    (void)state;
    assert_int_equal(fault(PT_FOUND_PAGE, false, false, kwrite), PF_P | PF_W);
    allowed(PT_FOUND_PAGE, false, false, kread);
    allowed(PT_FOUND_PAGE, true, false, kwrite);
}

static void test_supervisor_write_read_only_without_wp(void **state)
{
    (void)state;
    struct pt_access a = kwrite;
    a.wp = false;
    allowed(PT_FOUND_PAGE, false, false, a);
    allowed(PT_FOUND_PAGE, false, true, a);        /* a read-only user page too */
}

static void test_user_mode(void **state)
{
    (void)state;
    assert_int_equal(fault(PT_FOUND_PAGE, true, false, uread), PF_P | PF_U);       /* supervisor page */
    assert_int_equal(fault(PT_FOUND_PAGE, true, false, uwrite), PF_P | PF_W | PF_U);
    assert_int_equal(fault(PT_FOUND_PAGE, false, true, uwrite), PF_P | PF_W | PF_U);  /* read-only user page */
    allowed(PT_FOUND_PAGE, false, true, uread);
    allowed(PT_FOUND_PAGE, true, true, uwrite);
    struct pt_access a = uwrite;                    /* CR0.WP does not matter to user mode */
    a.wp = false;
    assert_int_equal(fault(PT_FOUND_PAGE, false, true, a), PF_P | PF_W | PF_U);
}

static void test_smap(void **state)
{
    (void)state;
    struct pt_access a = kwrite;
    a.smap = true;
    assert_int_equal(fault(PT_FOUND_PAGE, true, true, a), PF_P | PF_W);      /* user page, AC clear */
    a.ac = true;
    allowed(PT_FOUND_PAGE, true, true, a);                                    /* STAC'd */
    allowed(PT_FOUND_PAGE, true, false, a);
    a.ac = false;
    allowed(PT_FOUND_PAGE, true, false, a);                                   /* supervisor page */
    struct pt_access r = kread;
    r.smap = true;
    assert_int_equal(fault(PT_FOUND_PAGE, true, true, r), PF_P);
}

/* Implicit supervisor accesses (the GDT descriptor LTR reads and marks
 * busy): supervisor whatever the CPL, U/S clear in the error code, and SMAP
 * denies user pages even with AC set. */
static void test_implicit_supervisor(void **state)
{
    (void)state;
    struct pt_access a = { .write = true, .user = true, .implicit = true, .wp = true };
    allowed(PT_FOUND_PAGE, true, false, a);                                   /* a supervisor page at CPL 3 */
    assert_int_equal(fault(PT_FOUND_PAGE, false, false, a), PF_P | PF_W);
    assert_int_equal(fault(PT_FOUND_NOT_PRESENT, true, false, a), PF_W);
    a.smap = true;
    a.ac = true;
    assert_int_equal(fault(PT_FOUND_PAGE, true, true, a), PF_P | PF_W);
    a.smap = false;
    allowed(PT_FOUND_PAGE, true, true, a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_present),
        cmocka_unit_test(test_reserved_bits),
        cmocka_unit_test(test_supervisor_write_read_only_with_wp),
        cmocka_unit_test(test_supervisor_write_read_only_without_wp),
        cmocka_unit_test(test_user_mode),
        cmocka_unit_test(test_smap),
        cmocka_unit_test(test_implicit_supervisor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
