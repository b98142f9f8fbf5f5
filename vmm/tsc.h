/* TSC frequency, measured once against the PIT at boot. */
#ifndef VIGIL_VMM_TSC_H
#define VIGIL_VMM_TSC_H

#include "lib/types.h"

void tsc_calibrate(void);
u64 tsc_hz(void);
u64 tsc_to_ns(u64 ticks);

#endif
