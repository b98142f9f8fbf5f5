/* libFuzzer target: pt_walk and pt_visit, in every paging mode, over a
 * guest-physical memory image taken from the input:
 *   byte 0       mode (bits 1:0: 32-bit, PAE, 4-level, 5-level), CR4.PSE
 *                (bit 2), EFER.NXE (bit 3), the visitor's table verdicts
 *                (bits 7:4, mixed with each table's address)
 *   byte 1       the physical address width (32 + n % 33)
 *   byte 2       the visitor's table budget
 *   byte 3       the visitor stops after this many leaves (0: never)
 *   bytes 4-11   CR3
 *   bytes 12-19  the address walked, and the first of the range visited
 *   bytes 20-27  the length of the range visited, less one
 *   bytes 28-59  the four PDPTE registers (PAE)
 *   the rest     guest RAM from gpa 0, zero-padded to whole pages
 * Each page is its own allocation (ASan sees a read past it); pages past
 * the image are refused, as vigil refuses what is not guest RAM. The walk
 * must map at most its mode's tables, report what it read, and agree with
 * the SDM's rules checked here; the visit must stay within its budget and
 * its range, and every leaf it reports must be what pt_walk finds there. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ptwalk.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

#define HDR 60

#define check(ok) do { if (!(ok)) { fprintf(stderr, "fuzz_ptwalk: line %d: %s\n", __LINE__, #ok); abort(); } } while (0)

struct mem {
    uint8_t **page;
    u64 npages;
    u32 nmaps;
    u64 gpa[8];
    bool ok[8];
    bool walking;                  /* pt_walk: at most four maps are allowed */
};

static const void *map_ram(void *ctx, u64 gpa)
{
    struct mem *m = ctx;
    check((gpa & 0xfff) == 0);
    bool in = gpa / 4096 < m->npages;
    if (m->walking) {
        check(m->nmaps < 4);                  /* a fifth table is a bug */
        m->gpa[m->nmaps] = gpa;
        m->ok[m->nmaps] = in;
    }
    m->nmaps++;
    return in ? m->page[gpa / 4096] : NULL;
}

static u64 get64(const uint8_t *p)
{
    u64 v;
    memcpy(&v, p, 8);
    return v;
}

static u64 sext48(u64 x) { return (u64)((int64_t)(x << 16) >> 16); }

/* The entry at index i of the table at gpa, as the mode reads it. */
static u64 entry_at(const struct mem *m, u64 gpa, u32 i, bool wide)
{
    const uint8_t *t = m->page[gpa / 4096];
    if (wide)
        return get64(t + i * 8);
    u32 e;
    memcpy(&e, t + i * 4, 4);
    return e;
}

static void check_walk(const struct pt_paging *pg, u64 gva, struct mem *m)
{
    struct pt_walk w;
    memset(&w, 0xa5, sizeof(w));
    m->nmaps = 0;
    m->walking = true;
    enum pt_status s = pt_walk(pg, gva, map_ram, m, &w);
    m->walking = false;
    check(s == w.status);
    check(pt_status_name(s)[0] != '?');
    if (pg->mode == PT_MODE_5LEVEL) {
        check(s == PT_UNSUPPORTED && m->nmaps == 0);
        return;
    }
    bool l4 = pg->mode == PT_MODE_4LEVEL, wide = pg->mode != PT_MODE_32BIT, pae = pg->mode == PT_MODE_PAE;
    bool in_space = l4 ? sext48(gva) == gva : gva <= 0xffffffffull;
    if (!in_space) {
        check(s == PT_NONCANONICAL && m->nmaps == 0);
        return;
    }
    check(s != PT_NONCANONICAL && s != PT_UNSUPPORTED);
    int top = l4 ? 4 : pae ? 3 : 2, first_table = l4 ? 4 : 2;
    check(w.level >= 1 && w.level <= top);
    /* tables mapped: one per level from the first in memory to where it ended */
    u32 depth = w.level > first_table ? 0 : (u32)(first_table - w.level + 1);
    check(m->nmaps == depth);
    u32 maxphys = pg->maxphys < 32 ? 32 : pg->maxphys > 52 ? 52 : pg->maxphys;
    u64 phys = (1ull << maxphys) - 1;
    u32 bits = wide ? 9 : 10;
    bool wr = true, us = true, nx = false;
    for (int lvl = 4; lvl >= 1; lvl--) {
        u32 i = 4 - (u32)lvl;
        if (lvl > top || lvl < w.level) {
            check(w.entries[i] == 0 && w.table_gpa[i] == 0);
            continue;
        }
        if (pae && lvl == 3) {                                    /* the PDPTE register */
            check(w.entries[1] == pg->pdpte[gva >> 30 & 3]);
            check(w.table_gpa[1] == (pg->cr3 & PT_PDPT_MASK));
            continue;
        }
        u32 k = (u32)(first_table - lvl);                         /* which map */
        check(m->gpa[k] == w.table_gpa[i]);
        if (lvl == first_table && !pae)
            check(w.table_gpa[i] == (pg->cr3 & (wide ? PT_ADDR_MASK : 0xfffff000ull) & phys));
        else
            check(w.table_gpa[i] == (w.entries[i - 1] & (wide ? PT_ADDR_MASK : 0xfffff000ull)));
        if (!m->ok[k]) {
            check(w.entries[i] == 0 && lvl == w.level && s == PT_BAD_TABLE);
            continue;
        }
        u32 idx = (u32)(gva >> (12 + bits * (u32)(lvl - 1))) & ((1u << bits) - 1);
        check(w.entries[i] == entry_at(m, w.table_gpa[i], idx, wide));
        if (lvl > w.level)
            check(w.entries[i] & 1);
        wr &= !!(w.entries[i] & 2);
        us &= !!(w.entries[i] & 4);
        nx |= !!(w.entries[i] >> 63);
    }
    const u64 last = w.entries[4 - w.level];
    switch (s) {
    case PT_OK: {
        check(last & 1);
        check(w.level <= (l4 ? 3 : 2));
        check(w.level == 1 || (last & 0x80));
        u64 size = 1ull << (12 + bits * (u32)(w.level - 1));
        check(w.page_size == size);
        check((w.gpa & (size - 1)) == (gva & (size - 1)));
        if (wide)
            check(w.gpa == ((last & PT_ADDR_MASK & ~(size - 1)) | (gva & (size - 1))));
        else if (w.level == 1)
            check(w.gpa == ((last & 0xfffff000ull) | (gva & 0xfff)));
        else
            check(pg->pse && w.gpa < (1ull << 40));
        check(w.gpa <= phys);
        check(w.writable == wr && w.user == us && w.nx == nx);
        /* no reserved bit passed: the address within MAXPHYADDR, XD only with NXE */
        for (int lvl = w.level; lvl <= top; lvl++) {
            u64 e = w.entries[4 - lvl];
            if (wide)
                check(!(e & PT_ADDR_MASK & ~phys));
            if (pae)
                check(!(e & ~phys & ~(1ull << 63)));
            if (wide && !pg->nxe)
                check(!(e >> 63));
            if (l4 && lvl == 4)
                check(!(e & 0x80));
        }
        if (!wide)
            check(!w.nx);
        break;
    }
    case PT_NOT_PRESENT:
        check(!(last & 1));
        check(w.gpa == 0 && w.page_size == 0);
        break;
    case PT_BAD_TABLE:
        check(depth > 0 && !m->ok[depth - 1]);
        check(w.gpa == 0 && w.page_size == 0);
        break;
    case PT_RESERVED:
        check(last & 1);
        check(wide || (w.level == 2 && pg->pse && (last & 0x80)));
        check(w.gpa == 0 && w.page_size == 0);
        break;
    default:
        check(0);
    }
}

struct visit_ctx {
    struct mem *m;
    const struct pt_paging *pg;
    u64 first, last;               /* the range, clamped as the visitor does */
    u8 verdicts;
    u32 stop_after;
    u64 nleaves, prev_end;
    bool any;
};

static const void *map_visit(void *ctx, u64 gpa) { return map_ram(((struct visit_ctx *)ctx)->m, gpa); }

static enum pt_table_verdict on_table(void *ctx, const struct pt_table *t)
{
    struct visit_ctx *c = ctx;
    check(t->gpa / 4096 < c->m->npages && t->entries == c->m->page[t->gpa / 4096]);
    check(t->level >= 1 && t->level <= 4);
    u32 bits = c->pg->mode == PT_MODE_32BIT ? 10 : 9;
    u64 span = 1ull << (12 + bits * (u32)t->level);
    check((t->gva & (span - 1)) == 0);
    u32 h = (u32)((t->gpa >> 12) * 0x9e3779b1u) >> 28;
    return c->verdicts & (1u << (h & 3)) ? (h & 4 ? PT_VISIT_TABLES : PT_VISIT_NONE) : PT_VISIT_ALL;
}

static bool on_leaf(void *ctx, const struct pt_leaf *l)
{
    struct visit_ctx *c = ctx;
    check(l->size == KiB(4) || l->size == MiB(2) || l->size == MiB(4) || l->size == GiB(1));
    check((l->gva & (l->size - 1)) == 0 && (l->gpa & (l->size - 1)) == 0);
    /* in the range, in address order, each once */
    check(l->gva <= c->last && l->gva + (l->size - 1) >= c->first);
    check(!c->any || l->gva >= c->prev_end);
    c->any = true;
    c->prev_end = l->gva + l->size;
    /* what the walker finds there */
    if (c->nleaves < 256) {
        struct pt_walk w;
        u32 saved = c->m->nmaps;
        c->m->nmaps = 0;
        c->m->walking = true;
        check(pt_walk(c->pg, l->gva, map_ram, c->m, &w) == PT_OK);
        c->m->walking = false;
        c->m->nmaps = saved;
        check(w.gpa == l->gpa && w.page_size == l->size && w.level == l->level);
        check(w.entries[4 - l->level] == l->entry);
        check(w.writable == l->writable && w.user == l->user && w.nx == l->nx);
    }
    c->nleaves++;
    return !c->stop_after || c->nleaves < c->stop_after;
}

static void check_visit(const struct pt_paging *pg, u64 first, u64 len, u32 budget, u32 stop_after, u8 verdicts,
                        struct mem *m)
{
    u64 last = first + len < first ? ~0ull : first + len;
    struct visit_ctx c = { m, pg, first, last, verdicts, stop_after, 0, 0, false };
    if (pg->mode == PT_MODE_4LEVEL) {
        if (sext48(c.first) != c.first)
            c.first = 0xffff800000000000ull;
        if (sext48(c.last) != c.last)
            c.last = 0x00007fffffffffffull;
    } else if (c.last > 0xffffffffull) {
        c.last = 0xffffffffull;
    }
    const struct pt_visitor v = { .map = map_visit, .ctx = &c, .max_tables = budget, .table = on_table,
                                  .leaf = on_leaf };
    struct pt_visit_stats st;
    memset(&st, 0xa5, sizeof(st));
    m->nmaps = 0;
    enum pt_status s = pt_visit(pg, first, last, &v, &st);
    if (pg->mode == PT_MODE_5LEVEL) {
        check(s == PT_UNSUPPORTED && m->nmaps == 0 && c.nleaves == 0);
        return;
    }
    check(s == PT_OK);
    check(st.tables <= budget);
    check(m->nmaps == st.tables + st.bad_tables);
    check(st.leaves == c.nleaves);
    check(!stop_after || c.nleaves <= stop_after);
    check(st.stopped == (stop_after && c.nleaves == stop_after));
    if (c.first > c.last)
        check(m->nmaps == 0 && c.nleaves == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HDR)
        return 0;
    struct pt_paging pg = { .mode = (enum pt_mode)(data[0] & 3), .pse = data[0] >> 2 & 1, .nxe = data[0] >> 3 & 1,
                            .maxphys = 32 + data[1] % 33, .cr3 = get64(data + 4) };
    for (u32 i = 0; i < 4; i++)
        pg.pdpte[i] = get64(data + 28 + i * 8);
    u64 gva = get64(data + 12), len = get64(data + 20);
    struct mem m = { 0 };
    u64 ramsize = size - HDR;
    m.npages = (ramsize + 4095) / 4096;
    m.page = calloc(m.npages ? m.npages : 1, sizeof(*m.page));
    for (u64 p = 0; p < m.npages; p++) {
        m.page[p] = calloc(1, 4096);
        u64 n = ramsize - p * 4096 < 4096 ? ramsize - p * 4096 : 4096;
        memcpy(m.page[p], data + HDR + p * 4096, n);
    }
    check_walk(&pg, gva, &m);
    check_visit(&pg, gva, len, data[2], data[3], data[0] >> 4, &m);
    for (u64 p = 0; p < m.npages; p++)
        free(m.page[p]);
    free(m.page);
    return 0;
}
