/* libFuzzer target: arbitrary bytes as an ACPI MADT, an MP configuration
 * table and memory holding an MP floating pointer. The input is copied to a
 * heap block of exactly its size, so ASan sees any overread. Each table is
 * also parsed with its checksum byte fixed up (when its length field fits),
 * so that mutations get past the checksum to the entries. What the parsers
 * accept must respect the limits of struct cpu_table. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/madt.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

static void check(int ok)
{
    if (!ok)
        abort();
}

static void check_table(const struct cpu_table *ct)
{
    check(ct->count <= CPU_TABLE_MAX);
    check(ct->dropped == 0 || ct->count == CPU_TABLE_MAX);
    for (uint32_t i = 0; i < ct->count; i++)
        for (uint32_t j = 0; j < i; j++)
            check(ct->cpu[i].apic_id != ct->cpu[j].apic_id);
}

typedef int (*parser)(const u8 *, size_t, struct cpu_table *, char *, size_t);

static void run(parser p, const u8 *t, size_t size, bool madt)
{
    static struct cpu_table ct;
    char err[200];
    memset(err, 'x', sizeof(err));
    int r = p(size ? t : NULL, size, &ct, err, sizeof(err));
    check(r == 0 || r == -1);
    check(strnlen(err, sizeof(err)) < sizeof(err));
    if (r == 0) {
        check(err[0] == 0);
        check_table(&ct);
        for (uint32_t i = 0; i < ct.count; i++) {
            if (madt) {
                check(!ct.cpu[i].bsp);
                check(ct.cpu[i].apic_id != (ct.cpu[i].x2apic ? 0xffffffffu : 0xffu));
            } else {
                check(ct.cpu[i].uid == 0 && !ct.cpu[i].x2apic && !ct.cpu[i].online_capable);
                check(ct.cpu[i].apic_id <= 0xff);
            }
        }
    } else {
        check(err[0] != 0);
        /* no message buffer: still refused, nothing written */
        check(p(size ? t : NULL, size, &ct, NULL, 0) == -1);
    }
}

/* Make the bytes t[0..n) sum to 0 by changing t[at]. */
static void fix_sum(u8 *t, size_t n, size_t at)
{
    u8 s = 0;
    t[at] = 0;
    for (size_t i = 0; i < n; i++)
        s += t[i];
    t[at] = (u8)-s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u8 *t = malloc(size ? size : 1);
    if (size)
        memcpy(t, data, size);

    run(madt_parse, t, size, true);
    run(mp_parse, t, size, false);
    for (u64 base = 0; base < 16; base += 4) {
        u64 config = 0x5a5a;
        if (mp_find(size ? t : NULL, size, 0xf0000 + base, &config))
            check(config != 0 && config <= 0xffffffffu);
        else
            check(config == 0x5a5a);
    }

    /* the same bytes with the checksum made right */
    if (size >= 44) {
        u32 len;
        memcpy(&len, t + 4, 4);
        if (len >= 10 && len <= size) {
            fix_sum(t, len, 9);
            run(madt_parse, t, size, true);
        }
        memcpy(t, data, size);
        u16 blen;
        memcpy(&blen, t + 4, 2);
        if (blen >= 8 && blen <= size) {
            fix_sum(t, blen, 7);
            run(mp_parse, t, size, false);
        }
    }
    free(t);
    return 0;
}
