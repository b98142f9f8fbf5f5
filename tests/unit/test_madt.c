/* Unit tests for vmm/madt.c: madt_parse on ACPI MADTs (ACPI 6.5, 5.2.12
 * "Multiple APIC Description Table"), mp_find and mp_parse on Intel
 * MultiProcessor Specification 1.4 tables (chapter 4). Tables are built
 * byte by byte here, so each test states the layout it relies on; every
 * malformed case checks the whole message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm/madt.h"
#include "lib/string.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

static u8 buf[4096];
static size_t pos;                        /* bytes of buf written */
static struct cpu_table ct;
static char err[200];

static void put8(u8 v) { buf[pos++] = v; }
static void put16(u16 v) { memcpy(buf + pos, &v, 2); pos += 2; }
static void put32(u32 v) { memcpy(buf + pos, &v, 4); pos += 4; }
static void put64(u64 v) { memcpy(buf + pos, &v, 8); pos += 8; }
static void wr32(size_t at, u32 v) { memcpy(buf + at, &v, 4); }
static void wr16(size_t at, u16 v) { memcpy(buf + at, &v, 2); }

/* ---- MADT builder ---- */

/* The 36-byte ACPI header (length and checksum filled by madt_end), the
 * Local Interrupt Controller Address and the flags (PCAT_COMPAT). */
static void madt_begin(u32 lapic)
{
    memset(buf, 0, sizeof(buf));
    pos = 0;
    memcpy(buf, "APIC", 4);
    pos = 8;
    put8(3);                              /* revision */
    put8(0);                              /* checksum */
    memcpy(buf + 10, "BOCHS ", 6);
    memcpy(buf + 16, "BXPC    ", 8);
    pos = 24;
    put32(1);                             /* OEM revision */
    memcpy(buf + 28, "BXPC", 4);
    pos = 32;
    put32(1);                             /* creator revision */
    put32(lapic);
    put32(1);                             /* flags: PCAT_COMPAT */
}

/* Set the length field to the bytes written and make the sum 0. */
static size_t madt_end(void)
{
    wr32(4, (u32)pos);
    buf[9] = 0;
    u8 s = 0;
    for (size_t i = 0; i < pos; i++)
        s += buf[i];
    buf[9] = (u8)-s;
    return pos;
}

/* Type 0, Processor Local APIC (8 bytes). */
static void lapic(u8 uid, u8 id, u32 flags)
{
    put8(0); put8(8); put8(uid); put8(id); put32(flags);
}

/* Type 9, Processor Local x2APIC (16 bytes). */
static void x2apic(u32 id, u32 flags, u32 uid)
{
    put8(9); put8(16); put16(0); put32(id); put32(flags); put32(uid);
}

/* Type 5, Local APIC Address Override (12 bytes). */
static void lapic_override(u64 addr)
{
    put8(5); put8(12); put16(0); put64(addr);
}

/* Type 1 I/O APIC (12 bytes), type 2 Interrupt Source Override (10 bytes),
 * type 4 Local APIC NMI (6 bytes): what Bochs/QEMU put beside the CPUs. */
static void ioapic(u8 id, u32 addr, u32 gsi_base)
{
    put8(1); put8(12); put8(id); put8(0); put32(addr); put32(gsi_base);
}

static void iso(u8 src, u32 gsi, u16 flags)
{
    put8(2); put8(10); put8(0); put8(src); put32(gsi); put16(flags);
}

static void lapic_nmi(u8 uid, u16 flags, u8 lint)
{
    put8(4); put8(6); put8(uid); put16(flags); put8(lint);
}

/* An entry header only: type and length, then len - 2 zero bytes. */
static void raw_entry(u8 type, u8 len, size_t body)
{
    put8(type); put8(len);
    for (size_t i = 0; i < body; i++)
        put8(0);
}

static int madt(size_t len)
{
    memset(err, 'x', sizeof(err));
    return madt_parse(buf, len, &ct, err, sizeof(err));
}

/* A parse that must fail with exactly msg. */
static void madt_fails(size_t len, const char *msg)
{
    assert_int_equal(madt(len), -1);
    assert_string_equal(err, msg);
}

static void assert_cpu(u32 i, u32 apic_id, u32 uid, bool enabled, bool online, bool x2)
{
    assert_true(i < ct.count);
    assert_int_equal(ct.cpu[i].apic_id, apic_id);
    assert_int_equal(ct.cpu[i].uid, uid);
    assert_int_equal(ct.cpu[i].enabled, enabled);
    assert_int_equal(ct.cpu[i].online_capable, online);
    assert_int_equal(ct.cpu[i].x2apic, x2);
    assert_false(ct.cpu[i].bsp);
}

/* ---- MADT: valid tables ---- */

/* What Bochs/QEMU's BIOS builds for -smp 2: two local APICs, an I/O APIC,
 * interrupt source overrides and a local APIC NMI for all processors. */
static void test_madt_bochs_2_cpus(void **state)
{
    (void)state;
    madt_begin(0xfee00000);
    lapic(0, 0, 1);
    lapic(1, 1, 1);
    ioapic(0, 0xfec00000, 0);
    iso(0, 2, 0);
    iso(5, 5, 0xd);
    iso(9, 9, 0xd);
    iso(10, 10, 0xd);
    iso(11, 11, 0xd);
    lapic_nmi(0xff, 0, 1);
    size_t n = madt_end();
    assert_int_equal(madt(n), 0);
    assert_string_equal(err, "");
    assert_int_equal(ct.lapic_addr, 0xfee00000);
    assert_int_equal(ct.count, 2);
    assert_int_equal(ct.dropped, 0);
    assert_cpu(0, 0, 0, true, false, false);
    assert_cpu(1, 1, 1, true, false, false);
}

static void test_madt_4_cpus_with_sparse_ids(void **state)
{
    (void)state;
    madt_begin(0xfee00000);
    ioapic(8, 0xfec00000, 0);               /* entries in any order */
    lapic(0, 0, 1);
    lapic(1, 2, 1);
    lapic(2, 4, 1);
    lapic(3, 6, 1);
    size_t n = madt_end();
    assert_int_equal(madt(n), 0);
    assert_int_equal(ct.count, 4);
    for (u32 i = 0; i < 4; i++)
        assert_cpu(i, 2 * i, i, true, false, false);
}

/* Processors with APIC IDs of 255 and up need type 9; ACPI UIDs are 32-bit. */
static void test_madt_x2apic_entries(void **state)
{
    (void)state;
    madt_begin(0xfee00000);
    lapic(0, 0, 1);
    x2apic(0x100, 1, 0x1000);
    x2apic(0xfffffffe, 1, 0xdeadbeef);
    size_t n = madt_end();
    assert_int_equal(madt(n), 0);
    assert_int_equal(ct.count, 3);
    assert_cpu(0, 0, 0, true, false, false);
    assert_cpu(1, 0x100, 0x1000, true, false, true);
    assert_cpu(2, 0xfffffffe, 0xdeadbeef, true, false, true);
}

/* Flags bit 0 Enabled, bit 1 Online Capable (ACPI 6.3): entries with
 * neither are still recorded; other flag bits are reserved and ignored. */
static void test_madt_disabled_and_online_capable(void **state)
{
    (void)state;
    madt_begin(0xfee00000);
    lapic(0, 0, 1);
    lapic(1, 1, 0);                          /* neither */
    lapic(2, 2, 2);                          /* hot-pluggable */
    x2apic(0x200, 0, 7);
    x2apic(0x201, 2, 8);
    lapic(3, 3, 0xfffffffd);                 /* reserved bits set: enabled only */
    size_t n = madt_end();
    assert_int_equal(madt(n), 0);
    assert_int_equal(ct.count, 6);
    assert_cpu(0, 0, 0, true, false, false);
    assert_cpu(1, 1, 1, false, false, false);
    assert_cpu(2, 2, 2, false, true, false);
    assert_cpu(3, 0x200, 7, false, false, true);
    assert_cpu(4, 0x201, 8, false, true, true);
    assert_cpu(5, 3, 3, true, false, false);
}

/* Type 5 replaces the 32-bit address wherever it is in the table. */
static void test_madt_lapic_address_override(void **state)
{
    (void)state;
    madt_begin(0xfee00000);
    lapic(0, 0, 1);
    lapic_override(0x123456789000ull);
    lapic(1, 1, 1);
    size_t n = madt_end();
    assert_int_equal(madt(n), 0);
    assert_int_equal(ct.lapic_addr, 0x123456789000ull);
    assert_int_equal(ct.count, 2);

    madt_begin(0xfee00000);
    lapic_override(0xfed00000);
    lapic(0, 0, 1);
    lapic_override(0x100000000ull);          /* the last one wins */
    n = madt_end();
    assert_int_equal(madt(n), 0);
    assert_int_equal(ct.lapic_addr, 0x100000000ull);
}

static void test_madt_more_than_cpu_table_max(void **state)
{
    (void)state;
    madt_begin(0xfee00000);
    for (u32 i = 0; i < 70; i++)
        lapic((u8)i, (u8)i, 1);
    x2apic(0x1000, 1, 70);
    size_t n = madt_end();
    assert_int_equal(madt(n), 0);
    assert_int_equal(ct.count, CPU_TABLE_MAX);
    assert_int_equal(ct.dropped, 70 + 1 - CPU_TABLE_MAX);
    for (u32 i = 0; i < CPU_TABLE_MAX; i++)
        assert_cpu(i, i, i, true, false, false);
}

/* A dropped entry is still checked against the recorded ones. */
static void test_madt_dropped_entry_with_duplicate_id(void **state)
{
    (void)state;
    madt_begin(0xfee00000);
    for (u32 i = 0; i < CPU_TABLE_MAX; i++)
        lapic((u8)i, (u8)i, 1);
    lapic(99, 5, 1);                         /* offset 44 + 64 * 8 = 0x22c */
    size_t n = madt_end();
    madt_fails(n, "MADT: entry at offset 0x22c (type 0) has APIC ID 0x5, already used by the entry at offset 0x54");
}

/* Unknown types and types vigil does not read are skipped by their length;
 * a longer entry of a known type is read for its known fields. */
static void test_madt_skips_by_length(void **state)
{
    (void)state;
    madt_begin(0xfee00000);
    raw_entry(0x7f, 2, 0);                   /* reserved type, header only */
    raw_entry(0x80, 255, 253);               /* OEM type, longest */
    put8(0); put8(10); put8(4); put8(9); put32(1); put16(0xffff);   /* type 0, 10 bytes */
    raw_entry(0xd, 5, 3);
    size_t n = madt_end();
    assert_int_equal(madt(n), 0);
    assert_int_equal(ct.count, 1);
    assert_cpu(0, 9, 4, true, false, false);
}

/* APIC ID 0xff and x2APIC ID 0xffffffff are the broadcast address: firmware
 * placeholders, skipped, so several of them are not duplicates. */
static void test_madt_broadcast_ids_are_skipped(void **state)
{
    (void)state;
    madt_begin(0xfee00000);
    lapic(0, 0, 1);
    lapic(1, 0xff, 0);
    lapic(2, 0xff, 0);
    x2apic(0xffffffff, 0, 3);
    x2apic(0xffffffff, 0, 4);
    lapic(5, 1, 1);
    size_t n = madt_end();
    assert_int_equal(madt(n), 0);
    assert_int_equal(ct.count, 2);
    assert_cpu(0, 0, 0, true, false, false);
    assert_cpu(1, 1, 5, true, false, false);
}

/* No entries at all, and bytes past the length field, are fine. */
static void test_madt_header_only_and_trailing_bytes(void **state)
{
    (void)state;
    madt_begin(0xfee00000);
    size_t n = madt_end();
    assert_int_equal(n, 44);
    assert_int_equal(madt(n), 0);
    assert_int_equal(ct.count, 0);
    assert_int_equal(ct.lapic_addr, 0xfee00000);
    buf[44] = 0;
    buf[45] = 0;                             /* a length-0 entry, not in the table */
    assert_int_equal(madt(sizeof(buf)), 0);
    assert_int_equal(ct.count, 0);
}

/* A NULL message buffer is allowed; the parse still fails. */
static void test_madt_error_without_message_buffer(void **state)
{
    (void)state;
    madt_begin(0xfee00000);
    raw_entry(0, 0, 0);
    size_t n = madt_end();
    assert_int_equal(madt_parse(buf, n, &ct, NULL, 0), -1);
    char small[8];
    assert_int_equal(madt_parse(buf, n, &ct, small, sizeof(small)), -1);
    assert_string_equal(small, "MADT: e");
}

/* ---- MADT: malformed tables ---- */

static void test_madt_too_short_for_header(void **state)
{
    (void)state;
    madt_begin(0xfee00000);
    madt_end();
    madt_fails(43, "MADT: 43 bytes readable, the header needs 44");
    madt_fails(0, "MADT: 0 bytes readable, the header needs 44");
    assert_int_equal(madt_parse(NULL, 100, &ct, err, sizeof(err)), -1);
    assert_string_equal(err, "MADT: 0 bytes readable, the header needs 44");
}

static void test_madt_wrong_signature(void **state)
{
    (void)state;
    madt_begin(0xfee00000);
    memcpy(buf, "FACP", 4);
    size_t n = madt_end();
    madt_fails(n, "MADT: signature is 'FACP', expected 'APIC'");
    memcpy(buf, "AP\x01\xff", 4);
    madt_fails(n, "MADT: signature is 'AP?" "?', expected 'APIC'");
}

static void test_madt_length_field_larger_than_readable(void **state)
{
    (void)state;
    madt_begin(0xfee00000);
    lapic(0, 0, 1);
    size_t n = madt_end();
    madt_fails(n - 1, "MADT: length field is 52, but only 51 bytes are readable");
    wr32(4, 0xffffffff);
    madt_fails(n, "MADT: length field is 4294967295, but only 52 bytes are readable");
}

static void test_madt_length_field_smaller_than_header(void **state)
{
    (void)state;
    madt_begin(0xfee00000);
    madt_end();
    wr32(4, 43);
    madt_fails(44, "MADT: length field is 43, smaller than the 44-byte header");
    wr32(4, 0);
    madt_fails(44, "MADT: length field is 0, smaller than the 44-byte header");
}

static void test_madt_bad_checksum(void **state)
{
    (void)state;
    madt_begin(0xfee00000);
    lapic(0, 0, 1);
    size_t n = madt_end();
    buf[47] ^= 0x10;                         /* the APIC ID: 0 -> 0x10 */
    madt_fails(n, "MADT: checksum over the 52 bytes of the table sums to 0x10, must be 0");
}

static void test_madt_entry_header_crossing_end(void **state)
{
    (void)state;
    madt_begin(0xfee00000);
    lapic(0, 0, 1);
    put8(0);                                 /* one byte: a type, no length */
    size_t n = madt_end();
    madt_fails(n, "MADT: entry header at offset 0x34 crosses the end of the table at 0x35");
}

static void test_madt_entry_length_zero(void **state)
{
    (void)state;
    madt_begin(0xfee00000);
    raw_entry(0, 0, 6);
    size_t n = madt_end();
    madt_fails(n, "MADT: entry at offset 0x2c (type 0) has length 0, which would loop forever");
}

static void test_madt_entry_length_one(void **state)
{
    (void)state;
    madt_begin(0xfee00000);
    lapic(0, 0, 1);
    raw_entry(4, 1, 4);
    size_t n = madt_end();
    madt_fails(n, "MADT: entry at offset 0x34 (type 4) has length 1, shorter than its 2-byte header");
}

static void test_madt_entry_crossing_end(void **state)
{
    (void)state;
    madt_begin(0xfee00000);
    lapic(0, 0, 1);
    raw_entry(1, 12, 4);                     /* I/O APIC cut after 6 bytes */
    size_t n = madt_end();
    madt_fails(n, "MADT: entry at offset 0x34 (type 1) has length 12, crossing the end of the table at 0x3a");
    madt_begin(0xfee00000);
    raw_entry(0x80, 255, 100);
    n = madt_end();
    madt_fails(n, "MADT: entry at offset 0x2c (type 128) has length 255, crossing the end of the table at 0x92");
}

static void test_madt_entry_shorter_than_type_requires(void **state)
{
    (void)state;
    madt_begin(0xfee00000);
    raw_entry(0, 7, 5);
    size_t n = madt_end();
    madt_fails(n, "MADT: entry at offset 0x2c (type 0, Processor Local APIC) has length 7, needs at least 8");

    madt_begin(0xfee00000);
    lapic(0, 0, 1);
    raw_entry(9, 12, 10);                    /* an x2APIC entry without its UID */
    n = madt_end();
    madt_fails(n, "MADT: entry at offset 0x34 (type 9, Processor Local x2APIC) has length 12, needs at least 16");

    madt_begin(0xfee00000);
    raw_entry(5, 8, 6);                      /* a 32-bit address override */
    n = madt_end();
    madt_fails(n, "MADT: entry at offset 0x2c (type 5, Local APIC Address Override) has length 8, needs at least 12");
}

static void test_madt_duplicate_apic_id(void **state)
{
    (void)state;
    madt_begin(0xfee00000);
    lapic(0, 0, 1);
    lapic(1, 1, 1);
    lapic(2, 1, 0);                          /* even a disabled one */
    size_t n = madt_end();
    madt_fails(n, "MADT: entry at offset 0x3c (type 0) has APIC ID 0x1, already used by the entry at offset 0x34");

    /* type 0 and type 9 IDs are one name space */
    madt_begin(0xfee00000);
    lapic(0, 3, 1);
    x2apic(3, 1, 1);
    n = madt_end();
    madt_fails(n, "MADT: entry at offset 0x34 (type 9) has x2APIC ID 0x3, already used by the entry at offset 0x2c");

    madt_begin(0xfee00000);
    x2apic(0x12345, 1, 0);
    x2apic(0x12345, 0, 1);
    n = madt_end();
    madt_fails(n, "MADT: entry at offset 0x3c (type 9) has x2APIC ID 0x12345, already used by the entry at offset 0x2c");
}

/* ---- MP floating pointer ---- */

/* A floating pointer at buf[at]: "_MP_", config table address, length 1,
 * revision 4, checksum, feature bytes. */
static void mpf_at(size_t at, u32 config, u8 feature1)
{
    memcpy(buf + at, "_MP_", 4);
    wr32(at + 4, config);
    buf[at + 8] = 1;
    buf[at + 9] = 4;
    buf[at + 10] = 0;
    buf[at + 11] = feature1;
    buf[at + 12] = 0x80;                     /* IMCR present */
    buf[at + 13] = buf[at + 14] = buf[at + 15] = 0;
    u8 s = 0;
    for (int i = 0; i < 16; i++)
        s += buf[at + i];
    buf[at + 10] = (u8)-s;
}

static void test_mp_find_in_bios_rom(void **state)
{
    (void)state;
    memset(buf, 0, sizeof(buf));
    memcpy(buf + 0x100, "_MP_", 4);          /* a bare signature: not a pointer */
    mpf_at(0x9f0, 0x000f1234, 0);
    u64 config = 0;
    assert_true(mp_find(buf, sizeof(buf), 0xf0000, &config));
    assert_int_equal(config, 0xf1234);
    /* the last 16 bytes of the region */
    memset(buf, 0, sizeof(buf));
    mpf_at(sizeof(buf) - 16, 0x9fc10, 0);
    config = 0;
    assert_true(mp_find(buf, sizeof(buf), 0xf0000, &config));
    assert_int_equal(config, 0x9fc10);
    assert_false(mp_find(buf, sizeof(buf) - 1, 0xf0000, &config));   /* now it is cut */
}

/* Alignment is of the physical address: a region starting at ...8 has its
 * 16-byte boundaries at offsets 8, 24, ... */
static void test_mp_find_alignment_is_physical(void **state)
{
    (void)state;
    memset(buf, 0, sizeof(buf));
    mpf_at(0x28, 0x9fc00, 0);
    u64 config = 0;
    assert_true(mp_find(buf, 0x400, 0x9fc08, &config));
    assert_int_equal(config, 0x9fc00);
    config = 0;
    assert_false(mp_find(buf, 0x400, 0x9fc00, &config));   /* at physical ...28 */
    assert_false(mp_find(buf, 0x400, 0x9fc04, &config));
    assert_int_equal(config, 0);                            /* untouched */
}

static void test_mp_find_bad_checksum_or_length(void **state)
{
    (void)state;
    u64 config = 0;
    memset(buf, 0, sizeof(buf));
    mpf_at(0x40, 0xf1000, 0);
    buf[0x40 + 15] = 1;                      /* a reserved byte: sum 1 */
    assert_false(mp_find(buf, sizeof(buf), 0, &config));
    mpf_at(0x40, 0xf1000, 0);
    buf[0x40 + 8] = 2;                       /* length 2 paragraphs */
    buf[0x40 + 10]--;                        /* checksum still 0 */
    assert_false(mp_find(buf, sizeof(buf), 0, &config));
    assert_int_equal(config, 0);
    /* a broken one does not hide a good one further on */
    mpf_at(0x80, 0xf2000, 0);
    assert_true(mp_find(buf, sizeof(buf), 0, &config));
    assert_int_equal(config, 0xf2000);
}

static void test_mp_find_none_or_default_configuration(void **state)
{
    (void)state;
    u64 config = 0x5555;
    memset(buf, 0, sizeof(buf));
    assert_false(mp_find(buf, sizeof(buf), 0xe0000, &config));
    assert_false(mp_find(buf, 15, 0, &config));
    assert_false(mp_find(buf, 0, 0, &config));
    assert_false(mp_find(NULL, 100, 0, &config));
    mpf_at(0x10, 0, 5);                      /* default configuration 5 */
    mpf_at(0x20, 0xf3000, 0);
    assert_false(mp_find(buf, sizeof(buf), 0, &config));
    assert_int_equal(config, 0x5555);
}

/* ---- MP configuration table ---- */

static u16 mp_entries;

/* The 44-byte header; mp_end fills length, count and checksum. */
static void mp_begin(u32 lapic_addr)
{
    memset(buf, 0, sizeof(buf));
    memcpy(buf, "PCMP", 4);
    buf[6] = 4;                              /* revision 1.4 */
    memcpy(buf + 8, "BOCHSCPU", 8);
    memcpy(buf + 16, "0.1         ", 12);
    wr32(36, lapic_addr);
    pos = 44;
    mp_entries = 0;
}

static size_t mp_end(void)
{
    wr16(4, (u16)pos);
    wr16(34, mp_entries);
    buf[7] = 0;
    u8 s = 0;
    for (size_t i = 0; i < pos; i++)
        s += buf[i];
    buf[7] = (u8)-s;
    return pos;
}

/* Processor entry, 20 bytes: type 0, APIC ID, APIC version, CPU flags,
 * CPU signature, feature flags, 8 reserved. */
static void mp_cpu(u8 id, u8 flags)
{
    put8(0); put8(id); put8(0x14); put8(flags); put32(0x663); put32(0x0781abfd); put64(0);
    mp_entries++;
}

/* Bus (type 1), I/O APIC (2), I/O interrupt (3), local interrupt (4): 8 bytes. */
static void mp_bus(u8 id, const char *name)
{
    put8(1); put8(id); memcpy(buf + pos, name, 6); pos += 6;
    mp_entries++;
}

static void mp_ioapic(u8 id, u32 addr)
{
    put8(2); put8(id); put8(0x11); put8(1); put32(addr);
    mp_entries++;
}

static void mp_intr(u8 type, u8 irq, u8 pin)
{
    put8(type); put8(0); put16(0); put8(0); put8(irq); put8(0); put8(pin);
    mp_entries++;
}

static int mp(size_t len)
{
    memset(err, 'x', sizeof(err));
    return mp_parse(buf, len, &ct, err, sizeof(err));
}

static void mp_fails(size_t len, const char *msg)
{
    assert_int_equal(mp(len), -1);
    assert_string_equal(err, msg);
}

/* A Bochs-like 2-CPU table: processors, ISA bus, I/O APIC, interrupts. */
static size_t mp_two_cpus(void)
{
    mp_begin(0xfee00000);
    mp_cpu(0, 3);                            /* EN | BP */
    mp_cpu(1, 1);
    mp_bus(0, "ISA   ");
    mp_ioapic(2, 0xfec00000);
    for (u8 irq = 0; irq < 4; irq++)
        mp_intr(3, irq, irq ? irq : 2);
    mp_intr(4, 0, 0);
    mp_intr(4, 0, 1);
    return mp_end();
}

static void test_mp_two_cpus_with_bp_flag(void **state)
{
    (void)state;
    size_t n = mp_two_cpus();
    assert_int_equal(mp(n), 0);
    assert_string_equal(err, "");
    assert_int_equal(ct.lapic_addr, 0xfee00000);
    assert_int_equal(ct.count, 2);
    assert_int_equal(ct.dropped, 0);
    assert_int_equal(ct.cpu[0].apic_id, 0);
    assert_true(ct.cpu[0].enabled);
    assert_true(ct.cpu[0].bsp);
    assert_int_equal(ct.cpu[1].apic_id, 1);
    assert_true(ct.cpu[1].enabled);
    assert_false(ct.cpu[1].bsp);
    for (u32 i = 0; i < 2; i++) {
        assert_int_equal(ct.cpu[i].uid, 0);
        assert_false(ct.cpu[i].online_capable);
        assert_false(ct.cpu[i].x2apic);
    }
}

static void test_mp_disabled_cpu_and_trailing_bytes(void **state)
{
    (void)state;
    mp_begin(0xfee00000);
    mp_bus(0, "PCI   ");
    mp_cpu(7, 2);                            /* BP but not EN: recorded as it is */
    mp_cpu(3, 0);
    put64(0x0102030405060708ull);            /* within the base table, past the count */
    size_t n = mp_end();
    assert_int_equal(mp(n + 100), 0);
    assert_int_equal(ct.count, 2);
    assert_int_equal(ct.cpu[0].apic_id, 7);
    assert_false(ct.cpu[0].enabled);
    assert_true(ct.cpu[0].bsp);
    assert_int_equal(ct.cpu[1].apic_id, 3);
    assert_false(ct.cpu[1].enabled);
    assert_false(ct.cpu[1].bsp);
}

static void test_mp_more_than_cpu_table_max(void **state)
{
    (void)state;
    mp_begin(0xfee00000);
    for (u32 i = 0; i < 100; i++)
        mp_cpu((u8)i, i ? 1 : 3);
    size_t n = mp_end();
    assert_int_equal(n, 44 + 100 * 20);
    assert_int_equal(mp(n), 0);
    assert_int_equal(ct.count, CPU_TABLE_MAX);
    assert_int_equal(ct.dropped, 100 - CPU_TABLE_MAX);
    assert_true(ct.cpu[0].bsp);
    assert_int_equal(ct.cpu[CPU_TABLE_MAX - 1].apic_id, CPU_TABLE_MAX - 1);
}

static void test_mp_too_short_or_bad_length(void **state)
{
    (void)state;
    size_t n = mp_two_cpus();
    mp_fails(43, "MP: 43 bytes readable, the configuration table header needs 44");
    mp_fails(n - 1, "MP: base table length is 148, but only 147 bytes are readable");
    wr16(4, 40);
    mp_fails(n, "MP: base table length is 40, smaller than the 44-byte header");
}

static void test_mp_bad_signature(void **state)
{
    (void)state;
    size_t n = mp_two_cpus();
    memcpy(buf, "_MP_", 4);
    mp_fails(n, "MP: signature is '_MP_', expected 'PCMP'");
}

static void test_mp_bad_checksum(void **state)
{
    (void)state;
    size_t n = mp_two_cpus();
    buf[n - 1] += 0x7f;
    mp_fails(n, "MP: checksum over the 148-byte base table sums to 0x7f, must be 0");
}

static void test_mp_unknown_entry_type(void **state)
{
    (void)state;
    mp_begin(0xfee00000);
    mp_cpu(0, 3);
    mp_bus(0, "ISA   ");
    buf[pos] = 5;                            /* extended-table types are not base entries */
    pos += 8;
    mp_entries++;
    size_t n = mp_end();
    mp_fails(n, "MP: entry 2 at offset 0x48 has unknown type 5 (its length is unknown)");
}

static void test_mp_truncated_entry(void **state)
{
    (void)state;
    mp_begin(0xfee00000);
    mp_cpu(0, 3);
    mp_cpu(1, 1);
    pos -= 4;                                /* the second processor cut to 16 bytes */
    size_t n = mp_end();
    mp_fails(n, "MP: entry 1 at offset 0x40 (type 0, processor) needs 20 bytes, crossing the end of the base table at 0x50");

    mp_begin(0xfee00000);
    mp_cpu(0, 3);
    mp_ioapic(2, 0xfec00000);
    pos -= 1;
    n = mp_end();
    mp_fails(n, "MP: entry 1 at offset 0x40 (type 2, I/O APIC) needs 8 bytes, crossing the end of the base table at 0x47");
}

static void test_mp_entry_count_past_end(void **state)
{
    (void)state;
    mp_begin(0xfee00000);
    mp_cpu(0, 3);
    mp_entries = 3;
    size_t n = mp_end();
    mp_fails(n, "MP: entry 1 of 3 starts at offset 0x40, at or past the end of the base table (length 64)");
}

static void test_mp_duplicate_apic_id(void **state)
{
    (void)state;
    mp_begin(0xfee00000);
    mp_cpu(0, 3);
    mp_bus(0, "ISA   ");
    mp_cpu(0, 1);
    size_t n = mp_end();
    mp_fails(n, "MP: entry 2 at offset 0x48 (type 0, processor) has local APIC ID 0x0, already used by the entry at offset 0x2c");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_madt_bochs_2_cpus),
        cmocka_unit_test(test_madt_4_cpus_with_sparse_ids),
        cmocka_unit_test(test_madt_x2apic_entries),
        cmocka_unit_test(test_madt_disabled_and_online_capable),
        cmocka_unit_test(test_madt_lapic_address_override),
        cmocka_unit_test(test_madt_more_than_cpu_table_max),
        cmocka_unit_test(test_madt_dropped_entry_with_duplicate_id),
        cmocka_unit_test(test_madt_skips_by_length),
        cmocka_unit_test(test_madt_broadcast_ids_are_skipped),
        cmocka_unit_test(test_madt_header_only_and_trailing_bytes),
        cmocka_unit_test(test_madt_error_without_message_buffer),
        cmocka_unit_test(test_madt_too_short_for_header),
        cmocka_unit_test(test_madt_wrong_signature),
        cmocka_unit_test(test_madt_length_field_larger_than_readable),
        cmocka_unit_test(test_madt_length_field_smaller_than_header),
        cmocka_unit_test(test_madt_bad_checksum),
        cmocka_unit_test(test_madt_entry_header_crossing_end),
        cmocka_unit_test(test_madt_entry_length_zero),
        cmocka_unit_test(test_madt_entry_length_one),
        cmocka_unit_test(test_madt_entry_crossing_end),
        cmocka_unit_test(test_madt_entry_shorter_than_type_requires),
        cmocka_unit_test(test_madt_duplicate_apic_id),
        cmocka_unit_test(test_mp_find_in_bios_rom),
        cmocka_unit_test(test_mp_find_alignment_is_physical),
        cmocka_unit_test(test_mp_find_bad_checksum_or_length),
        cmocka_unit_test(test_mp_find_none_or_default_configuration),
        cmocka_unit_test(test_mp_two_cpus_with_bp_flag),
        cmocka_unit_test(test_mp_disabled_cpu_and_trailing_bytes),
        cmocka_unit_test(test_mp_more_than_cpu_table_max),
        cmocka_unit_test(test_mp_too_short_or_bad_length),
        cmocka_unit_test(test_mp_bad_signature),
        cmocka_unit_test(test_mp_bad_checksum),
        cmocka_unit_test(test_mp_unknown_entry_type),
        cmocka_unit_test(test_mp_truncated_entry),
        cmocka_unit_test(test_mp_entry_count_past_end),
        cmocka_unit_test(test_mp_duplicate_apic_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
