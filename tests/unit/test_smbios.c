/* Unit tests for vmm/smbios.c: the entry point (SMBIOS 2 and 3, bad
 * checksums, cut short) and the system UUID (present, not present, not
 * set, a type 1 too short, broken structures, strings that never end). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/smbios.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

static u8 area[0x100];

static void fix(u8 *e, size_t n, size_t at)
{
    u8 s = 0;
    e[at] = 0;
    for (size_t i = 0; i < n; i++)
        s += e[i];
    e[at] = (u8)-s;
}

static void ep2(size_t off, u32 table, u16 len)
{
    u8 *e = area + off;
    memset(e, 0, 31);
    memcpy(e, "_SM_", 4);
    e[5] = 31;
    e[6] = 2, e[7] = 8;
    memcpy(e + 0x10, "_DMI_", 5);
    e[0x16] = (u8)len, e[0x17] = (u8)(len >> 8);
    memcpy(e + 0x18, &table, 4);
    fix(e + 0x10, 15, 5);
    fix(e, 31, 4);
}

static void ep3(size_t off, u64 table, u32 max)
{
    u8 *e = area + off;
    memset(e, 0, 24);
    memcpy(e, "_SM3_", 5);
    e[6] = 24;
    e[7] = 3;
    memcpy(e + 0x0c, &max, 4);
    memcpy(e + 0x10, &table, 8);
    fix(e, 24, 5);
}

static void test_entry_point_v2(void **state)
{
    (void)state;
    memset(area, 0, sizeof area);
    ep2(0x40, 0xf1000, 0x1a0);
    u64 t = 0;
    u32 n = 0;
    assert_true(smbios_find(area, sizeof area, &t, &n));
    assert_int_equal(t, 0xf1000);
    assert_int_equal(n, 0x1a0);
    area[0x41] ^= 1;                               /* a bad checksum: not an entry point */
    assert_false(smbios_find(area, sizeof area, &t, &n));
    ep2(0x40, 0xf1000, 0x1a0);
    area[0x55] ^= 1;                               /* the intermediate (_DMI_) checksum */
    assert_false(smbios_find(area, sizeof area, &t, &n));
    ep2(0x40, 0xf1000, 0x1a0);
    assert_false(smbios_find(area, 0x40 + 30, &t, &n));   /* cut short */
    memset(area, 0, sizeof area);
    ep2(0x48, 0xf1000, 0x1a0);                     /* not on a 16-byte boundary */
    assert_false(smbios_find(area, sizeof area, &t, &n));
}

static void test_entry_point_v3_first(void **state)
{
    (void)state;
    memset(area, 0, sizeof area);
    ep2(0x00, 0xf1000, 0x1a0);
    ep3(0x80, 0x123456789ull, 0x2000);
    u64 t = 0;
    u32 n = 0;
    assert_true(smbios_find(area, sizeof area, &t, &n));
    assert_int_equal(t, 0x123456789ull);
    assert_int_equal(n, 0x2000);
}

/* A table: type 0 with strings, type 1 with uuid, end. */
static size_t table(u8 *t, const u8 uuid[16], u8 type1_len)
{
    size_t n = 0;
    u8 bios[0x18] = { 0, 0x18, 0, 0 };
    memcpy(t + n, bios, sizeof bios);
    n += sizeof bios;
    memcpy(t + n, "Vendor\0Version\0\0", 16);
    n += 16;
    u8 sys[0x1b] = { 1, type1_len, 1, 0 };
    memcpy(sys + 8, uuid, 16);
    memcpy(t + n, sys, type1_len);
    n += type1_len;
    t[n++] = 0, t[n++] = 0;                        /* no strings */
    u8 end[4] = { 127, 4, 2, 0 };
    memcpy(t + n, end, 4);
    n += 4;
    t[n++] = 0, t[n++] = 0;
    return n;
}

static void test_uuid(void **state)
{
    (void)state;
    static const u8 u[16] = { 0x78, 0x56, 0x34, 0x12, 0x34, 0x12, 0x78, 0x56,
                              0x9a, 0xbc, 0xde, 0xf0, 0x01, 0x23, 0x45, 0x67 };
    u8 t[128];
    size_t n = table(t, u, 0x1b);
    char out[37];
    assert_true(smbios_uuid(t, n, out));
    assert_string_equal(out, "12345678-1234-5678-9abc-def001234567");
    /* Every shorter table fails cleanly or finds it whole. */
    for (size_t cut = 0; cut < n; cut++) {
        char o[37] = "";
        if (smbios_uuid(t, cut, o))
            assert_string_equal(o, "12345678-1234-5678-9abc-def001234567");
    }
}

static void test_uuid_absent(void **state)
{
    (void)state;
    u8 zero[16] = { 0 }, ones[16], t[128];
    memset(ones, 0xff, sizeof ones);
    char out[37];
    assert_false(smbios_uuid(t, table(t, zero, 0x1b), out));        /* not present */
    assert_false(smbios_uuid(t, table(t, ones, 0x1b), out));        /* not set */
    static const u8 u[16] = { 1 };
    assert_false(smbios_uuid(t, table(t, u, 0x18), out));           /* type 1 too short for a UUID */
    size_t n = table(t, u, 0x1b);
    t[1] = 2;                                                       /* a structure shorter than its header */
    assert_false(smbios_uuid(t, n, out));
    n = table(t, u, 0x1b);
    memset(t + 0x18, 'x', n - 0x18);                                /* strings that never end */
    assert_false(smbios_uuid(t, n, out));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entry_point_v2),
        cmocka_unit_test(test_entry_point_v3_first),
        cmocka_unit_test(test_uuid),
        cmocka_unit_test(test_uuid_absent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
