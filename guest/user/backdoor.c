/* backdoor: the process hide-process unlinks. Sleeps in 2 ms steps for
 * `steps` steps, with a heartbeat line every 10. */
#include "ulib.h"

int main(long steps)
{
    for (long i = 1; i <= steps; i++) {
        sleep_ms(2);
        if (i % 10 == 0)
            printf("backdoor: pid %ld heartbeat %ld\n", getpid(), i);
    }
    return 0;
}
