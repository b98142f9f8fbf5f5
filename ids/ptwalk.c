#include "ids/ptwalk.h"
#include "lib/string.h"

#define P   (1ull << 0)
#define RW  (1ull << 1)
#define US  (1ull << 2)
#define PS  (1ull << 7)
#define NX  (1ull << 63)

enum pt_status pt_walk(u64 cr3, u64 gva, u32 maxphys, pt_read_fn read, void *ctx, struct pt_walk *w)
{
    memset(w, 0, sizeof(*w));
    w->writable = w->user = true;
    if ((u64)((s64)(gva << 16) >> 16) != gva)
        return w->status = PT_NONCANONICAL;
    u64 phys_mask = (maxphys >= 52 ? (1ull << 52) : (1ull << maxphys)) - 1;
    u64 addr_mask = PT_ADDR_MASK & phys_mask;
    /* Bits 51:maxphys of an entry's address are reserved; so are bits 62:52
     * in this walker's view except the ones the OS may use (62:52 are
     * ignored by hardware, so they are not checked). */
    u64 rsvd_addr = PT_ADDR_MASK & ~phys_mask;
    u64 table = cr3 & addr_mask;
    for (int lvl = 4; lvl >= 1; lvl--) {
        u32 idx = (u32)(gva >> (12 + 9 * (lvl - 1))) & 511;
        u64 e;
        w->level = lvl;
        w->table_gpa[4 - lvl] = table;
        if (!read(ctx, table + idx * 8, &e))
            return w->status = PT_BAD_TABLE;
        w->entries[4 - lvl] = e;
        if (!(e & P))
            return w->status = PT_NOT_PRESENT;
        if (e & rsvd_addr)
            return w->status = PT_RESERVED;
        w->writable &= !!(e & RW);
        w->user &= !!(e & US);
        w->nx |= !!(e & NX);
        bool leaf = lvl == 1 || ((lvl == 2 || lvl == 3) && (e & PS));
        if (lvl == 4 && (e & PS))
            return w->status = PT_RESERVED;            /* PS must be 0 in a PML4E */
        if (leaf) {
            u64 size = 1ull << (12 + 9 * (lvl - 1));
            u64 base = e & addr_mask & ~(size - 1);
            /* Large pages: bits 12 .. log2(size)-1 hold PAT and must be 0
             * apart from bit 12. */
            if (lvl > 1 && (e & addr_mask & (size - 1) & ~0x1000ull))
                return w->status = PT_RESERVED;
            w->page_size = size;
            w->gpa = base | (gva & (size - 1));
            return w->status = PT_OK;
        }
        table = e & addr_mask;
    }
    return w->status = PT_BAD_TABLE;                   /* not reached */
}

const char *pt_status_name(enum pt_status s)
{
    switch (s) {
    case PT_OK: return "ok";
    case PT_NOT_PRESENT: return "not present";
    case PT_BAD_TABLE: return "page table outside guest RAM";
    case PT_RESERVED: return "reserved bits set";
    case PT_NONCANONICAL: return "non-canonical address";
    }
    return "?";
}
