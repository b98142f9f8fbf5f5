/* A fake vmm/ layer for host tests of ids/ (see fake_vmm.h). */
#include <stdio.h>
#include <stdlib.h>

#include "tests/unit/fake_vmm.h"
#include "vmm/introspect.h"
#include "lib/log.h"
#include "lib/string.h"
#include "lib/ptwalk.h"

u8 *fake_mem;
struct fake_vmm fake;
static u64 next_page;

#define CONSOLE_SIZE (4u << 20)
static char *console;
static size_t console_len;

static u32 sink(const char *buf, u32 n, bool wait)
{
    (void)wait;
    for (u32 i = 0; i < n; i++)
        if (console_len + 1 < CONSOLE_SIZE) {
            console[console_len++] = buf[i];
            console[console_len] = 0;
        }
    return n;
}

/* Subscriptions go into a real registry (vmm/traps.c), as in vmm/. */
static struct traps traps;

void fake_reset(void)
{
    memset(&traps, 0, sizeof(traps));
    if (!fake_mem) {
        fake_mem = aligned_alloc(4096, FAKE_MEM_SIZE);
        console = malloc(CONSOLE_SIZE);
        if (!fake_mem || !console) {
            fprintf(stderr, "fake_vmm: out of memory\n");
            exit(1);
        }
    }
    memset(fake_mem, 0, FAKE_MEM_SIZE);
    memset(&fake, 0, sizeof(fake));
    next_page = FAKE_ALLOC_LO;
    console_len = 0;
    console[0] = 0;
    log_set_console(sink);
    log_set_level(LOG_DEBUG);
}

/* --- vmm/guestmem.h --------------------------------------------------------- */

void guestmem_init(const struct boot_info *bi) { (void)bi; }

bool guestmem_is_guest_ram(u64 gpa, u64 len)
{
    if (!fake_mem || len > FAKE_MEM_SIZE || gpa > FAKE_MEM_SIZE - len)
        return false;
    return !(gpa < FAKE_HV_HI && gpa + len > FAKE_HV_LO);     /* vigil's memory is not the guest's */
}

bool guestmem_read(u64 gpa, void *buf, u64 len)
{
    if (len > GUESTMEM_MAX_READ || !guestmem_is_guest_ram(gpa, len))
        return false;
    memcpy(buf, fake_mem + gpa, len);
    return true;
}

bool guestmem_write(u64 gpa, const void *buf, u64 len)
{
    if (len > GUESTMEM_MAX_READ || !guestmem_is_guest_ram(gpa, len))
        return false;
    memcpy(fake_mem + gpa, buf, len);
    return true;
}

const void *guestmem_map(u64 gpa, u64 len)
{
    return guestmem_is_guest_ram(gpa, len) ? fake_mem + gpa : NULL;
}

/* --- vmm/introspect.h ------------------------------------------------------- */

bool vmm_trap_pages(u64 gpa, u64 len, u32 access, u32 owner, char *err, size_t errlen)
{
    if (fake.protect_fails) {
        snprintf(err, errlen, "EPT refused (test)");
        return false;
    }
    if (trap_add_page(&traps, gpa, len, access, owner, err, errlen) < 0)
        return false;
    /* Recorded as EPT protects it: whole pages. */
    u64 start = ALIGN_DOWN(gpa, 4096), end = ALIGN_UP(gpa + len, 4096);
    if (fake.nprotect < FAKE_MAX_RECORDS)
        fake.protect[fake.nprotect++] = (struct fake_protect){ start, end - start, access };
    return true;
}

bool vmm_ept_is_protected(u64 gpa) { return trap_page_access(&traps, gpa) != 0; }
void vmm_flush_guest_translations(void) { fake.flushes++; }

bool vmm_trap_ports(u16 lo, u16 hi, u32 owner, char *err, size_t errlen)
{
    if (trap_add_ports(&traps, lo, hi, owner, err, errlen) < 0)
        return false;
    if (fake.nwatch < FAKE_MAX_RECORDS)
        fake.watch[fake.nwatch++] = (struct fake_watch){ lo, (u16)(hi - lo + 1) };
    return true;
}

bool vmm_trap_msr_write(u32 msr, u32 owner, char *err, size_t errlen)
{
    return trap_add_msr(&traps, msr, owner, err, errlen) >= 0;
}

bool vmm_trap_cr_write(u8 cr, u64 bits, u32 owner, char *err, size_t errlen)
{
    return trap_add_cr(&traps, cr, bits, owner, err, errlen) >= 0;
}

bool vmm_trap_cr3_loads(char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    fake.cr3_loads_trapped = true;
    return true;
}

void vmm_random_samples(u64 mean_us) { fake.sample_mean_us = mean_us; }

u32 vmm_cr3_targets(const u64 *vals, u32 n)
{
    fake.ncr3_targets = n > 4 ? 4 : n;
    for (u32 i = 0; i < fake.ncr3_targets; i++)
        fake.cr3_targets[i] = vals[i];
    return fake.ncr3_targets;
}

void vmm_guest_gs_bases(u64 *gs, u64 *kernel_gs)
{
    *gs = fake.gs_base;
    *kernel_gs = fake.kernel_gs_base;
}

void vmm_trap_report(void) {}

const struct traps *fake_traps(void) { return &traps; }
const struct traps *vmm_traps(void) { return &traps; }

void vmm_guest_dtr(u64 *idt_base, u16 *idt_limit, u64 *gdt_base, u16 *gdt_limit)
{
    *idt_base = fake.idt_base;
    *idt_limit = fake.idt_limit;
    *gdt_base = fake.gdt_base;
    *gdt_limit = fake.gdt_limit;
}

void vmm_set_guest_dtr(bool idt, u64 base, u16 limit)
{
    if (fake.nset_dtr < FAKE_MAX_RECORDS)
        fake.set_dtr[fake.nset_dtr++] = (struct fake_dtr_set){ idt, base, limit };
    if (idt) {
        fake.idt_base = base;
        fake.idt_limit = limit;
    } else {
        fake.gdt_base = base;
        fake.gdt_limit = limit;
    }
}

bool vmm_is_hypervisor_memory(u64 start, u64 end) { return start < FAKE_HV_HI && end > FAKE_HV_LO; }

void vmm_hypervisor_bounds(u64 *start, u64 *end)
{
    *start = FAKE_HV_LO;
    *end = FAKE_HV_HI;
}

u32 vmm_maxphys(void) { return 40; }

u64 vmm_uptime_ns(void) { return fake.now_ns += 1000; }
bool vmm_watch_exec(const struct mem_range *known, u32 n, u32 owner, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    if (n)
        fake.exec_known = known[0];
    fake.exec_owner = owner;
    fake.exec_watching = true;
    return true;
}
void vmm_exec_revoke(void)
{
    fake.exec_revokes++;
    fake.exec_ngranted = 0;
}
void fake_exec_grant(u64 gpa)
{
    if (fake.exec_ngranted < 16)
        fake.exec_granted[fake.exec_ngranted++] = gpa & ~0xfffull;
}
void vmm_exec_revoke_page(u64 gpa)
{
    for (u32 i = 0; i < fake.exec_ngranted; i++)
        if (fake.exec_granted[i] == (gpa & ~0xfffull)) {
            fake.exec_granted[i] = fake.exec_granted[--fake.exec_ngranted];
            fake.exec_page_revokes++;
            return;
        }
}
bool vmm_exec_granted(u64 start, u64 end, u64 *page)
{
    for (u32 i = 0; i < fake.exec_ngranted; i++)
        if (fake.exec_granted[i] >= (start & ~0xfffull) && fake.exec_granted[i] < end) {
            *page = fake.exec_granted[i];
            return true;
        }
    return false;
}
u64 vmm_guest_tr_base(void) { return fake.tr_base; }
void vmm_exec_stats(u64 *grants, u64 *revokes, u32 *granted) { *grants = 0, *revokes = fake.exec_revokes, *granted = 0; }
u64 vmm_wallclock_ms(void) { return fake.wall_ms ? fake.wall_ms + fake.now_ns / 1000000 : 0; }
const char *vmm_host_name(void) { return fake.host[0] ? fake.host : NULL; }

u32 vmm_vcpu_count(void) { return fake.nvcpus ? fake.nvcpus : 1; }

/* --- building guest memory ------------------------------------------------- */

void fake_poke(u64 gpa, const void *src, u64 len) { memcpy(fake_mem + gpa, src, len); }
void fake_w64(u64 gpa, u64 v) { memcpy(fake_mem + gpa, &v, 8); }
void fake_w32(u64 gpa, u32 v) { memcpy(fake_mem + gpa, &v, 4); }

u64 fake_r64(u64 gpa)
{
    u64 v;
    memcpy(&v, fake_mem + gpa, 8);
    return v;
}

u64 fake_alloc_page(void)
{
    if (next_page >= FAKE_ALLOC_HI) {
        fprintf(stderr, "fake_vmm: out of guest pages\n");
        exit(1);
    }
    u64 p = next_page;
    next_page += 4096;
    memset(fake_mem + p, 0, 4096);
    return p;
}

/* The table below entry idx of table, allocated if missing. */
static u64 next_table(u64 table, u32 idx)
{
    u64 e = fake_r64(table + idx * 8);
    if (!(e & PTE_P)) {
        e = fake_alloc_page() | PTE_P | PTE_W | PTE_U;
        fake_w64(table + idx * 8, e);
    }
    return e & PT_ADDR_MASK;
}

static void map_at(u64 cr3, u64 gva, u64 entry, int leaf_level)
{
    u64 t = cr3 & PT_ADDR_MASK;
    for (int lvl = 4; lvl > leaf_level; lvl--)
        t = next_table(t, (u32)(gva >> (12 + 9 * (lvl - 1))) & 511);
    fake_w64(t + ((gva >> (12 + 9 * (leaf_level - 1))) & 511) * 8, entry);
}

void fake_map(u64 cr3, u64 gva, u64 pa, u64 flags) { map_at(cr3, gva, (pa & PT_ADDR_MASK) | flags, 1); }

void fake_map_2m(u64 cr3, u64 gva, u64 pa, u64 flags)
{
    map_at(cr3, gva, (pa & PT_ADDR_MASK & ~0x1fffffull) | flags | PTE_PS, 2);
}

/* --- the console ------------------------------------------------------------------ */

const char *fake_console(void) { return console; }
size_t fake_console_len(void) { return console_len; }

bool fake_console_has(size_t from, const char *needle)
{
    return from <= console_len && strstr(console + from, needle) != NULL;
}

/* The string value of "key" in a one-line JSON record (escapes undone). */
static bool json_str(const char *line, const char *end, const char *key, char *out, size_t size)
{
    char pat[40];
    snprintf(pat, sizeof(pat), "\"%s\":\"", key);
    size_t pl = strlen(pat);
    for (const char *p = line; p + pl <= end; p++) {
        if (memcmp(p, pat, pl))
            continue;
        size_t n = 0;
        for (p += pl; p < end && *p != '"'; p++) {
            if (*p == '\\' && p + 1 < end)
                p++;
            if (n + 1 < size)
                out[n++] = *p;
        }
        out[n] = 0;
        return true;
    }
    out[0] = 0;
    return false;
}

static bool json_num(const char *line, const char *end, const char *key, long long *v)
{
    char pat[40];
    snprintf(pat, sizeof(pat), "\"%s\":", key);
    size_t pl = strlen(pat);
    for (const char *p = line; p + pl <= end; p++)
        if (!memcmp(p, pat, pl) && p[pl] != '"') {
            *v = strtoll(p + pl, NULL, 10);
            return true;
        }
    return false;
}

u32 fake_alerts(size_t from, struct fake_alert *out, u32 max)
{
    u32 n = 0;
    const char *p = console + (from < console_len ? from : console_len);
    while (*p) {
        const char *eol = strchr(p, '\n');
        const char *end = eol ? eol : p + strlen(p);
        if (*p == '{' && n < max) {
            struct fake_alert *a = &out[n++];
            memset(a, 0, sizeof(*a));
            json_str(p, end, "policy", a->policy, sizeof(a->policy));
            json_str(p, end, "action", a->action, sizeof(a->action));
            json_str(p, end, "severity", a->severity, sizeof(a->severity));
            json_str(p, end, "process", a->process, sizeof(a->process));
            json_str(p, end, "detail", a->detail, sizeof(a->detail));
            json_str(p, end, "rip", a->rip, sizeof(a->rip));
            json_str(p, end, "cr3", a->cr3, sizeof(a->cr3));
            a->has_gva = json_str(p, end, "gva", a->gva, sizeof(a->gva));
            a->has_gpa = json_str(p, end, "gpa", a->gpa, sizeof(a->gpa));
            if (!json_num(p, end, "pid", &a->pid))
                a->pid = -1;
            json_num(p, end, "seq", &a->seq);
            a->len = (size_t)(end - p) - (end > p && end[-1] == '\r');
        } else if (*p == '{') {
            n++;                                    /* counted, not stored */
        }
        if (!eol)
            break;
        p = eol + 1;
    }
    return n;
}

bool fake_protected(u64 gpa, u64 len, u32 deny)
{
    for (u32 i = 0; i < fake.nprotect; i++)
        if (fake.protect[i].gpa == gpa && fake.protect[i].len == len && fake.protect[i].deny == deny)
            return true;
    return false;
}

bool fake_watched(u16 port, u16 count)
{
    for (u32 i = 0; i < fake.nwatch; i++)
        if (fake.watch[i].port == port && fake.watch[i].count == count)
            return true;
    return false;
}
