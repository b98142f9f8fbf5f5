/* Processors from the ACPI MADT or the MP configuration table. Pure: the
 * tables are untrusted bytes, unit-tested and fuzzed on the host. */
#include "vmm/madt.h"
#include "lib/fmt.h"
#include "lib/hash.h"
#include "lib/string.h"

/* ACPI 6.5, 5.2.6 and 5.2.12: the 36-byte system description header
 * (signature, length at 4, checksum at 9), then the Local Interrupt
 * Controller Address (4 bytes at 36) and Flags (4 at 40); entries at 44. */
#define MADT_HDR      44
#define MADT_LAPIC    36

/* MADT entry types vigil reads, and the length each needs (Table 5.21 ff). */
#define MADT_T_LAPIC      0         /* UID at 2, APIC ID at 3, flags at 4 */
#define MADT_T_LAPIC_OVR  5         /* reserved 2, address (8) at 4 */
#define MADT_T_X2APIC     9         /* reserved 2, x2APIC ID at 4, flags at 8, UID at 12 */
#define MADT_F_ENABLED        (1u << 0)
#define MADT_F_ONLINE_CAPABLE (1u << 1)

/* MP specification 1.4, 4.2: the configuration table header (signature,
 * base table length u16 at 4, checksum at 7, entry count u16 at 34, local
 * APIC address u32 at 36), 44 bytes; entries follow. */
#define MP_HDR        44
#define MP_CPU_EN     (1u << 0)
#define MP_CPU_BP     (1u << 1)

static u16 rd16(const u8 *p) { u16 v; memcpy(&v, p, 2); return v; }
static u32 rd32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }
static u64 rd64(const u8 *p) { u64 v; memcpy(&v, p, 8); return v; }

#define FAIL(...) do { fmt_snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

/* A 4-byte signature fit for a message: anything unprintable as '?'. */
static const char *sig_text(char out[5], const u8 *p)
{
    for (int i = 0; i < 4; i++)
        out[i] = p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\'' ? (char)p[i] : '?';
    out[4] = 0;
    return out;
}

/* Where each recorded processor's entry was, for the duplicate message. */
struct seen {
    u32 off[CPU_TABLE_MAX];
};

/* Record one processor, or count it as dropped. Returns the offset of an
 * earlier entry with the same APIC ID, or -1. */
static long add_cpu(struct cpu_table *out, struct seen *seen, u32 off, const struct cpu_entry *c)
{
    for (u32 i = 0; i < out->count; i++)
        if (out->cpu[i].apic_id == c->apic_id)
            return seen->off[i];
    if (out->count == CPU_TABLE_MAX) {
        out->dropped++;
        return -1;
    }
    seen->off[out->count] = off;
    out->cpu[out->count++] = *c;
    return -1;
}

static const char *madt_type_name(u8 type)
{
    switch (type) {
    case MADT_T_LAPIC: return "Processor Local APIC";
    case MADT_T_LAPIC_OVR: return "Local APIC Address Override";
    case MADT_T_X2APIC: return "Processor Local x2APIC";
    default: return "";
    }
}

int madt_parse(const u8 *t, size_t len, struct cpu_table *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (err && errlen)
        err[0] = 0;
    char sig[5];
    struct seen seen;

    if (!t || len < MADT_HDR)
        FAIL("MADT: %zu bytes readable, the header needs %d", t ? len : 0, MADT_HDR);
    if (memcmp(t, "APIC", 4))
        FAIL("MADT: signature is '%s', expected 'APIC'", sig_text(sig, t));
    u32 length = rd32(t + 4);
    if (length > len)
        FAIL("MADT: length field is %u, but only %zu bytes are readable", length, len);
    if (length < MADT_HDR)
        FAIL("MADT: length field is %u, smaller than the %d-byte header", length, MADT_HDR);
    u8 sum = byte_sum(t, length);
    if (sum)
        FAIL("MADT: checksum over the %u bytes of the table sums to 0x%02x, must be 0", length, sum);
    out->lapic_addr = rd32(t + MADT_LAPIC);

    /* Entries: type (1 byte), length (1 byte, counting the two), body. */
    for (u32 off = MADT_HDR; off < length;) {
        if (length - off < 2)
            FAIL("MADT: entry header at offset 0x%x crosses the end of the table at 0x%x", off, length);
        const u8 *e = t + off;
        u8 type = e[0], elen = e[1];
        if (elen == 0)
            FAIL("MADT: entry at offset 0x%x (type %u) has length 0, which would loop forever", off, type);
        if (elen < 2)
            FAIL("MADT: entry at offset 0x%x (type %u) has length %u, shorter than its 2-byte header",
                 off, type, elen);
        if (elen > length - off)
            FAIL("MADT: entry at offset 0x%x (type %u) has length %u, crossing the end of the table at 0x%x",
                 off, type, elen, length);
        u32 need = type == MADT_T_LAPIC ? 8 : type == MADT_T_X2APIC ? 16 : type == MADT_T_LAPIC_OVR ? 12 : 2;
        if (elen < need)
            FAIL("MADT: entry at offset 0x%x (type %u, %s) has length %u, needs at least %u",
                 off, type, madt_type_name(type), elen, need);

        struct cpu_entry c = { 0 };
        u32 flags = 0;
        bool cpu = false;
        if (type == MADT_T_LAPIC) {
            c.uid = e[2];
            c.apic_id = e[3];
            flags = rd32(e + 4);
            cpu = c.apic_id != 0xff;                  /* broadcast: a placeholder */
        } else if (type == MADT_T_X2APIC) {
            c.apic_id = rd32(e + 4);
            flags = rd32(e + 8);
            c.uid = rd32(e + 12);
            c.x2apic = true;
            cpu = c.apic_id != 0xffffffffu;           /* broadcast: a placeholder */
        } else if (type == MADT_T_LAPIC_OVR) {
            out->lapic_addr = rd64(e + 4);
        }
        if (cpu) {
            c.enabled = flags & MADT_F_ENABLED;
            c.online_capable = flags & MADT_F_ONLINE_CAPABLE;
            long first = add_cpu(out, &seen, off, &c);
            if (first >= 0)
                FAIL("MADT: entry at offset 0x%x (type %u) has %s ID 0x%x, already used by the entry at offset 0x%lx",
                     off, type, c.x2apic ? "x2APIC" : "APIC", c.apic_id, (unsigned long)first);
        }
        off += elen;
    }
    return 0;
}

bool mp_find(const u8 *mem, size_t len, u64 base, u64 *config)
{
    if (!mem)
        return false;
    /* MP 1.4, 4.1: on a 16-byte physical boundary; 16 bytes ("_MP_",
     * pointer u32 at 4, length in 16-byte units at 8, checksum at 10). */
    for (size_t off = (16 - (base & 15)) & 15; len >= 16 && off <= len - 16; off += 16) {
        const u8 *p = mem + off;
        if (memcmp(p, "_MP_", 4) || p[8] != 1 || byte_sum(p, 16))
            continue;
        u32 ptr = rd32(p + 4);
        if (!ptr)
            return false;                             /* a default configuration */
        *config = ptr;
        return true;
    }
    return false;
}

static const char *mp_type_name(u8 type)
{
    switch (type) {
    case 0: return "processor";
    case 1: return "bus";
    case 2: return "I/O APIC";
    case 3: return "I/O interrupt assignment";
    case 4: return "local interrupt assignment";
    default: return "";
    }
}

int mp_parse(const u8 *t, size_t len, struct cpu_table *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (err && errlen)
        err[0] = 0;
    char sig[5];
    struct seen seen;

    if (!t || len < MP_HDR)
        FAIL("MP: %zu bytes readable, the configuration table header needs %d", t ? len : 0, MP_HDR);
    if (memcmp(t, "PCMP", 4))
        FAIL("MP: signature is '%s', expected 'PCMP'", sig_text(sig, t));
    u32 length = rd16(t + 4);
    if (length > len)
        FAIL("MP: base table length is %u, but only %zu bytes are readable", length, len);
    if (length < MP_HDR)
        FAIL("MP: base table length is %u, smaller than the %d-byte header", length, MP_HDR);
    u8 sum = byte_sum(t, length);
    if (sum)
        FAIL("MP: checksum over the %u-byte base table sums to 0x%02x, must be 0", length, sum);
    u32 count = rd16(t + 34);
    out->lapic_addr = rd32(t + 36);

    /* MP 1.4, 4.3: the entry type (first byte) gives the length: processor
     * 20 bytes (APIC ID at 1, CPU flags at 3), the others 8. */
    u32 off = MP_HDR;
    for (u32 i = 0; i < count; i++) {
        if (off >= length)
            FAIL("MP: entry %u of %u starts at offset 0x%x, at or past the end of the base table (length %u)",
                 i, count, off, length);
        const u8 *e = t + off;
        u8 type = e[0];
        if (type > 4)
            FAIL("MP: entry %u at offset 0x%x has unknown type %u (its length is unknown)", i, off, type);
        u32 need = type == 0 ? 20 : 8;
        if (need > length - off)
            FAIL("MP: entry %u at offset 0x%x (type %u, %s) needs %u bytes, crossing the end of the base table at 0x%x",
                 i, off, type, mp_type_name(type), need, length);
        if (type == 0) {
            struct cpu_entry c = { 0 };
            c.apic_id = e[1];
            c.enabled = e[3] & MP_CPU_EN;
            c.bsp = e[3] & MP_CPU_BP;
            long first = add_cpu(out, &seen, off, &c);
            if (first >= 0)
                FAIL("MP: entry %u at offset 0x%x (type 0, processor) has local APIC ID 0x%x, already used by the entry at offset 0x%lx",
                     i, off, c.apic_id, (unsigned long)first);
        }
        off += need;
    }
    return 0;
}
