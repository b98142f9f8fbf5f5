/* io-guard: port ranges that only named processes may drive (by default
 * the ATA controller, 0x1f0-0x1f7, for a process called diskd). Accesses
 * to a watched port are attributed to the process whose address space is
 * loaded; any other process is reported, and blocked (the write dropped, a
 * read returns all ones) if the rule says so. */
#include "ids/engine.h"
#include "vmm/introspect.h"
#include "ids/alert.h"
#include "lib/fmt.h"
#include "lib/string.h"

static void start(void)
{
    for (u32 r = 0; r < ids.cfg.nio; r++)
        for (u32 i = 0; i < ids.cfg.io[r].nranges; i++)
            vmm_io_watch(ids.cfg.io[r].ranges[i].lo,
                         (u16)(ids.cfg.io[r].ranges[i].hi - ids.cfg.io[r].ranges[i].lo + 1));
}

static struct ids_verdict event(const struct ids_event *e)
{
    struct ids_verdict v = { IDS_ALLOW, 0, 0 };
    for (u32 r = 0; r < ids.cfg.nio; r++) {
        const struct io_rule *rule = &ids.cfg.io[r];
        bool hit = false;
        for (u32 i = 0; i < rule->nranges; i++)
            if (e->io.port >= rule->ranges[i].lo && e->io.port <= rule->ranges[i].hi)
                hit = true;
        if (!hit)
            continue;
        s64 pid;
        char name[16];
        ids_proc_of(e->cr3, &pid, name);
        for (u32 i = 0; i < rule->nallow; i++)
            if (name[0] && !strcmp(name, rule->allow[i]))
                return v;
        char detail[ALERT_DETAIL], where[24] = "the default rule";
        if (rule->line)
            fmt_snprintf(where, sizeof(where), "policy line %u", rule->line);
        fmt_snprintf(detail, sizeof(detail), "%s port 0x%x by %s, not allowed by %s", e->io.in ? "IN from" : "OUT to",
                     e->io.port, name[0] ? name : "an unknown process", where);
        return ids_raise_action(POL_IO_GUARD, rule->action, e, e->io.port, 0, 0, detail);
    }
    return v;
}

const struct policy_ops pol_io_guard = { .id = POL_IO_GUARD, .start = start, .event = event };
