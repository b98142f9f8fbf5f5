/* libFuzzer target: pt_walk over a guest-physical memory image taken from
 * the input: bytes 0-7 CR3, 8-15 the address, 16 the physical address
 * width, the rest guest RAM from gpa 0 (little-endian entries). The read
 * callback refuses anything outside the image, as vigil's refuses what is
 * not guest RAM. The walk must end after at most four reads, never read
 * outside the image, and report a result consistent with what it read. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ids/ptwalk.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

static void check(int ok)
{
    if (!ok)
        abort();
}

struct mem {
    const uint8_t *ram;
    u64 size;
    u32 nreads;
    u64 gpa[8];
    bool ok[8];
};

static bool read_ram(void *ctx, u64 gpa, u64 *val)
{
    struct mem *m = ctx;
    check(m->nreads < 4);                         /* a fifth read is a bug */
    check((gpa & 7) == 0);
    m->gpa[m->nreads] = gpa;
    bool in = gpa < m->size && m->size - gpa >= 8;
    m->ok[m->nreads++] = in;
    if (!in)
        return false;
    memcpy(val, m->ram + gpa, 8);
    return true;
}

static u64 get64(const uint8_t *p)
{
    u64 v;
    memcpy(&v, p, 8);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 17)
        return 0;
    u64 cr3 = get64(data), gva = get64(data + 8);
    u32 maxphys = 32 + data[16] % 33;
    /* guest RAM in its own exact-size block: ASan sees any stray access */
    u64 ramsize = size - 17;
    uint8_t *ram = malloc(ramsize ? ramsize : 1);
    memcpy(ram, data + 17, ramsize);
    struct mem m = { .ram = ram, .size = ramsize };
    struct pt_walk w;
    memset(&w, 0xa5, sizeof(w));
    enum pt_status s = pt_walk(cr3, gva, maxphys, read_ram, &m, &w);

    check(s == w.status);
    check(m.nreads <= 4);
    bool canonical = (u64)((int64_t)(gva << 16) >> 16) == gva;
    if (!canonical) {
        check(s == PT_NONCANONICAL && m.nreads == 0);
        free(ram);
        return 0;
    }
    check(s != PT_NONCANONICAL);
    check(w.level >= 1 && w.level <= 4);
    u32 depth = 5 - (u32)w.level;                  /* entries read (or tried) */
    check(m.nreads == depth);
    u64 phys = (maxphys >= 52 ? (1ull << 52) : (1ull << maxphys)) - 1;
    check(w.table_gpa[0] == (cr3 & PT_ADDR_MASK & phys));
    bool wr = true, us = true, nx = false;
    for (u32 i = 0; i < 4; i++) {
        int lvl = 4 - (int)i;
        if (i >= depth) {
            check(w.entries[i] == 0 && w.table_gpa[i] == 0);
            continue;
        }
        /* each read is the entry the address selects in that table */
        u32 idx = (u32)(gva >> (12 + 9 * (lvl - 1))) & 511;
        check(m.gpa[i] == w.table_gpa[i] + idx * 8);
        check((w.table_gpa[i] & 0xfff) == 0);
        if (i + 1 < depth)
            check(m.ok[i] && (w.entries[i] & 1) && w.table_gpa[i + 1] == (w.entries[i] & PT_ADDR_MASK & phys));
        if (m.ok[i]) {
            check(w.entries[i] == get64(ram + m.gpa[i]));
            wr &= !!(w.entries[i] & 2);
            us &= !!(w.entries[i] & 4);
            nx |= !!(w.entries[i] >> 63);
        } else {
            check(w.entries[i] == 0);
        }
    }
    const u64 last = w.entries[depth - 1];
    switch (s) {
    case PT_OK: {
        check(w.level <= 3);
        check(m.ok[depth - 1] && (last & 1));
        u64 size_ = 1ull << (12 + 9 * (w.level - 1));
        check(w.page_size == size_);
        check(w.level == 1 || (last & 0x80));
        check(w.gpa == ((last & PT_ADDR_MASK & phys & ~(size_ - 1)) | (gva & (size_ - 1))));
        check(w.gpa <= phys);
        check(w.writable == wr && w.user == us && w.nx == nx);
        break;
    }
    case PT_NOT_PRESENT:
        check(m.ok[depth - 1] && !(last & 1));
        check(w.gpa == 0 && w.page_size == 0);
        break;
    case PT_BAD_TABLE:
        check(!m.ok[depth - 1]);
        check(w.gpa == 0 && w.page_size == 0);
        break;
    case PT_RESERVED:
        check(m.ok[depth - 1] && (last & 1));
        check(w.gpa == 0 && w.page_size == 0);
        break;
    default:
        check(0);
    }
    check(pt_status_name(s)[0] != '?');
    free(ram);
    return 0;
}
