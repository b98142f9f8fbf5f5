/* The translation guard: the kernel's mappings of what kernel-text and
 * critical-tables protect keep pointing at the protected frames, with the
 * same rights, in every address space that runs (docs/ids.md, "Remapping").
 * Shared by the two policies; each alert goes to the policy that owns the
 * object whose translation changed. Internal to ids/. */
#ifndef VIGIL_IDS_XLATE_H
#define VIGIL_IDS_XLATE_H

#include "ids/ids.h"
#include "ids/policy.h"

/* Owner args of the guard's page subscriptions: XLATE_ARG + table index. */
#define XLATE_ARG 0x1000u

/* At the boot lock: record the reference chains through the kernel's page
 * tables and write-protect their table pages. */
void xlate_boot(const struct ids_event *e);
/* Guard one more object's translation (the GDTR base, when the GDT locks):
 * policy id owns it. */
void xlate_guard(enum policy_id id, const char *what, u64 va, u64 len);
/* A write to a guarded table page (the subscription's arg - XLATE_ARG):
 * let it through and ask for the page again once it has run (IDS_RECHECK); then
 * (ept.after) compare, and put a changed entry back where the policy blocks. */
struct ids_verdict xlate_event(const struct ids_event *e, u32 table);
/* A CR3 load: the new address space's top-level entries over the protected
 * objects are the kernel's. */
void xlate_cr3(const struct ids_event *e, u64 cr3);
/* Periodic backstop: the running address space's top-level entries every
 * tick, every guarded entry every 10 (a change no exit saw). */
void xlate_tick(const struct ids_event *e);
/* Summary line: entries, tables, checks, changes found. */
void xlate_summary(void);

#endif
