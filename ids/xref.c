/* Reference translations (ids/xref.h). */
#include "ids/xref.h"
#include "lib/fmt.h"
#include "lib/string.h"

void xref_init(struct xref *r) { memset(r, 0, sizeof(*r)); }

const char *xref_level_name(u8 level)
{
    static const char *const n[] = { "?", "PTE", "PDE", "PDPTE", "PML4E" };
    return level <= 4 ? n[level] : "?";
}

int xref_table_of(const struct xref *r, u64 gpa)
{
    gpa &= PT_ADDR_MASK;
    for (u32 i = 0; i < r->ntables; i++)
        if (r->tables[i] == gpa)
            return (int)i;
    return -1;
}

static int find(const struct xref *r, u64 table, u16 index)
{
    for (u32 i = 0; i < r->n; i++)
        if (r->e[i].table == table && r->e[i].index == index)
            return (int)i;
    return -1;
}

int xref_add(struct xref *r, const struct pt_paging *pg, pt_map_fn map, void *ctx, const char *what, u64 va,
             u64 len, u32 owner, char *err, size_t errlen)
{
    u32 n0 = r->n, t0 = r->ntables;
    if (!len || va + len < va) {
        fmt_snprintf(err, errlen, "%s: bad range 0x%llx, %llu bytes", what, (unsigned long long)va,
                     (unsigned long long)len);
        return -1;
    }
    if (r->nobjs == XREF_MAX_OBJECTS) {
        fmt_snprintf(err, errlen, "%s: the object table is full (%u of %u)", what, XREF_MAX_OBJECTS,
                     XREF_MAX_OBJECTS);
        return -1;
    }
    u32 obj = r->nobjs;
    u64 page = va & ~0xfffull, end = va + len;
    /* What a failure takes back: the objects' marks on entries already known. */
    u8 objs_before[XREF_MAX_ENTRIES];
    for (u32 i = 0; i < r->n; i++)
        objs_before[i] = r->e[i].objs;
    for (; page < end; page += 4096) {
        struct pt_walk w;
        if (pt_walk(pg, page, map, ctx, &w) != PT_OK) {
            fmt_snprintf(err, errlen, "%s: 0x%llx does not translate in the kernel's tables (%s at the %s)", what,
                         (unsigned long long)page, pt_status_name(w.status), xref_level_name((u8)w.level));
            goto undo;
        }
        for (int lvl = 4; lvl >= w.level; lvl--) {
            u64 table = w.table_gpa[4 - lvl];
            u16 index = (u16)(page >> (12 + 9 * (lvl - 1)) & 511);
            int k = find(r, table, index);
            if (k < 0) {
                if (r->n == XREF_MAX_ENTRIES) {
                    fmt_snprintf(err, errlen, "%s: the entry table is full (%u of %u)", what, XREF_MAX_ENTRIES,
                                 XREF_MAX_ENTRIES);
                    goto undo;
                }
                if (xref_table_of(r, table) < 0) {
                    if (r->ntables == XREF_MAX_TABLES) {
                        fmt_snprintf(err, errlen, "%s: the table-page table is full (%u of %u)", what,
                                     XREF_MAX_TABLES, XREF_MAX_TABLES);
                        goto undo;
                    }
                    r->tables[r->ntables++] = table;
                }
                k = (int)r->n++;
                r->e[k] = (struct xref_entry){ table, index, (u8)lvl, 0, w.entries[4 - lvl], page };
            }
            r->e[k].objs |= (u8)(1u << obj);
        }
        if (page + 4096 < page)
            break;                                  /* the last page of the address space */
    }
    r->obj[obj] = (struct xref_object){ what, va, len, owner };
    r->nobjs++;
    return 0;
undo:
    for (u32 i = 0; i < n0; i++)
        r->e[i].objs = objs_before[i];
    r->n = n0;
    r->ntables = t0;
    return -1;
}

u32 xref_changed(const struct xref *r, u64 table, const u64 *now, u32 *out, u32 max)
{
    u32 n = 0;
    table &= PT_ADDR_MASK;
    for (u32 i = 0; i < r->n && n < max; i++) {
        const struct xref_entry *x = &r->e[i];
        if (x->table == table && !xref_same(x, ((const volatile u64 *)now)[x->index]))
            out[n++] = i;
    }
    return n;
}
