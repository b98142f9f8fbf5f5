/* ELF + multiboot header validation for guest kernels. Pure. */
#include "vmm/loader.h"
#include "lib/fmt.h"
#include "lib/string.h"

#define FAIL(...) do { fmt_snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

static u16 r16(const u8 *p) { u16 v; memcpy(&v, p, 2); return v; }
static u32 r32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }
static u64 r64(const u8 *p) { u64 v; memcpy(&v, p, 8); return v; }

/* Boot information tags vigil gives a multiboot2 guest. */
static bool mb2_tag_provided(u32 t) { return t == 1 || t == 2 || t == 3 || t == 4 || t == 6 || t == 14 || t == 15; }

static int mb2_header(const u8 *img, u64 len, u64 h, struct guest_image *out, bool *has_entry, u64 *entry,
                      char *err, size_t errlen)
{
    u32 arch = r32(img + h + 4), hlen = r32(img + h + 8), sum = r32(img + h + 12);
    if ((u32)(0xe85250d6u + arch + hlen + sum) != 0)
        FAIL("guest: multiboot2 header at file offset 0x%llx: bad checksum", (unsigned long long)h);
    if (arch != 0)
        FAIL("guest: multiboot2 header: architecture %u is not i386 (0)", arch);
    if (hlen < 24 || h + hlen > len)
        FAIL("guest: multiboot2 header: header_length %u runs past the file or leaves no end tag", hlen);
    for (u64 off = 16; off + 8 <= hlen;) {
        const u8 *t = img + h + off;
        u16 type = r16(t), flags = r16(t + 2);
        u32 size = r32(t + 4);
        bool optional = flags & 1;
        if (size < 8 || off + size > hlen)
            FAIL("guest: multiboot2 header tag type %u at +%llu: size %u runs past the header",
                 type, (unsigned long long)off, size);
        switch (type) {
        case 0:
            out->boot = GUEST_BOOT_MB2;
            return 0;
        case 1:                                      /* information request */
            for (u32 i = 8; i + 4 <= size; i += 4) {
                u32 want = r32(t + i);
                if (!optional && !mb2_tag_provided(want))
                    FAIL("guest: requires multiboot2 information tag %u, which vigil does not provide", want);
            }
            break;
        case 2:
            if (!optional)
                FAIL("guest: multiboot2 address tag (a.out kludge) is not supported; use the ELF headers");
            break;
        case 3:
            if (size < 12)
                FAIL("guest: multiboot2 entry address tag too short");
            *has_entry = true;
            *entry = r32(t + 8);
            break;
        case 4: case 6: case 10:
            break;                                   /* console flags, module alignment, relocatable */
        default:
            if (!optional)
                FAIL("guest: requires multiboot2 header tag %u (%s), which vigil does not support", type,
                     type == 5 ? "framebuffer" : type == 7 ? "EFI boot services" :
                     type == 8 || type == 9 ? "EFI entry" : "unknown");
            break;
        }
        off += (size + 7) & ~7u;
    }
    FAIL("guest: multiboot2 header has no end tag");
}

static int mb1_header(const u8 *img, u64 h, struct guest_image *out, char *err, size_t errlen)
{
    u32 flags = r32(img + h + 4), sum = r32(img + h + 8);
    if ((u32)(0x1badb002u + flags + sum) != 0)
        FAIL("guest: multiboot1 header at file offset 0x%llx: bad checksum", (unsigned long long)h);
    /* Bits 0-15 are requirements (spec 3.1.2): 0 page-aligned modules and
     * 1 memory information are met; any other is refused. Bit 16 (address
     * fields) is ignored for ELF files: the ELF headers are used. */
    if (flags & 0xfffc)
        FAIL("guest: multiboot1 header requires flags 0x%x vigil cannot meet (video mode or unknown)",
             flags & 0xfffc);
    out->boot = GUEST_BOOT_MB1;
    return 0;
}

static int check_segment(const struct guest_segment *s, u32 idx, const struct guest_image *out,
                         const struct boot_info *bi, const struct mem_range *owned, u32 nowned,
                         char *err, size_t errlen)
{
    u64 end = s->paddr + s->memsz;
    if (end < s->paddr)
        FAIL("guest: segment %u: address 0x%llx + size 0x%llx wraps around", idx,
             (unsigned long long)s->paddr, (unsigned long long)s->memsz);
    if (end > GiB(4))
        FAIL("guest: segment %u at 0x%llx-0x%llx ends above 4 GiB, where vigil does not load guests", idx,
             (unsigned long long)s->paddr, (unsigned long long)end);
    for (u32 i = 0; i < nowned; i++)
        if (range_overlaps(s->paddr, end, owned[i].start, owned[i].end))
            FAIL("guest: segment %u at 0x%llx-0x%llx overlaps vigil's memory 0x%llx-0x%llx", idx,
                 (unsigned long long)s->paddr, (unsigned long long)end,
                 (unsigned long long)owned[i].start, (unsigned long long)owned[i].end);
    if (!memmap_is_ram(bi, s->paddr, end))
        FAIL("guest: segment %u at 0x%llx-0x%llx is not in available RAM", idx,
             (unsigned long long)s->paddr, (unsigned long long)end);
    for (u32 i = 0; i < bi->module_count; i++)
        if (range_overlaps(s->paddr, end, bi->modules[i].start, bi->modules[i].end))
            FAIL("guest: segment %u at 0x%llx-0x%llx overlaps module '%s' at 0x%llx-0x%llx", idx,
                 (unsigned long long)s->paddr, (unsigned long long)end, bi->modules[i].name,
                 (unsigned long long)bi->modules[i].start, (unsigned long long)bi->modules[i].end);
    for (u32 i = 0; i < out->nseg; i++)
        if (range_overlaps(s->paddr, end, out->seg[i].paddr, out->seg[i].paddr + out->seg[i].memsz))
            FAIL("guest: segments %u and %u overlap (0x%llx-0x%llx and 0x%llx-0x%llx)", i, idx,
                 (unsigned long long)out->seg[i].paddr,
                 (unsigned long long)(out->seg[i].paddr + out->seg[i].memsz),
                 (unsigned long long)s->paddr, (unsigned long long)end);
    return 0;
}

int loader_check(const u8 *img, u64 len, const struct boot_info *bi, const struct mem_range *owned,
                 u32 nowned, struct guest_image *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (len < 4 || memcmp(img, "\x7f" "ELF", 4))
        FAIL("guest: not an ELF file (%llu bytes, no \\x7fELF magic), nor a Linux bzImage (no HdrS at 0x202)",
             (unsigned long long)len);
    if (len < 52)
        FAIL("guest: ELF file truncated: %llu bytes, smaller than an ELF header", (unsigned long long)len);
    u8 cls = img[4];
    if (cls != 1 && cls != 2)
        FAIL("guest: ELF class %u is neither 32-bit (1) nor 64-bit (2)", cls);
    if (img[5] != 1)
        FAIL("guest: ELF is not little-endian");
    bool is64 = cls == 2;
    if (is64 && len < 64)
        FAIL("guest: ELF64 file truncated: %llu bytes, smaller than an ELF64 header", (unsigned long long)len);
    u16 type = r16(img + 16), machine = r16(img + 18);
    if (type != 2)
        FAIL("guest: ELF type %u is not an executable (2)", type);
    if (machine != (is64 ? 62 : 3))
        FAIL("guest: ELF machine %u is not %s", machine, is64 ? "x86-64 (62)" : "i386 (3)");
    u64 e_entry = is64 ? r64(img + 24) : r32(img + 24);
    u64 phoff = is64 ? r64(img + 32) : r32(img + 28);
    u16 phentsize = r16(img + (is64 ? 54 : 42)), phnum = r16(img + (is64 ? 56 : 44));
    if (phentsize != (is64 ? 56 : 32))
        FAIL("guest: ELF program header size %u, expected %u", phentsize, is64 ? 56 : 32);
    if (phnum == 0)
        FAIL("guest: ELF has no program headers");
    if (phoff > len || (u64)phnum * phentsize > len - phoff)
        FAIL("guest: ELF program headers (%u at offset 0x%llx) run past the end of the %llu-byte file",
             phnum, (unsigned long long)phoff, (unsigned long long)len);

    /* The multiboot header: multiboot2 in the first 32 KiB (8-aligned),
     * else multiboot1 in the first 8 KiB (4-aligned). */
    bool has_entry = false;
    u64 hdr_entry = 0;
    for (u64 h = 0; h + 16 <= len && h < 32768; h += 8)
        if (r32(img + h) == 0xe85250d6u) {
            if (mb2_header(img, len, h, out, &has_entry, &hdr_entry, err, errlen))
                return -1;
            break;
        }
    if (!out->boot)
        for (u64 h = 0; h + 12 <= len && h < 8192; h += 4)
            if (r32(img + h) == 0x1badb002u) {
                if (mb1_header(img, h, out, err, errlen))
                    return -1;
                break;
            }
    if (!out->boot)
        FAIL("guest: no multiboot2 or multiboot1 header in the image");

    u64 entry = 0;
    bool entry_found = false;
    for (u32 i = 0; i < phnum; i++) {
        const u8 *ph = img + phoff + (u64)i * phentsize;
        if (r32(ph) != 1)                              /* PT_LOAD */
            continue;
        struct guest_segment s;
        u64 vaddr;
        if (is64) {
            s.offset = r64(ph + 8);
            vaddr = r64(ph + 16);
            s.paddr = r64(ph + 24);
            s.filesz = r64(ph + 32);
            s.memsz = r64(ph + 40);
        } else {
            s.offset = r32(ph + 4);
            vaddr = r32(ph + 8);
            s.paddr = r32(ph + 12);
            s.filesz = r32(ph + 16);
            s.memsz = r32(ph + 20);
        }
        if (s.memsz == 0)
            continue;
        if (s.filesz > s.memsz)
            FAIL("guest: segment %u: file size 0x%llx is larger than its memory size 0x%llx", out->nseg,
                 (unsigned long long)s.filesz, (unsigned long long)s.memsz);
        if (s.offset > len || s.filesz > len - s.offset)
            FAIL("guest: segment %u: bytes 0x%llx-0x%llx of the file, but the image is truncated at 0x%llx",
                 out->nseg, (unsigned long long)s.offset, (unsigned long long)(s.offset + s.filesz),
                 (unsigned long long)len);
        if (out->nseg == LOADER_MAX_SEGS)
            FAIL("guest: more than %d loadable segments", LOADER_MAX_SEGS);
        if (check_segment(&s, out->nseg, out, bi, owned, nowned, err, errlen))
            return -1;
        /* The entry point may be virtual (higher-half kernels): translate it
         * through the segment that contains it, as GRUB does. */
        if (!entry_found && e_entry >= vaddr && e_entry - vaddr < s.memsz) {
            entry = e_entry - vaddr + s.paddr;
            entry_found = true;
        }
        out->seg[out->nseg++] = s;
    }
    if (out->nseg == 0)
        FAIL("guest: ELF has no loadable segment");
    if (has_entry) {
        entry = hdr_entry;
        entry_found = true;
    }
    if (!entry_found)
        FAIL("guest: entry point 0x%llx lies in no loadable segment", (unsigned long long)e_entry);
    bool in_seg = false;
    for (u32 i = 0; i < out->nseg; i++)
        if (entry >= out->seg[i].paddr && entry < out->seg[i].paddr + out->seg[i].memsz)
            in_seg = true;
    if (!in_seg || entry >= GiB(4))
        FAIL("guest: entry point 0x%llx is not in a loaded segment below 4 GiB", (unsigned long long)entry);
    out->entry = entry;
    out->elf_class = is64 ? 64 : 32;
    return 0;
}
