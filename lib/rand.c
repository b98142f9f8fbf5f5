/* Pseudo-random numbers for vigil's timing: lib/rand.h. */
#include "lib/rand.h"

u64 rand_next(u64 *state)
{
    u64 z = (*state += 0x9e3779b97f4a7c15ull);     /* splitmix64 (Steele, Lea, Flood 2014) */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* -ln(x / 2^64) = (64 - log2 x) ln 2. log2 x: the top bit's place, then 16
 * bits of the fraction by repeated squaring of the mantissa in [1, 2). */
u32 rand_neglog_q16(u64 r)
{
    u64 x = r | 1;
    u32 e = 63;
    while (!(x >> e))
        e--;
    u64 m = (x << (63 - e)) >> 32;                  /* [2^31, 2^32): 1.31 fixed point */
    u32 frac = 0;
    for (int i = 15; i >= 0; i--) {
        m = (m * m) >> 31;
        if (m >= (1ull << 32)) {
            m >>= 1;
            frac |= 1u << i;
        }
    }
    u64 log2x = ((u64)e << 16) | frac;              /* 16.16 */
    u64 neg = (64ull << 16) - log2x;                 /* -log2(x / 2^64), 16.16 */
    return (u32)((neg * 45426ull) >> 16);            /* ln 2 = 45426 / 2^16 */
}

u64 rand_exp_interval(u64 r, u64 mean, u32 cap_means)
{
    u64 q = rand_neglog_q16(r);
    if (cap_means && q > (u64)cap_means << 16)
        q = (u64)cap_means << 16;
    /* mean * q / 2^16 without overflow for any mean below 2^47 */
    return (mean >> 16) * q + (((mean & 0xffff) * q) >> 16);
}
