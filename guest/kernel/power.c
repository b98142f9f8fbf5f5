/* testos: power-off that works bare in Bochs, in QEMU, under vigil and on
 * ACPI machines:
 *   1. "Shutdown" byte by byte to port 0x8900 (Bochs);
 *   2. outw 0x31 to port 0xf4 (QEMU isa-debug-exit, iobase=0xf4);
 *   3. ACPI S5: SLP_TYPa (from the DSDT's \_S5 package) | SLP_EN to PM1a_CNT
 *      (and PM1b_CNT), the FADT located through the RSDP the loader passed;
 *   4. hlt forever, interrupts off.
 * poweroff=acpi on the command line skips 1 and 2 (to test 3). */
#include "kernel.h"
#include "mm.h"

bool poweroff_acpi_only;
static u16 pm1a_cnt, pm1b_cnt;
static u16 slp_typa, slp_typb;
static bool have_s5;

static bool checksum_ok(const u8 *p, size_t n)
{
    u8 s = 0;
    for (size_t i = 0; i < n; i++)
        s += p[i];
    return s == 0;
}

/* Maps an ACPI table (header first, then its full length, capped). */
static const u8 *map_table(u64 phys, u32 *len_out)
{
    const u8 *h = kmap(phys, 36, PTE_NX);
    if (!h)
        return NULL;
    u32 len;
    memcpy(&len, h + 4, 4);
    kunmap((void *)h, 36);
    if (len < 36 || len > (1u << 20))
        return NULL;
    const u8 *t = kmap(phys, len, PTE_NX);
    if (!t)
        return NULL;
    if (!checksum_ok(t, len)) {
        kunmap((void *)t, len);
        return NULL;
    }
    *len_out = len;
    return t;
}

/* \_S5_ in AML: NameOp '_S5_' PackageOp PkgLength NumElements {BytePrefix n | ZeroOp | OneOp}. */
static bool parse_s5(const u8 *dsdt, u32 len)
{
    for (u32 i = 36; i + 4 < len; i++) {
        if (memcmp(dsdt + i, "_S5_", 4))
            continue;
        if (!(i >= 1 && dsdt[i - 1] == 0x08) && !(i >= 2 && dsdt[i - 2] == 0x08 && dsdt[i - 1] == '\\'))
            continue;
        u32 k = i + 4;
        if (k >= len || dsdt[k++] != 0x12)
            continue;
        if (k >= len)
            return false;
        k += ((dsdt[k] >> 6) & 3) + 1;       /* PkgLength: lead byte + follow bytes */
        k++;                                 /* NumElements */
        u16 v[2];
        for (int e = 0; e < 2; e++) {
            if (k >= len)
                return false;
            u8 op = dsdt[k++];
            if (op == 0x0a) {
                if (k >= len)
                    return false;
                v[e] = dsdt[k++];
            } else if (op == 0x00 || op == 0x01) {
                v[e] = op;
            } else {
                v[e] = op;                   /* some tables store the byte bare */
            }
        }
        slp_typa = v[0] & 7;
        slp_typb = v[1] & 7;
        return true;
    }
    return false;
}

void acpi_init(u64 rsdp_addr, size_t rsdp_len)
{
    const u8 *rsdp = (const u8 *)rsdp_addr;
    if (rsdp_len < 20 || memcmp(rsdp, "RSD PTR ", 8) || !checksum_ok(rsdp, 20)) {
        kprintf("testos: ACPI: no valid RSDP from the loader; no S5 power-off\n");
        return;
    }
    u64 root;
    bool x = rsdp[15] >= 2 && rsdp_len >= 36;
    if (x) {
        memcpy(&root, rsdp + 24, 8);
    } else {
        u32 r;
        memcpy(&r, rsdp + 16, 4);
        root = r;
    }
    u32 rlen;
    const u8 *rt = map_table(root, &rlen);
    if (!rt) {
        kprintf("testos: ACPI: root table at 0x%lx unreadable\n", root);
        return;
    }
    u64 fadt_phys = 0;
    unsigned esz = x ? 8 : 4;
    for (u32 o = 36; o + esz <= rlen && !fadt_phys; o += esz) {
        u64 t = 0;
        memcpy(&t, rt + o, esz);
        const u8 *h = kmap(t, 4, PTE_NX);
        if (h) {
            if (!memcmp(h, "FACP", 4))
                fadt_phys = t;
            kunmap((void *)h, 4);
        }
    }
    kunmap((void *)rt, rlen);
    u32 flen;
    const u8 *fadt = fadt_phys ? map_table(fadt_phys, &flen) : NULL;
    if (!fadt || flen < 76) {
        kprintf("testos: ACPI: no FADT\n");
        if (fadt)
            kunmap((void *)fadt, flen);
        return;
    }
    u32 dsdt_phys, a, b;
    memcpy(&dsdt_phys, fadt + 40, 4);
    memcpy(&a, fadt + 64, 4);
    memcpy(&b, fadt + 68, 4);
    kunmap((void *)fadt, flen);
    pm1a_cnt = (u16)a;
    pm1b_cnt = (u16)b;
    u32 dlen;
    const u8 *dsdt = map_table(dsdt_phys, &dlen);
    if (dsdt) {
        have_s5 = pm1a_cnt && parse_s5(dsdt, dlen);
        kunmap((void *)dsdt, dlen);
    }
    if (have_s5)
        kprintf("testos: ACPI: S5 via PM1a_CNT 0x%x, SLP_TYPa %u\n", pm1a_cnt, slp_typa);
    else
        kprintf("testos: ACPI: no \\_S5 in the DSDT; no S5 power-off\n");
}

void power_off(void)
{
    cli();
    kprintf("testos: powering off\n");
    console_flush();
    if (!poweroff_acpi_only) {
        for (const char *s = "Shutdown"; *s; s++)
            outb(0x8900, (u8)*s);
        outw(0xf4, 0x31);
    }
    if (have_s5) {
        outw(pm1a_cnt, (u16)((slp_typa << 10) | (1 << 13)));
        if (pm1b_cnt)
            outw(pm1b_cnt, (u16)((slp_typb << 10) | (1 << 13)));
        u64 t = rdtsc();                  /* the machine may take a moment */
        while (rdtsc() - t < 200000000)
            __asm__ volatile("pause");
    }
    kprintf("testos: power-off failed; halted\n");
    console_flush();
    for (;;)
        hlt();
}
