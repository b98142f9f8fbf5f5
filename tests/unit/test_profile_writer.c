/* Unit tests for guest/tools/profile.c, the host-side writer of
 * build/testos.profile: nm parsing and the profile format (docs/testos.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "guest/tools/profile.c"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

static const char NM[] =
    "ffffffff80107000 T __text_start\n"
    "ffffffff8010f000 R __text_end\n"
    "\n"
    "ffffffff8014fa98 0000000000000008 B proc_list\n"
    "ffffffff8010fa20 0000000000000050 R syscall_table\n"
    "ffffffff8010c260 000000000000000b T sys_getpid\n"
    "ffffffff80000000 A KERNEL_VMA_OFFSET\n";

static struct nm_sym syms[32];
static char err[256];

static void test_nm_parse_sized_and_unsized(void **state)
{
    (void)state;
    int n = nm_parse(NM, syms, 32, err, sizeof err);
    assert_int_equal(n, 6);
    const struct nm_sym *s = nm_find(syms, n, "proc_list");
    assert_non_null(s);
    assert_true(s->has_size);
    assert_int_equal(s->size, 8);
    assert_int_equal(s->type, 'B');
    assert_true(s->addr == 0xffffffff8014fa98ull);
    s = nm_find(syms, n, "__text_start");
    assert_non_null(s);
    assert_false(s->has_size);
    assert_null(nm_find(syms, n, "nothing"));
}

static void test_nm_parse_rejects_garbage(void **state)
{
    (void)state;
    assert_int_equal(nm_parse("ffff T ok\nnot an nm line at all here\n", syms, 32, err, sizeof err), -1);
    assert_non_null(strstr(err, "line 2"));
    assert_int_equal(nm_parse("zzzz T bad_hex\n", syms, 32, err, sizeof err), -1);
    assert_int_equal(nm_parse("", syms, 32, err, sizeof err), 0);
}

static void test_nm_parse_caps_at_max(void **state)
{
    (void)state;
    assert_int_equal(nm_parse(NM, syms, 2, err, sizeof err), 2);
}

static const struct prof_value values[] = {
    { "kernel_virt_base", "KERNEL_VMA_OFFSET", 0 },
    { "direct_map_limit", NULL, 0x1800000 },
};
static const struct prof_symbol symbols[] = {
    { "kernel_text", "__text_start", "__text_end" },
    { "proc_list", "proc_list", NULL },
    { "syscall_table", "syscall_table", NULL },
};
static const struct prof_syscall calls[] = { { 2, "getpid", "sys_getpid" } };
static const struct prof_field fields[] = {
    { "proc", NULL, 0, 136 },
    { "proc", "pid", 0, 4 },
    { "proc", "cr3", 24, 8 },
};
static const struct prof_const consts[] = { { "proc.state.runnable", 1 } };

static char *write_profile(const struct prof_spec *spec, int *rc)
{
    int n = nm_parse(NM, syms, 32, err, sizeof err);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    *rc = profile_write(f, spec, syms, n, err, sizeof err);
    fclose(f);
    return buf;
}

static void test_profile_lines(void **state)
{
    (void)state;
    struct prof_spec spec = { "testos", 1, values, 2, symbols, 3, calls, 1, fields, 3, consts, 1 };
    int rc;
    char *out = write_profile(&spec, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "\nprofile testos 1\narch x86_64\n"));
    assert_non_null(strstr(out, "\nkernel_virt_base 0xffffffff80000000\n"));
    assert_non_null(strstr(out, "\ndirect_map_limit 0x1800000\n"));
    assert_non_null(strstr(out, "\nsymbol kernel_text 0xffffffff80107000 32768\n"));
    assert_non_null(strstr(out, "\nsymbol proc_list 0xffffffff8014fa98 8\n"));
    assert_non_null(strstr(out, "\nsymbol syscall_table 0xffffffff8010fa20 80\n"));
    assert_non_null(strstr(out, "\nsyscall 2 getpid 0xffffffff8010c260\n"));
    assert_non_null(strstr(out, "\nstruct proc 136\n"));
    assert_non_null(strstr(out, "\nstruct proc.pid 0 4\n"));
    assert_non_null(strstr(out, "\nstruct proc.cr3 24 8\n"));
    assert_non_null(strstr(out, "\nconst proc.state.runnable 1\n"));
    /* Every line is a comment or a record of at least two fields. */
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
        assert_true(line[0] == '#' || strchr(line, ' '));
    free(out);
}

static void test_profile_missing_symbol(void **state)
{
    (void)state;
    static const struct prof_symbol missing[] = { { "idt", "idt", NULL } };
    struct prof_spec spec = { "testos", 1, NULL, 0, missing, 1, NULL, 0, NULL, 0, NULL, 0 };
    int rc;
    free(write_profile(&spec, &rc));
    assert_int_equal(rc, -1);
    assert_string_equal(err, "symbol idt not in the kernel's symbol table");
}

static void test_profile_range_backwards(void **state)
{
    (void)state;
    static const struct prof_symbol back[] = { { "kernel_text", "__text_end", "__text_start" } };
    struct prof_spec spec = { "testos", 1, NULL, 0, back, 1, NULL, 0, NULL, 0, NULL, 0 };
    int rc;
    free(write_profile(&spec, &rc));
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, "ends before it starts"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nm_parse_sized_and_unsized),
        cmocka_unit_test(test_nm_parse_rejects_garbage),
        cmocka_unit_test(test_nm_parse_caps_at_max),
        cmocka_unit_test(test_profile_lines),
        cmocka_unit_test(test_profile_missing_symbol),
        cmocka_unit_test(test_profile_range_backwards),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
