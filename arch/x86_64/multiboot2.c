/* Bounds-checked multiboot2 information parser. Every length comes from the
 * loader and is checked before it is used; anything malformed is refused with
 * a message rather than half-accepted. */
#include "arch/x86_64/multiboot2.h"
#include "lib/fmt.h"
#include "lib/string.h"

enum {
    TAG_END = 0,
    TAG_CMDLINE = 1,
    TAG_LOADER = 2,
    TAG_MODULE = 3,
    TAG_MEMINFO = 4,
    TAG_MMAP = 6,
    TAG_ACPI_OLD = 14,
    TAG_ACPI_NEW = 15,
};

static u32 rd32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }
static u64 rd64(const u8 *p) { u64 v; memcpy(&v, p, 8); return v; }

#define FAIL(...) do { fmt_snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

/* A string field: must end with NUL inside the tag and fit our buffer. */
static int take_string(const u8 *s, size_t room, char *dst, size_t dstsize, const char *what,
                       u32 off, char *err, size_t errlen)
{
    size_t n = str_nlen((const char *)s, room);
    if (n == room)
        FAIL("multiboot2: %s tag at offset %u: string not NUL-terminated within the tag", what, off);
    if (n >= dstsize)
        FAIL("multiboot2: %s tag at offset %u: string is %zu bytes, at most %zu allowed",
             what, off, n, dstsize - 1);
    memcpy(dst, s, n);
    dst[n] = 0;
    return 0;
}

static int parse_module(const u8 *t, u32 size, u32 off, struct boot_info *bi, char *err, size_t errlen)
{
    if (size < 17)
        FAIL("multiboot2: module tag at offset %u: size %u is too small (at least 17)", off, size);
    if (bi->module_count == MB2_MAX_MODULES)
        FAIL("multiboot2: more than %d modules; vigil takes at most %d", MB2_MAX_MODULES, MB2_MAX_MODULES);
    u32 start = rd32(t + 8), end = rd32(t + 12);
    if (end < start)
        FAIL("multiboot2: module tag at offset %u: mod_end 0x%x is below mod_start 0x%x", off, end, start);
    char line[MB2_CMDLINE_MAX + MB2_NAME_MAX];
    if (take_string(t + 16, size - 16, line, sizeof(line), "module", off, err, errlen))
        return -1;

    struct mb2_module *m = &bi->modules[bi->module_count];
    const char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = 0;
    while (p[n] && p[n] != ' ' && p[n] != '\t')
        n++;
    if (n >= MB2_NAME_MAX)
        FAIL("multiboot2: module tag at offset %u: name '%.*s' is longer than %d bytes",
             off, (int)n, p, MB2_NAME_MAX - 1);
    memcpy(m->name, p, n);
    m->name[n] = 0;
    p += n;
    while (*p == ' ' || *p == '\t')
        p++;
    if (strlen(p) >= MB2_CMDLINE_MAX)
        FAIL("multiboot2: module '%s': command line longer than %d bytes", m->name, MB2_CMDLINE_MAX - 1);
    str_copy(m->args, p, sizeof(m->args));
    m->start = start;
    m->end = end;
    bi->module_count++;
    return 0;
}

static int parse_mmap(const u8 *t, u32 size, u32 off, struct boot_info *bi, char *err, size_t errlen)
{
    if (size < 16)
        FAIL("multiboot2: memory map tag at offset %u: size %u is too small", off, size);
    u32 esize = rd32(t + 8);
    if (esize < 24 || esize % 8)
        FAIL("multiboot2: memory map tag at offset %u: entry_size %u (must be a multiple of 8, at least 24)",
             off, esize);
    u32 body = size - 16;
    if (body % esize)
        FAIL("multiboot2: memory map tag at offset %u: %u bytes of entries is not a multiple of entry_size %u",
             off, body, esize);
    u32 count = body / esize;
    if (count == 0)
        FAIL("multiboot2: memory map tag at offset %u: no entries", off);
    if (count > MB2_MAX_MMAP)
        FAIL("multiboot2: memory map has %u entries; vigil takes at most %d", count, MB2_MAX_MMAP);
    for (u32 i = 0; i < count; i++) {
        const u8 *e = t + 16 + (size_t)i * esize;
        u64 base = rd64(e), len = rd64(e + 8);
        if (len && base + len < base)
            FAIL("multiboot2: memory map entry %u: base 0x%llx + length 0x%llx wraps around",
                 i, (unsigned long long)base, (unsigned long long)len);
        bi->mmap[i].base = base;
        bi->mmap[i].len = len;
        bi->mmap[i].type = rd32(e + 16);
    }
    bi->mmap_count = count;
    return 0;
}

static int parse_rsdp(const u8 *t, u32 size, u32 off, u8 rev, struct boot_info *bi, char *err, size_t errlen)
{
    u32 need = rev == 1 ? 20 : 36;
    if (size < 8 + need)
        FAIL("multiboot2: ACPI RSDP tag at offset %u: size %u holds no %u-byte RSDP", off, size, need);
    if (memcmp(t + 8, "RSD PTR ", 8))
        FAIL("multiboot2: ACPI RSDP tag at offset %u: signature is not 'RSD PTR '", off);
    u8 sum = 0;
    for (u32 i = 0; i < 20; i++)
        sum += t[8 + i];
    if (sum)
        FAIL("multiboot2: ACPI RSDP tag at offset %u: bad checksum", off);
    if (rev < bi->rsdp_rev)
        return 0; /* keep the newer one */
    memset(bi->rsdp, 0, sizeof(bi->rsdp));
    memcpy(bi->rsdp, t + 8, need);
    bi->rsdp_rev = rev;
    return 0;
}

int mb2_parse(const void *mbi, size_t avail, u64 mbi_phys, struct boot_info *bi, char *err, size_t errlen)
{
    const u8 *base = mbi;
    memset(bi, 0, sizeof(*bi));
    if (err && errlen)
        err[0] = 0;

    if (!mbi)
        FAIL("multiboot2: no information structure (EBX was 0)");
    if (mbi_phys & 7)
        FAIL("multiboot2: information structure at 0x%llx is not 8-byte aligned", (unsigned long long)mbi_phys);
    if (avail < 8)
        FAIL("multiboot2: information structure truncated: %zu bytes, header needs 8", avail);
    u32 total = rd32(base);
    if (total < 16)
        FAIL("multiboot2: total_size %u is too small (header and end tag need 16)", total);
    if (total > MB2_INFO_MAX_SIZE)
        FAIL("multiboot2: total_size %u is larger than the %u vigil accepts", total, MB2_INFO_MAX_SIZE);
    if (total > avail)
        FAIL("multiboot2: total_size %u runs past the %zu bytes available", total, avail);
    bi->mbi_start = mbi_phys;
    bi->mbi_end = mbi_phys + total;

    bool seen_cmdline = false, seen_loader = false, seen_mmap = false, seen_end = false;
    u32 off = 8;
    while (off + 8 <= total) {
        const u8 *t = base + off;
        u32 type = rd32(t), size = rd32(t + 4);
        if (size < 8)
            FAIL("multiboot2: tag type %u at offset %u: size %u is smaller than a tag header", type, off, size);
        if (size > total - off)
            FAIL("multiboot2: tag type %u at offset %u: size %u runs past total_size %u", type, off, size, total);
        switch (type) {
        case TAG_END:
            if (size != 8)
                FAIL("multiboot2: end tag at offset %u has size %u, expected 8", off, size);
            seen_end = true;
            break;
        case TAG_CMDLINE:
            if (seen_cmdline)
                FAIL("multiboot2: second command-line tag at offset %u", off);
            seen_cmdline = true;
            if (take_string(t + 8, size - 8, bi->cmdline, sizeof(bi->cmdline), "command-line", off, err, errlen))
                return -1;
            break;
        case TAG_LOADER:
            if (seen_loader)
                FAIL("multiboot2: second boot-loader-name tag at offset %u", off);
            seen_loader = true;
            if (take_string(t + 8, size - 8, bi->loader, sizeof(bi->loader), "boot-loader-name", off, err, errlen))
                return -1;
            break;
        case TAG_MODULE:
            if (parse_module(t, size, off, bi, err, errlen))
                return -1;
            break;
        case TAG_MEMINFO:
            if (size < 16)
                FAIL("multiboot2: basic memory tag at offset %u: size %u, expected 16", off, size);
            bi->has_meminfo = true;
            bi->mem_lower_kb = rd32(t + 8);
            bi->mem_upper_kb = rd32(t + 12);
            break;
        case TAG_MMAP:
            if (seen_mmap)
                FAIL("multiboot2: second memory map tag at offset %u", off);
            seen_mmap = true;
            if (parse_mmap(t, size, off, bi, err, errlen))
                return -1;
            break;
        case TAG_ACPI_OLD:
        case TAG_ACPI_NEW:
            if (parse_rsdp(t, size, off, type == TAG_ACPI_OLD ? 1 : 2, bi, err, errlen))
                return -1;
            break;
        default:
            break; /* tags vigil does not use */
        }
        if (seen_end)
            break;
        off += (size + 7) & ~7u;
    }
    if (!seen_end)
        FAIL("multiboot2: no end tag within total_size %u", total);
    if (!seen_mmap)
        FAIL("multiboot2: the loader passed no memory map (tag 6); vigil cannot place itself without one");
    return 0;
}

const struct mb2_module *mb2_find_module(const struct boot_info *bi, const char *name)
{
    for (u32 i = 0; i < bi->module_count; i++)
        if (!strcmp(bi->modules[i].name, name))
            return &bi->modules[i];
    return NULL;
}

const char *mb2_mem_type_name(u32 type)
{
    switch (type) {
    case MB2_MEM_AVAILABLE: return "available";
    case MB2_MEM_RESERVED: return "reserved";
    case MB2_MEM_ACPI_RECLAIMABLE: return "ACPI reclaimable";
    case MB2_MEM_NVS: return "ACPI NVS";
    case MB2_MEM_BADRAM: return "bad RAM";
    /* What GRUB reports beyond e820's types, from an EFI memory map: */
    case 7: return "persistent";          /* EfiPersistentMemory */
    case 12: return "persistent (old)";   /* the pre-ACPI 6 persistent type */
    case 20: return "firmware code";      /* EfiRuntimeServicesCode: the firmware's, kept */
    default: return "unknown";
    }
}
