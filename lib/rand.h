/* Pseudo-random numbers for vigil's own timing (pure, unit-tested):
 * splitmix64 steps, and exponentially distributed intervals. An
 * exponential interval is memoryless: how long it has already lasted
 * tells nothing of how long it still has to go, so a guest that sees one
 * of vigil's random-time samples (by the gap it leaves in the TSC) learns
 * nothing of when the next comes (docs/ids.md, hidden-process). */
#ifndef VIGIL_LIB_RAND_H
#define VIGIL_LIB_RAND_H

#include "lib/types.h"

/* The next 64 random bits; *state advances (any seed will do). */
u64 rand_next(u64 *state);

/* -ln(U) in 16.16 fixed point, for U = (r | 1) / 2^64 in (0, 1): the unit
 * exponential's inverse CDF. At most 44.4 (r = 1); accurate to about 2^-12. */
u32 rand_neglog_q16(u64 r);

/* An interval drawn from r: exponential with the given mean, cut at
 * cap_means times the mean (0: no cut). */
u64 rand_exp_interval(u64 r, u64 mean, u32 cap_means);

#endif
