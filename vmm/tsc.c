#include "vmm/tsc.h"
#include "arch/x86_64/cpu.h"
#include "lib/log.h"

static u64 hz = 1000000000ull;          /* until measured */

/* PIT channel 2 in mode 0 counts 11932 ticks of 1.193182 MHz (10 ms); its
 * output shows in port 0x61 bit 5. Bounded: a machine without a PIT keeps
 * the 1 GHz assumption and says so. */
void tsc_calibrate(void)
{
    u8 old = inb(0x61);
    outb(0x61, (u8)((old & ~0x02) | 0x01));   /* gate on, speaker off */
    outb(0x43, 0xb0);                          /* channel 2, lo/hi, mode 0 */
    outb(0x42, 11932 & 0xff);
    outb(0x42, 11932 >> 8);
    u64 t0 = rdtsc();
    u32 spins = 0;
    while (!(inb(0x61) & 0x20) && ++spins < 50000000)
        ;
    u64 t1 = rdtsc();
    outb(0x61, old);
    if (spins >= 50000000 || t1 <= t0) {
        log_warn("vigil: TSC calibration against the PIT failed; assuming 1 GHz\n");
        return;
    }
    hz = (t1 - t0) * 100;
    kprintf("vigil: TSC runs at %llu MHz (measured against the PIT)\n", (unsigned long long)(hz / 1000000));
}

u64 tsc_hz(void) { return hz; }

u64 tsc_to_ns(u64 t)
{
    return t / hz * 1000000000ull + (t % hz) * 1000000000ull / hz;
}
