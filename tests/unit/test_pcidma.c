/* Unit tests for vmm/pcidma.c: PCI configuration mechanism #1 decoding, the
 * bus-master bit of a configuration write, the IDE bus-master PRD check and
 * copy (every entry judged, byte count 0 meaning 64 KiB, bit 0 ignored as
 * the device ignores it, the end-of-table bit, a table with no end, a table
 * outside guest RAM, an entry crossing into a forbidden range, the copy
 * normalized as the device reads it), and the ACPI MCFG parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/pcidma.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

/* --- configuration access decoding ------------------------------------------ */

static void test_decode(void **state)
{
    (void)state;
    struct pci_cfg c;
    u32 a = 1u << 31 | 0 << 16 | 1 << 11 | 1 << 8 | 0x04;
    assert_true(pci_cfg_decode(a, 0xcfc, 4, &c));
    assert_int_equal(c.bus, 0);
    assert_int_equal(c.dev, 1);
    assert_int_equal(c.fn, 1);
    assert_int_equal(c.reg, 4);
    assert_true(pci_cfg_decode(a | 0x20 | 3u << 16, 0xcfe, 2, &c));
    assert_int_equal(c.bus, 3);
    assert_int_equal(c.reg, 0x26);
    assert_true(pci_cfg_decode(a, 0xcff, 1, &c));
    assert_int_equal(c.reg, 7);
    /* The low two bits of CONFIG_ADDRESS are not part of the register. */
    assert_true(pci_cfg_decode(a | 3, 0xcfc, 1, &c));
    assert_int_equal(c.reg, 4);
}

static void test_decode_refuses(void **state)
{
    (void)state;
    struct pci_cfg c;
    assert_false(pci_cfg_decode(0x80000000u & 0, 0xcfc, 4, &c));      /* enable bit clear */
    assert_false(pci_cfg_decode(0x80000000u, 0xcfd, 4, &c));           /* runs past 0xcff */
    assert_false(pci_cfg_decode(0x80000000u, 0xcfe, 4, &c));
    assert_false(pci_cfg_decode(0x80000000u, 0xcfb, 1, &c));           /* not the data port */
    assert_false(pci_cfg_decode(0x80000000u, 0xcfc, 0, &c));
}

static void test_strip_master(void **state)
{
    (void)state;
    bool had;
    assert_int_equal(pci_cfg_strip_master(4, 4, 0x02800007, &had), 0x02800003);
    assert_true(had);
    assert_int_equal(pci_cfg_strip_master(4, 2, 0x0005, &had), 0x0001);
    assert_true(had);
    assert_int_equal(pci_cfg_strip_master(4, 1, 0x04, &had), 0);
    assert_true(had);
    /* A word at offset 2 (status) or a byte at 5 carries no bus-master bit. */
    assert_int_equal(pci_cfg_strip_master(6, 2, 0xffff, &had), 0xffff);
    assert_false(had);
    assert_int_equal(pci_cfg_strip_master(5, 1, 0xff, &had), 0xff);
    assert_false(had);
    /* A doubleword at 0 does not reach the command register either. */
    assert_int_equal(pci_cfg_strip_master(0, 4, 0xffffffff, &had), 0xffffffff);
    assert_false(had);
    assert_int_equal(pci_cfg_strip_master(4, 4, 0x3, &had), 0x3);
    assert_false(had);
}

static void test_touches(void **state)
{
    (void)state;
    assert_true(pci_cfg_touches(0x20, 4, 0x20, 0x23));
    assert_true(pci_cfg_touches(0x22, 2, 0x20, 0x23));
    assert_true(pci_cfg_touches(0x1e, 4, 0x20, 0x23));
    assert_false(pci_cfg_touches(0x1c, 4, 0x20, 0x23));
    assert_false(pci_cfg_touches(0x24, 4, 0x20, 0x23));
}

/* --- PRD tables ------------------------------------------------------------- */

#define MEM_SIZE 0x40000
static u8 mem[MEM_SIZE];
static u64 forbid_lo, forbid_hi;         /* the forbidden range (device writes only) */
static u64 leak_lo, leak_hi;             /* forbidden in both directions */
static u32 reads;

static bool rd(void *ctx, u64 gpa, void *buf, u32 len)
{
    (void)ctx;
    reads++;
    if (gpa > MEM_SIZE - len)
        return false;
    memcpy(buf, mem + gpa, len);
    return true;
}

static int judge(void *ctx, const struct prd_region *r, bool to_memory, u64 *hit, u32 *owner)
{
    (void)ctx;
    if (r->addr < leak_hi && r->addr + r->len > leak_lo) {
        *hit = r->addr > leak_lo ? r->addr : leak_lo;
        *owner = 1;
        return 1;
    }
    if (to_memory && r->addr < forbid_hi && r->addr + r->len > forbid_lo) {
        *hit = r->addr > forbid_lo ? r->addr : forbid_lo;
        *owner = 7;
        return 2;
    }
    return 0;
}

static u32 shadow[2 * PRD_MAX_ENTRIES];

static void entry(u64 table, u32 i, u32 addr, u32 count)
{
    memcpy(mem + table + 8 * i, &addr, 4);
    memcpy(mem + table + 8 * i + 4, &count, 4);
}

static int setup(void **state)
{
    (void)state;
    memset(mem, 0, sizeof(mem));
    memset(shadow, 0xee, sizeof(shadow));
    forbid_lo = 0x20000, forbid_hi = 0x21000;
    leak_lo = 0x30000, leak_hi = 0x31000;
    reads = 0;
    return 0;
}

static void test_prd_ok_copy_normalized(void **state)
{
    (void)state;
    entry(0x1000, 0, 0x8001, 0x0801);       /* bit 0 of address and count: ignored by the device */
    entry(0x1000, 1, 0x9000, PRD_EOT | 0);  /* 0: 64 KiB */
    entry(0x1000, 2, 0x20000, PRD_EOT | 16);/* after the end: never read, never judged */
    struct prd_result r;
    prd_shadow(0x1003, true, rd, judge, 0, shadow, &r);   /* pointer bits 1:0 ignored */
    assert_int_equal(r.status, PRD_OK);
    assert_int_equal(r.entries, 2);
    assert_int_equal(r.bytes, 0x800 + 0x10000);
    assert_int_equal(shadow[0], 0x8000);
    assert_int_equal(shadow[1], 0x800);
    assert_int_equal(shadow[2], 0x9000);
    assert_int_equal(shadow[3], PRD_EOT);
    assert_int_equal(shadow[4], 0xeeeeeeee);
    assert_int_equal(reads, 2);
}

static void test_prd_zero_count_is_64k_and_crosses(void **state)
{
    (void)state;
    /* 64 KiB from 0x11000 reaches 0x20fff: into the forbidden range. */
    entry(0x1000, 0, 0x11000, PRD_EOT);
    struct prd_result r;
    prd_shadow(0x1000, true, rd, judge, 0, shadow, &r);
    assert_int_equal(r.status, PRD_REFUSED);
    assert_int_equal(r.why, 2);
    assert_int_equal(r.owner, 7);
    assert_int_equal(r.hit, 0x20000);
    assert_int_equal(r.bad.addr, 0x11000);
    assert_int_equal(r.bad.len, 0x10000);
    /* 0xfffe bytes from the same place end below it. */
    entry(0x1000, 0, 0x11000, PRD_EOT | 0xfffe);
    prd_shadow(0x1000, true, rd, judge, 0, shadow, &r);
    assert_int_equal(r.status, PRD_REFUSED);
    entry(0x1000, 0, 0x10000, PRD_EOT | 0xfffe);
    prd_shadow(0x1000, true, rd, judge, 0, shadow, &r);
    assert_int_equal(r.status, PRD_OK);
}

static void test_prd_second_entry_refused(void **state)
{
    (void)state;
    entry(0x1000, 0, 0x8000, 1024);
    entry(0x1000, 1, 0x20ff0, PRD_EOT | 32);   /* the last 16 bytes below, the first 16 inside */
    struct prd_result r;
    prd_shadow(0x1000, true, rd, judge, 0, shadow, &r);
    assert_int_equal(r.status, PRD_REFUSED);
    assert_int_equal(r.bad.entry, 1);
    assert_int_equal(r.hit, 0x20ff0);
    /* The same table read from memory to the device is fine... */
    prd_shadow(0x1000, false, rd, judge, 0, shadow, &r);
    assert_int_equal(r.status, PRD_OK);
    /* ...unless it reads what must not leak. */
    entry(0x1000, 1, 0x30800, PRD_EOT | 32);
    prd_shadow(0x1000, false, rd, judge, 0, shadow, &r);
    assert_int_equal(r.status, PRD_REFUSED);
    assert_int_equal(r.why, 1);
    assert_int_equal(r.hit, 0x30800);
}

static void test_prd_just_below_and_above(void **state)
{
    (void)state;
    struct prd_result r;
    entry(0x1000, 0, 0x1f000, PRD_EOT | 0x1000);    /* ends at 0x20000: touches nothing */
    prd_shadow(0x1000, true, rd, judge, 0, shadow, &r);
    assert_int_equal(r.status, PRD_OK);
    entry(0x1000, 0, 0x21000, PRD_EOT | 2);
    prd_shadow(0x1000, true, rd, judge, 0, shadow, &r);
    assert_int_equal(r.status, PRD_OK);
    entry(0x1000, 0, 0x20ffe, PRD_EOT | 2);
    prd_shadow(0x1000, true, rd, judge, 0, shadow, &r);
    assert_int_equal(r.status, PRD_REFUSED);
    assert_int_equal(r.hit, 0x20ffe);
}

static void test_prd_no_end(void **state)
{
    (void)state;
    for (u32 i = 0; i < PRD_MAX_ENTRIES + 4; i++)
        entry(0x2000, i, 0x8000, 512);
    struct prd_result r;
    prd_shadow(0x2000, true, rd, judge, 0, shadow, &r);
    assert_int_equal(r.status, PRD_NO_END);
    assert_int_equal(reads, PRD_MAX_ENTRIES);
    /* The last entry the bound allows, with the end bit: accepted. */
    entry(0x2000, PRD_MAX_ENTRIES - 1, 0x8000, PRD_EOT | 512);
    prd_shadow(0x2000, true, rd, judge, 0, shadow, &r);
    assert_int_equal(r.status, PRD_OK);
    assert_int_equal(r.entries, PRD_MAX_ENTRIES);
}

static void test_prd_unreadable(void **state)
{
    (void)state;
    struct prd_result r;
    prd_shadow(MEM_SIZE - 4, true, rd, judge, 0, shadow, &r);
    assert_int_equal(r.status, PRD_TABLE_UNREADABLE);
    assert_int_equal(r.bad.addr, MEM_SIZE - 4);
    entry(MEM_SIZE - 8, 0, 0x8000, 512);                 /* no end, and the next entry is outside */
    prd_shadow(MEM_SIZE - 8, true, rd, judge, 0, shadow, &r);
    assert_int_equal(r.status, PRD_TABLE_UNREADABLE);
    assert_int_equal(r.bad.entry, 1);
    prd_shadow(0xfffffffffffffff8ull, true, rd, judge, 0, shadow, &r);
    assert_int_equal(r.status, PRD_TABLE_UNREADABLE);
}

static void test_prd_region_top_of_4g(void **state)
{
    (void)state;
    struct prd_region g = prd_entry_region(0xffffff01, 0, 3);
    assert_int_equal(g.addr, 0xffffff00);
    assert_int_equal(g.len, 0x10000);
    assert_int_equal(g.entry, 3);
    /* A 64-bit sum: the region runs past 4 GiB, it does not wrap to 0. */
    assert_true(g.addr + g.len > 0x100000000ull);
}

/* --- MCFG ------------------------------------------------------------------- */

static u8 tbl[200];

static size_t mcfg(u32 n, u64 base, u8 b0, u8 b1)
{
    memset(tbl, 0, sizeof(tbl));
    memcpy(tbl, "MCFG", 4);
    u32 len = 44 + 16 * n;
    memcpy(tbl + 4, &len, 4);
    for (u32 i = 0; i < n; i++) {
        u64 b = base + ((u64)i << 28);
        memcpy(tbl + 44 + 16 * i, &b, 8);
        tbl[44 + 16 * i + 8] = (u8)i;
        tbl[44 + 16 * i + 10] = b0;
        tbl[44 + 16 * i + 11] = b1;
    }
    u8 sum = 0;
    for (u32 i = 0; i < len; i++)
        sum = (u8)(sum + tbl[i]);
    tbl[9] = (u8)-sum;
    return len;
}

static void test_mcfg_ok(void **state)
{
    (void)state;
    struct mcfg_window w[MCFG_MAX];
    char err[120];
    size_t len = mcfg(2, 0xe0000000, 0, 255);
    assert_int_equal(mcfg_parse(tbl, len, w, MCFG_MAX, err, sizeof(err)), 2);
    assert_int_equal(w[0].start, 0xe0000000);
    assert_int_equal(w[0].end, 0xf0000000);
    assert_int_equal(w[1].segment, 1);
    len = mcfg(1, 0xb0000000, 2, 3);
    assert_int_equal(mcfg_parse(tbl, len, w, MCFG_MAX, err, sizeof(err)), 1);
    assert_int_equal(w[0].start, 0xb0200000);
    assert_int_equal(w[0].end, 0xb0400000);
    len = mcfg(0, 0, 0, 0);
    assert_int_equal(mcfg_parse(tbl, len, w, MCFG_MAX, err, sizeof(err)), 0);
}

static void test_mcfg_bad(void **state)
{
    (void)state;
    struct mcfg_window w[MCFG_MAX];
    char err[120];
    size_t len = mcfg(1, 0xe0000000, 0, 255);
    assert_int_equal(mcfg_parse(tbl, 40, w, MCFG_MAX, err, sizeof(err)), -1);
    assert_string_equal(err, "MCFG: 40 bytes, shorter than its 44-byte header");
    assert_int_equal(mcfg_parse(tbl, len - 1, w, MCFG_MAX, err, sizeof(err)), -1);
    assert_string_equal(err, "MCFG: length field 60 outside 44..59");
    tbl[50]++;
    assert_int_equal(mcfg_parse(tbl, len, w, MCFG_MAX, err, sizeof(err)), -1);
    assert_string_equal(err, "MCFG: checksum is off by 0x01");
    len = mcfg(1, 0xe0000000, 9, 8);
    assert_int_equal(mcfg_parse(tbl, len, w, MCFG_MAX, err, sizeof(err)), -1);
    assert_string_equal(err, "MCFG: window 0 ends at bus 8 before it starts at bus 9");
    len = mcfg(1, 0xe0000800, 0, 1);
    assert_int_equal(mcfg_parse(tbl, len, w, MCFG_MAX, err, sizeof(err)), -1);
    assert_string_equal(err, "MCFG: window 0 base 0xe0000800 is not 1 MiB-aligned or wraps");
    len = mcfg(9, 0x10000000, 0, 0);
    assert_int_equal(mcfg_parse(tbl, len, w, MCFG_MAX, err, sizeof(err)), -1);
    assert_string_equal(err, "MCFG: 9 windows, vigil keeps at most 8");
    len = mcfg(1, 0xe0000000, 0, 0);
    memcpy(tbl, "MCFX", 4);
    assert_int_equal(mcfg_parse(tbl, len, w, MCFG_MAX, err, sizeof(err)), -1);
    assert_string_equal(err, "MCFG: signature is not MCFG");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_decode_refuses),
        cmocka_unit_test(test_strip_master),
        cmocka_unit_test(test_touches),
        cmocka_unit_test_setup(test_prd_ok_copy_normalized, setup),
        cmocka_unit_test_setup(test_prd_zero_count_is_64k_and_crosses, setup),
        cmocka_unit_test_setup(test_prd_second_entry_refused, setup),
        cmocka_unit_test_setup(test_prd_just_below_and_above, setup),
        cmocka_unit_test_setup(test_prd_no_end, setup),
        cmocka_unit_test_setup(test_prd_unreadable, setup),
        cmocka_unit_test(test_prd_region_top_of_4g),
        cmocka_unit_test(test_mcfg_ok),
        cmocka_unit_test(test_mcfg_bad),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
