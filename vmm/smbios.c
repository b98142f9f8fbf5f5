#include "vmm/smbios.h"
#include "lib/fmt.h"
#include "lib/hash.h"
#include "lib/string.h"

static u32 rd32(const u8 *p) { return p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24; }
static u64 rd64(const u8 *p) { return rd32(p) | (u64)rd32(p + 4) << 32; }

bool smbios_find(const u8 *area, size_t len, u64 *table, u32 *table_len)
{
    /* SMBIOS 3 first: a 64-bit table address. */
    for (size_t off = 0; off + 24 <= len; off += 16) {
        const u8 *e = area + off;
        if (!memcmp(e, "_SM3_", 5) && e[6] >= 24 && off + e[6] <= len && !byte_sum(e, e[6])) {
            *table = rd64(e + 0x10);
            *table_len = rd32(e + 0x0c);
            return true;
        }
    }
    for (size_t off = 0; off + 31 <= len; off += 16) {
        const u8 *e = area + off;
        if (!memcmp(e, "_SM_", 4) && e[5] >= 31 && off + e[5] <= len && !byte_sum(e, e[5]) &&
            !memcmp(e + 0x10, "_DMI_", 5) && !byte_sum(e + 0x10, 15)) {
            *table = rd32(e + 0x18);
            *table_len = e[0x16] | (u32)e[0x17] << 8;
            return true;
        }
    }
    return false;
}

bool smbios_uuid(const u8 *t, size_t len, char out[37])
{
    size_t off = 0;
    while (off + 4 <= len) {
        u8 type = t[off], slen = t[off + 1];
        if (slen < 4 || off + slen > len)
            return false;                           /* a broken structure ends the walk */
        if (type == 1) {
            if (slen < 0x19)
                return false;
            const u8 *u = t + off + 8;
            bool zeros = true, ones = true;
            for (int i = 0; i < 16; i++)
                zeros &= u[i] == 0, ones &= u[i] == 0xff;
            if (zeros || ones)
                return false;
            fmt_snprintf(out, 37, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", rd32(u),
                         (u32)(u[4] | u[5] << 8), (u32)(u[6] | u[7] << 8), u[8], u[9], u[10], u[11], u[12], u[13],
                         u[14], u[15]);
            return true;
        }
        if (type == 127)
            return false;                           /* end of table */
        /* Past the formatted area, the strings: up to a double NUL. */
        size_t s = off + slen;
        while (s + 1 < len && (t[s] || t[s + 1]))
            s++;
        if (s + 1 >= len)
            return false;
        off = s + 2;
    }
    return false;
}
