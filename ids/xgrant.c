/* The execute watch's supervisor grants on Linux (ids/xgrant.h). */
#include "ids/xgrant.h"
#include "lib/string.h"

#define PAGE_OF(a) ((a) & ~0xfffull)

struct xgrant *xgrant_get(struct xgrants *t, u64 gpa, u64 gva)
{
    gpa = PAGE_OF(gpa), gva = PAGE_OF(gva);
    struct xgrant *free = 0;
    for (u32 i = 0; i < t->n; i++) {
        struct xgrant *g = &t->g[i];
        if (g->gpa == gpa && g->gva == gva)
            return g;
        if (!g->active && (!free || g->seq < free->seq))
            free = g;
    }
    if (t->n < XGRANT_MAX)
        free = &t->g[t->n++];
    if (!free)
        return 0;
    memset(free, 0, sizeof(*free));
    free->gpa = gpa;
    free->gva = gva;
    free->seq = ++t->seq;
    return free;
}

void xgrant_mark(struct xgrants *t, struct xgrant *g)
{
    g->active = true;
    g->seq = ++t->seq;
}

bool xgrant_active_gpa(const struct xgrants *t, u64 gpa)
{
    for (u32 i = 0; i < t->n; i++)
        if (t->g[i].active && t->g[i].gpa == PAGE_OF(gpa))
            return true;
    return false;
}

void xgrant_revoke_all(struct xgrants *t)
{
    for (u32 i = 0; i < t->n; i++)
        t->g[i].active = false;
}

u32 xgrant_active(const struct xgrants *t)
{
    u32 n = 0;
    for (u32 i = 0; i < t->n; i++)
        n += t->g[i].active;
    return n;
}
