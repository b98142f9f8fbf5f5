#include "vmm/guestinfo.h"
#include "lib/fmt.h"
#include "lib/string.h"

static bool push(struct mb2_mmap_entry *out, u32 *n, u32 max, u64 base, u64 len, u32 type)
{
    if (!len)
        return true;
    if (*n == max)
        return false;
    out[(*n)++] = (struct mb2_mmap_entry){ base, len, type };
    return true;
}

/* The type a guest is told: e820's and multiboot2's five, and persistent
 * memory (7, 12), which Linux knows, as they are; what GRUB adds from an
 * EFI memory map beyond those (20: the firmware's runtime code) is reserved
 * to the guest, as it is to vigil. */
static u32 guest_type(u32 type)
{
    return (type >= MB2_MEM_AVAILABLE && type <= MB2_MEM_BADRAM) || type == 7 || type == 12 ? type
                                                                                         : MB2_MEM_RESERVED;
}

u32 guest_mmap_build(const struct boot_info *bi, const struct mem_range *owned, u32 nowned,
                     struct mb2_mmap_entry *out, u32 max)
{
    u32 n = 0;
    for (u32 i = 0; i < bi->mmap_count; i++) {
        const struct mb2_mmap_entry *e = &bi->mmap[i];
        if (e->type != MB2_MEM_AVAILABLE) {
            if (!push(out, &n, max, e->base, e->len, guest_type(e->type)))
                return 0;
            continue;
        }
        /* Cut owned ranges (sorted, disjoint) out of this entry. */
        u64 s = e->base, end = e->base + e->len;
        for (u32 j = 0; j < nowned && s < end; j++) {
            u64 os = owned[j].start, oe = owned[j].end;
            if (!range_overlaps(s, end, os, oe))
                continue;
            if (os > s && !push(out, &n, max, s, os - s, MB2_MEM_AVAILABLE))
                return 0;
            u64 rs = os > s ? os : s, re = oe < end ? oe : end;
            if (!push(out, &n, max, rs, re - rs, MB2_MEM_RESERVED))
                return 0;
            s = re;
        }
        if (s < end && !push(out, &n, max, s, end - s, MB2_MEM_AVAILABLE))
            return 0;
    }
    /* Insertion sort by base: maps are short. */
    for (u32 i = 1; i < n; i++) {
        struct mb2_mmap_entry t = out[i];
        u32 j = i;
        while (j > 0 && out[j - 1].base > t.base) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = t;
    }
    return n;
}

void guest_meminfo(const struct mb2_mmap_entry *mmap, u32 n, u32 *lower_kb, u32 *upper_kb)
{
    u64 lower = 0, upper_end = MiB(1);
    for (u32 i = 0; i < n; i++)
        if (mmap[i].type == MB2_MEM_AVAILABLE && mmap[i].base == 0)
            lower = mmap[i].len < KiB(640) ? mmap[i].len : KiB(640);
    for (bool grew = true; grew;) {
        grew = false;
        for (u32 i = 0; i < n; i++) {
            const struct mb2_mmap_entry *e = &mmap[i];
            if (e->type == MB2_MEM_AVAILABLE && e->base <= upper_end && e->base + e->len > upper_end) {
                upper_end = e->base + e->len;
                grew = true;
            }
        }
    }
    if (upper_end > GiB(4))
        upper_end = GiB(4);
    *lower_kb = (u32)(lower >> 10);
    *upper_kb = (u32)((upper_end - MiB(1)) >> 10);
}

/* --- multiboot2 ----------------------------------------------------------- */

struct w {
    u8 *buf;
    size_t size, pos;
    bool full;
};

static void *room(struct w *w, size_t n)
{
    if (w->full || w->pos + n > w->size) {
        w->full = true;
        return 0;
    }
    void *p = w->buf + w->pos;
    memset(p, 0, n);
    w->pos += n;
    return p;
}

static void put32(u8 *p, u32 v) { memcpy(p, &v, 4); }
static void put64(u8 *p, u64 v) { memcpy(p, &v, 8); }

static void tag_string(struct w *w, u32 type, const char *s, const char *s2)
{
    size_t a = strlen(s), b = s2 && *s2 ? strlen(s2) + 1 : 0;
    u32 size = (u32)(8 + a + b + 1);
    u8 *t = room(w, ALIGN_UP(size, 8));
    if (!t)
        return;
    put32(t, type);
    put32(t + 4, size);
    memcpy(t + 8, s, a);
    if (b) {
        t[8 + a] = ' ';
        memcpy(t + 9 + a, s2, b - 1);
    }
}

size_t guest_mb2_info(u8 *buf, size_t size, const struct guest_boot_params *p)
{
    struct w w = { buf, size, 0, false };
    u8 *hdr = room(&w, 8);
    tag_string(&w, 1, p->cmdline, 0);
    tag_string(&w, 2, p->loader, 0);
    for (u32 i = 0; i < p->nmodules; i++) {
        const struct mb2_module *m = p->modules[i];
        size_t a = strlen(m->name), b = strlen(m->args);
        u32 tsize = (u32)(16 + a + (b ? b + 1 : 0) + 1);
        u8 *t = room(&w, ALIGN_UP(tsize, 8));
        if (!t)
            break;
        put32(t, 3);
        put32(t + 4, tsize);
        put32(t + 8, (u32)m->start);
        put32(t + 12, (u32)m->end);
        memcpy(t + 16, m->name, a);
        if (b) {
            t[16 + a] = ' ';
            memcpy(t + 17 + a, m->args, b);
        }
    }
    u32 lo, up;
    guest_meminfo(p->mmap, p->nmmap, &lo, &up);
    u8 *t = room(&w, 16);
    if (t) {
        put32(t, 4);
        put32(t + 4, 16);
        put32(t + 8, lo);
        put32(t + 12, up);
    }
    u32 msize = 16 + 24 * p->nmmap;
    t = room(&w, ALIGN_UP(msize, 8));
    if (t) {
        put32(t, 6);
        put32(t + 4, msize);
        put32(t + 8, 24);
        put32(t + 12, 0);
        for (u32 i = 0; i < p->nmmap; i++) {
            u8 *e = t + 16 + 24 * i;
            put64(e, p->mmap[i].base);
            put64(e + 8, p->mmap[i].len);
            put32(e + 16, p->mmap[i].type);
        }
    }
    if (p->bi && p->bi->rsdp_rev) {
        u32 n = p->bi->rsdp_rev == 1 ? 20 : 36;
        t = room(&w, ALIGN_UP(8 + n, 8));
        if (t) {
            put32(t, p->bi->rsdp_rev == 1 ? 14 : 15);
            put32(t + 4, 8 + n);
            memcpy(t + 8, p->bi->rsdp, n);
        }
    }
    t = room(&w, 8);
    if (t) {
        put32(t, 0);
        put32(t + 4, 8);
    }
    if (w.full)
        return 0;
    put32(hdr, (u32)w.pos);
    put32(hdr + 4, 0);
    return w.pos;
}

/* --- multiboot1 (spec 3.3) -------------------------------------------------- */

size_t guest_mb1_info(u8 *buf, size_t size, u32 phys, const struct guest_boot_params *p)
{
    struct w w = { buf, size, 0, false };
    u8 *info = room(&w, 88);
    if (!info)
        return 0;
    u32 flags = 0;
    u32 lo, up;
    guest_meminfo(p->mmap, p->nmmap, &lo, &up);
    put32(info + 4, lo);
    put32(info + 8, up);
    flags |= 1u << 0;                           /* mem_lower/upper */

    size_t cl = strlen(p->cmdline) + 1;
    u8 *s = room(&w, ALIGN_UP(cl, 4));
    if (s) {
        memcpy(s, p->cmdline, cl);
        put32(info + 16, phys + (u32)(s - buf));
        flags |= 1u << 2;
    }
    u8 *mods = room(&w, 16 * (size_t)p->nmodules);
    if (mods || !p->nmodules) {
        for (u32 i = 0; i < p->nmodules && mods; i++) {
            const struct mb2_module *m = p->modules[i];
            char line[MB2_CMDLINE_MAX + MB2_NAME_MAX + 1];
            fmt_snprintf(line, sizeof(line), "%s%s%s", m->name, m->args[0] ? " " : "", m->args);
            size_t n = strlen(line) + 1;
            u8 *ms = room(&w, ALIGN_UP(n, 4));
            if (!ms)
                break;
            memcpy(ms, line, n);
            put32(mods + 16 * i, (u32)m->start);
            put32(mods + 16 * i + 4, (u32)m->end);
            put32(mods + 16 * i + 8, phys + (u32)(ms - buf));
        }
        put32(info + 20, p->nmodules);
        put32(info + 24, mods ? phys + (u32)(mods - buf) : 0);
        flags |= 1u << 3;
    }
    u8 *mm = room(&w, 24 * (size_t)p->nmmap);
    if (mm) {
        for (u32 i = 0; i < p->nmmap; i++) {
            u8 *e = mm + 24 * i;
            put32(e, 20);                       /* size of the rest of the entry */
            put64(e + 4, p->mmap[i].base);
            put64(e + 12, p->mmap[i].len);
            put32(e + 20, p->mmap[i].type);
        }
        put32(info + 44, 24 * p->nmmap);
        put32(info + 48, phys + (u32)(mm - buf));
        flags |= 1u << 6;
    }
    size_t ll = strlen(p->loader) + 1;
    s = room(&w, ALIGN_UP(ll, 4));
    if (s) {
        memcpy(s, p->loader, ll);
        put32(info + 64, phys + (u32)(s - buf));
        flags |= 1u << 9;
    }
    if (w.full)
        return 0;
    put32(info, flags);
    return w.pos;
}
