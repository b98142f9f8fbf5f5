/* testos: multiboot2 information parsing (multiboot2 spec, 3.6).
 * Works on the copy boot.asm made; every tag and entry is bounds-checked
 * against the bytes actually copied. */
#include "boot.h"

u8 mbi_copy[MBI_MAX] __attribute__((aligned(8)));
struct bootinfo bootinfo;

#define TAG_END      0
#define TAG_CMDLINE  1
#define TAG_LOADER   2
#define TAG_MMAP     6
#define TAG_ACPI_OLD 14
#define TAG_ACPI_NEW 15

static u32 rd32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }
static u64 rd64(const u8 *p) { u64 v; memcpy(&v, p, 8); return v; }

static void copy_str(char *dst, size_t dlen, const u8 *src, size_t slen)
{
    size_t i;
    for (i = 0; i + 1 < dlen && i < slen && src[i]; i++)
        dst[i] = (char)src[i];
    dst[i] = 0;
}

bool mb2_parse(const u8 *mbi, size_t copied, size_t total, struct bootinfo *bi,
               char *err, size_t errlen)
{
    memset(bi, 0, sizeof *bi);
    if (total < 16 || copied < 16) {
        ksnprintf(err, errlen, "information structure too small (total_size %zu)", total);
        return false;
    }
    if (total > copied) {
        ksnprintf(err, errlen, "information structure of %zu bytes exceeds the %zu-byte copy", total, copied);
        return false;
    }
    size_t off = 8;
    bool end = false;
    while (off + 8 <= total) {
        u32 type = rd32(mbi + off), size = rd32(mbi + off + 4);
        if (size < 8 || size > total - off) {
            ksnprintf(err, errlen, "tag %u at offset %zu has bad size %u", type, off, size);
            return false;
        }
        const u8 *body = mbi + off + 8;
        size_t blen = size - 8;
        switch (type) {
        case TAG_END:
            end = true;
            break;
        case TAG_CMDLINE:
            copy_str(bi->cmdline, sizeof bi->cmdline, body, blen);
            break;
        case TAG_LOADER:
            copy_str(bi->loader, sizeof bi->loader, body, blen);
            break;
        case TAG_MMAP: {
            if (blen < 8) {
                ksnprintf(err, errlen, "memory map tag too short (%zu bytes)", blen);
                return false;
            }
            u32 esize = rd32(body);
            if (esize < 24 || esize % 8) {
                ksnprintf(err, errlen, "memory map entry size %u invalid", esize);
                return false;
            }
            for (size_t e = 8; e + esize <= blen; e += esize) {
                if (bi->nmmap == MMAP_MAX) {
                    ksnprintf(err, errlen, "more than %d memory map entries", MMAP_MAX);
                    return false;
                }
                struct memrange *r = &bi->mmap[bi->nmmap++];
                r->base = rd64(body + e);
                r->len = rd64(body + e + 8);
                r->type = rd32(body + e + 16);
                if (r->base + r->len < r->base)
                    r->len = ~0ull - r->base;
            }
            break;
        }
        case TAG_ACPI_OLD:
        case TAG_ACPI_NEW:
            if (blen >= 20 && (type == TAG_ACPI_NEW || !bi->rsdp_len)) {
                bi->rsdp_len = blen < sizeof bi->rsdp ? blen : sizeof bi->rsdp;
                memcpy(bi->rsdp, body, bi->rsdp_len);
            }
            break;
        }
        if (end)
            break;
        off += ALIGN_UP(size, 8);
    }
    if (!end) {
        ksnprintf(err, errlen, "no end tag within %zu bytes", total);
        return false;
    }
    if (!bi->nmmap) {
        ksnprintf(err, errlen, "no memory map tag");
        return false;
    }
    return true;
}

bool cmdline_get(const char *cmdline, const char *key, char *out, size_t outlen)
{
    size_t klen = strlen(key);
    const char *p = cmdline;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *tok = p;
        while (*p && *p != ' ')
            p++;
        if ((size_t)(p - tok) > klen && !strncmp(tok, key, klen) && tok[klen] == '=') {
            size_t n = p - tok - klen - 1;
            if (n >= outlen)
                n = outlen - 1;
            memcpy(out, tok + klen + 1, n);
            out[n] = 0;
            return true;
        }
    }
    return false;
}

/* Splits available entries so that [base, end) becomes type 2 (reserved). */
void mmap_hide(struct bootinfo *bi, u64 base, u64 end)
{
    struct memrange out[MMAP_MAX];
    int n = 0;
    for (int i = 0; i < bi->nmmap && n < MMAP_MAX; i++) {
        struct memrange r = bi->mmap[i];
        u64 rs = r.base, re = r.base + r.len;
        if (r.type != MEM_AVAILABLE || re <= base || rs >= end) {
            out[n++] = r;
            continue;
        }
        if (rs < base && n < MMAP_MAX)
            out[n++] = (struct memrange){ rs, base - rs, r.type };
        u64 hs = rs > base ? rs : base, he = re < end ? re : end;
        if (n < MMAP_MAX)
            out[n++] = (struct memrange){ hs, he - hs, 2 };
        if (re > end && n < MMAP_MAX)
            out[n++] = (struct memrange){ end, re - end, r.type };
    }
    memcpy(bi->mmap, out, n * sizeof out[0]);
    bi->nmmap = n;
}

const char *memtype_name(u32 type)
{
    switch (type) {
    case 1: return "available";
    case 2: return "reserved";
    case 3: return "ACPI";
    case 4: return "NVS";
    case 5: return "bad";
    default: return "other";
    }
}
