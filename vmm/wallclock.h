/* The RTC read once at boot, and the host name (vmm/wallclock.c); the IDS
 * reads both through introspect.h (vmm_wallclock_ms, vmm_host_name). */
#ifndef VIGIL_VMM_WALLCLOCK_H
#define VIGIL_VMM_WALLCLOCK_H

#include "lib/types.h"

/* Reads the CMOS RTC and says what it read (or why it cannot). */
void wallclock_init(void);
/* host=NAME: false (and nothing kept) when NAME is not 1-63 letters,
 * digits, '-', '.' or '_'. */
bool wallclock_set_host(const char *name);

#endif
