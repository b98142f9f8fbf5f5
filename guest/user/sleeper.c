/* sleeper: sleeps and yields in turn; exit code = its argument. */
#include "ulib.h"

int main(long arg)
{
    long t0 = uptime();
    for (int i = 0; i < 8; i++) {
        sleep_ms(2);
        yield();
    }
    if (uptime() - t0 < 16)
        return 202;
    return (int)arg;
}
