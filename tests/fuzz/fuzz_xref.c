/* libFuzzer target: ids/xref.c, the translation guard's reference chains,
 * over guest page tables taken from the input:
 *   bytes 0-7    CR3
 *   bytes 8-55   three objects: (address, length) each, the length taken
 *                modulo 64 KiB (the guest's tables are hostile, the
 *                profile's sizes are not)
 *   the rest     guest RAM from gpa 0, zero-padded to whole pages
 * Each object is recorded or refused with a message; the reference must
 * hold what pt_walk finds (each recorded entry is the one its first page's
 * walk read, in a table page listed once), the tables must not overflow, a
 * refused object must leave the reference as it was, and comparing every
 * table page with itself must find no change, with a flipped judged bit one. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ids/xref.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

#define HDR 56
#define check(ok) do { if (!(ok)) { fprintf(stderr, "fuzz_xref: line %d: %s\n", __LINE__, #ok); abort(); } } while (0)

struct mem { uint8_t **page; u64 npages; };

static const void *map_ram(void *ctx, u64 gpa)
{
    struct mem *m = ctx;
    check((gpa & 0xfff) == 0);
    return gpa / 4096 < m->npages ? m->page[gpa / 4096] : NULL;
}

static u64 get64(const uint8_t *p)
{
    u64 v;
    memcpy(&v, p, 8);
    return v;
}

static struct xref r, before;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HDR)
        return 0;
    struct mem m;
    m.npages = (size - HDR + 4095) / 4096;
    if (m.npages > 64)
        m.npages = 64;
    m.page = calloc(m.npages ? m.npages : 1, sizeof(*m.page));
    for (u64 i = 0; i < m.npages; i++) {
        m.page[i] = calloc(1, 4096);
        u64 off = HDR + i * 4096, n = size - off < 4096 ? size - off : 4096;
        memcpy(m.page[i], data + off, n);
    }
    struct pt_paging pg;
    memset(&pg, 0, sizeof(pg));
    pg.mode = PT_MODE_4LEVEL;
    pg.cr3 = get64(data);
    pg.maxphys = 39;
    pg.nxe = true;
    xref_init(&r);
    char err[200];
    for (u32 o = 0; o < 3; o++) {
        u64 va = get64(data + 8 + 16 * o), len = get64(data + 16 + 16 * o) % 65536;
        before = r;
        err[0] = 0;
        if (xref_add(&r, &pg, map_ram, &m, "object", va, len, o, err, sizeof(err))) {
            check(err[0]);
            check(r.n == before.n && r.ntables == before.ntables && r.nobjs == before.nobjs);
            check(!memcmp(r.e, before.e, sizeof(r.e[0]) * r.n));
            continue;
        }
        check(r.nobjs == before.nobjs + 1);
        struct pt_walk w;
        check(pt_walk(&pg, va & ~0xfffull, map_ram, &m, &w) == PT_OK);
        for (int lvl = 4; lvl >= w.level; lvl--) {
            bool found = false;
            for (u32 i = 0; i < r.n; i++)
                if (r.e[i].table == w.table_gpa[4 - lvl] &&      /* (a loop may reuse a slot at another level) */
                    r.e[i].index == ((va & ~0xfffull) >> (12 + 9 * (lvl - 1)) & 511)) {
                    check(r.e[i].value == w.entries[4 - lvl]);
                    check(r.e[i].objs >> before.nobjs & 1);     /* its own bit: the count before it */
                    found = true;
                }
            check(found);
        }
    }
    check(r.n <= XREF_MAX_ENTRIES && r.ntables <= XREF_MAX_TABLES && r.nobjs <= 3);
    for (u32 t = 0; t < r.ntables; t++) {
        for (u32 u = 0; u < t; u++)
            check(r.tables[u] != r.tables[t]);
        check(xref_table_of(&r, r.tables[t]) == (int)t);
        const u64 *tab = map_ram(&m, r.tables[t]);
        check(tab);
        u32 out[XREF_MAX_ENTRIES];
        check(xref_changed(&r, r.tables[t], tab, out, XREF_MAX_ENTRIES) == 0);
    }
    if (r.n) {
        u64 *tab = (u64 *)map_ram(&m, r.e[0].table);
        tab[r.e[0].index] ^= 2;                     /* R/W: judged */
        u32 out[XREF_MAX_ENTRIES];
        check(xref_changed(&r, r.e[0].table, tab, out, XREF_MAX_ENTRIES) >= 1 && out[0] == 0);
    }
    for (u64 i = 0; i < m.npages; i++)
        free(m.page[i]);
    free(m.page);
    return 0;
}
