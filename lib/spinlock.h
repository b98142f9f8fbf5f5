/* A test-and-test-and-set spinlock (x86-64: XCHG is a full barrier). Never
 * held across a VM entry; see docs/design.md "Locking". */
#ifndef VIGIL_LIB_SPINLOCK_H
#define VIGIL_LIB_SPINLOCK_H

#include "lib/types.h"

struct spinlock { volatile u32 held; };

static inline bool spin_trylock(struct spinlock *l)
{
    u32 v = 1;
    __asm__ volatile("xchgl %0, %1" : "+r"(v), "+m"(l->held) :: "memory");
    return v == 0;
}

static inline void spin_lock(struct spinlock *l)
{
    while (!spin_trylock(l))
        while (l->held)
            __asm__ volatile("pause" ::: "memory");
}

static inline void spin_unlock(struct spinlock *l)
{
    __asm__ volatile("" ::: "memory");       /* x86 stores are not reordered with older ones */
    l->held = 0;
}

/* A full fence: a store before it is visible before any load after it. */
static inline void smp_mb(void) { __asm__ volatile("mfence" ::: "memory"); }

#endif
