/* libFuzzer target: the guest's PRD tables and configuration accesses, and
 * firmware's MCFG table (vmm/pcidma.c). The first bytes pick the table
 * pointer, the direction and a forbidden range; the rest is guest memory
 * holding the table. Invariants: a table accepted is at most
 * PRD_MAX_ENTRIES entries, ends with the end bit, and every region it
 * copied -- as the device would read the copy -- avoids the forbidden range
 * and equals what was judged; a refused one names a region that overlaps
 * it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/pcidma.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

static void check(int ok)
{
    if (!ok)
        abort();
}

struct ctx { const u8 *mem; size_t len; u64 lo, hi; };

static bool rd(void *p, u64 gpa, void *buf, u32 len)
{
    struct ctx *c = p;
    if (gpa > c->len || c->len - gpa < len)
        return false;
    memcpy(buf, c->mem + gpa, len);
    return true;
}

static int judge(void *p, const struct prd_region *r, bool to_memory, u64 *hit, u32 *owner)
{
    struct ctx *c = p;
    (void)to_memory;
    if (r->addr < c->hi && r->addr + r->len > c->lo) {
        *hit = r->addr > c->lo ? r->addr : c->lo;
        *owner = 1;
        return 1;
    }
    return 0;
}

static u32 shadow[2 * PRD_MAX_ENTRIES];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 16)
        return 0;
    u32 table, lo, span, addr;
    memcpy(&table, data, 4);
    memcpy(&lo, data + 4, 4);
    memcpy(&span, data + 8, 4);
    memcpy(&addr, data + 12, 4);
    struct ctx c = { data + 16, size - 16, lo, (u64)lo + (span & 0xfffff) };
    struct prd_result r;
    prd_shadow(table % (size + 8), data[0] & 1, rd, judge, &c, shadow, &r);
    if (r.status == PRD_OK) {
        check(r.entries >= 1 && r.entries <= PRD_MAX_ENTRIES);
        check(shadow[2 * (r.entries - 1) + 1] & PRD_EOT);
        for (u32 i = 0; i < r.entries; i++) {
            struct prd_region g = prd_entry_region(shadow[2 * i], shadow[2 * i + 1], i);
            check(!(g.addr < c.hi && g.addr + g.len > c.lo));
            check(i + 1 == r.entries || !(shadow[2 * i + 1] & PRD_EOT));
        }
    } else if (r.status == PRD_REFUSED) {
        check(r.bad.addr < c.hi && r.bad.addr + r.bad.len > c.lo && r.hit >= r.bad.addr &&
              r.hit < r.bad.addr + r.bad.len);
    }
    struct pci_cfg cfg;
    u16 port = (u16)(0xcf8 + (data[1] & 7));
    u32 sz = 1u << (data[2] % 3);
    if (pci_cfg_decode(addr, port, sz, &cfg))
        check(cfg.reg <= 0xff && cfg.dev < 32 && cfg.fn < 8 && port >= 0xcfc && port + sz <= 0xd00);
    bool had;
    u32 v = pci_cfg_strip_master(cfg.reg = data[3], sz, addr, &had);
    check(!had || v != addr);
    struct mcfg_window w[MCFG_MAX];
    char err[120];
    u8 *copy = malloc(size);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    int n = mcfg_parse(copy, size, w, MCFG_MAX, err, sizeof(err));
    check(n <= MCFG_MAX);
    for (int i = 0; i < n; i++)
        check(w[i].start < w[i].end && w[i].end - w[i].start <= (256ull << 20));
    free(copy);
    return 0;
}
