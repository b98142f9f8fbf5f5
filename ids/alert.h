/* Alert records: one JSON object a line (the contract's alert record), and
 * the rate limiter that keeps a guest from drowning the console: the first
 * ALERT_REPEAT_LIMIT records of the same (policy, rip, object) are printed,
 * later ones counted; at most ALERT_BUDGET records a tick in all. */
#ifndef VIGIL_IDS_ALERT_H
#define VIGIL_IDS_ALERT_H

#include "lib/types.h"
#include "ids/policy.h"

#define ALERT_REPEAT_LIMIT 3
#define ALERT_BUDGET 32
#define ALERT_KEYS 128
#define ALERT_RECENT 16
#define ALERT_DETAIL 120

struct alert {
    u64 seq;
    u64 time_ns;
    enum policy_id policy;
    enum severity severity;
    enum action action;
    u32 vcpu;
    u64 rip, cr3;
    s64 pid;                       /* -1: unknown */
    char process[16];              /* "" : unknown */
    bool has_gva, has_gpa;
    u64 gva, gpa;
    char detail[ALERT_DETAIL];
};

/* Format one record (no newline). Returns its length, 0 if it did not fit. */
size_t alert_format(const struct alert *a, char *buf, size_t size);

struct alert_log {
    u64 next_seq;
    u64 emitted, suppressed;
    u64 by_policy[POL_COUNT];          /* alerts raised (emitted or suppressed) */
    u64 suppressed_by_policy[POL_COUNT];
    u32 budget_left;
    struct { u64 key; u32 count; } keys[ALERT_KEYS];
    struct alert recent[ALERT_RECENT];
    u32 nrecent;
};

void alert_log_init(struct alert_log *l);
/* A new tick: the per-tick budget is refilled. */
void alert_log_tick(struct alert_log *l);
/* Decide whether a raised alert is printed (true: a->seq is set) or only
 * counted. `object` identifies what was hit (address, port, MSR...). */
bool alert_log_admit(struct alert_log *l, struct alert *a, u64 object);

#endif
