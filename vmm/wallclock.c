/* Wall-clock time and the machine's name, for alert records: the CMOS RTC
 * read once before the guest starts (then the TSC keeps time), and the host
 * name from `host=` on vigil's command line. The guest never changes what
 * vigil read: later RTC writes by the guest are its own business. */
#include "vmm/introspect.h"
#include "vmm/tsc.h"
#include "arch/x86_64/cpu.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/string.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define RTC_STATUS_A 0x0a
#define RTC_UIP 0x80                          /* status A: an update is in progress */

static u64 epoch_ms, epoch_tsc;               /* what the RTC said, and the TSC then */
static char host[64];

static u8 cmos(u8 reg)
{
    outb(CMOS_INDEX, reg);
    return inb(CMOS_DATA);
}

static void read_regs(u8 r[RTC_NREGS])
{
    static const u8 index[RTC_NREGS] = { 0x00, 0x02, 0x04, 0x07, 0x08, 0x09, 0x32, 0x0b };
    for (u32 spin = 0; spin < 1000000 && (cmos(RTC_STATUS_A) & RTC_UIP); spin++)
        ;
    for (int i = 0; i < RTC_NREGS; i++)
        r[i] = cmos(index[i]);
}

void wallclock_init(void)
{
    u8 a[RTC_NREGS], b[RTC_NREGS];
    /* Twice alike: no update ran between the reads. */
    read_regs(a);
    for (int tries = 0; tries < 5; tries++) {
        read_regs(b);
        if (!memcmp(a, b, sizeof(a)))
            break;
        memcpy(a, b, sizeof(a));
    }
    u64 tsc = rdtsc();
    struct civil c;
    char err[80];
    if (!rtc_decode(a, &c, err, sizeof(err))) {
        kprintf("vigil: clock: %s; alert records carry no \"time\"\n", err);
        return;
    }
    epoch_ms = civil_to_unix(&c) * 1000;
    epoch_tsc = tsc;
    char when[32];
    fmt_rfc3339_ms(epoch_ms, when, sizeof(when));
    kprintf("vigil: clock: %s from the RTC (%s, %s), kept by the TSC\n", when,
            a[RTC_STATUS_B] & RTC_B_BINARY ? "binary" : "BCD", a[RTC_STATUS_B] & RTC_B_24H ? "24-hour" : "12-hour");
}

u64 vmm_wallclock_ms(void) { return epoch_ms ? epoch_ms + tsc_to_ns(rdtsc() - epoch_tsc) / 1000000 : 0; }

bool wallclock_set_host(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= sizeof(host))
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
              ch == '.' || ch == '_'))
            return false;
    }
    memcpy(host, name, n + 1);
    return true;
}

const char *vmm_host_name(void) { return host[0] ? host : 0; }
