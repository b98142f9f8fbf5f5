#include "ids/alert.h"
#include "lib/clock.h"
#include "lib/fmt.h"
#include "lib/string.h"

size_t alert_format(const struct alert *a, char *buf, size_t size)
{
    size_t pos;
    int n = fmt_snprintf(buf, size, "{\"type\":\"alert\",\"seq\":%llu,\"time_ns\":%llu", (unsigned long long)a->seq,
                         (unsigned long long)a->time_ns);
    if (n < 0 || (size_t)n >= size)
        return 0;
    pos = (size_t)n;
    if (a->wall_ms) {                   /* the machine's clock, next to guest time */
        char when[32];
        fmt_rfc3339_ms(a->wall_ms, when, sizeof(when));
        n = fmt_snprintf(buf + pos, size - pos, ",\"time\":\"%s\"", when);
        if ((size_t)n >= size - pos)
            return 0;
        pos += (size_t)n;
    }
    if (a->host[0]) {
        if (pos + 10 >= size)
            return 0;
        memcpy(buf + pos, ",\"host\":\"", 9);
        pos += 9;
        if (!fmt_json_escape(buf, size, &pos, a->host))
            return 0;
        if (pos + 2 >= size)
            return 0;
        buf[pos++] = '"';
    }
    n = fmt_snprintf(buf + pos, size - pos,
                     ",\"policy\":\"%s\",\"severity\":\"%s\",\"action\":\"%s\",\"vcpu\":%u,\"rip\":\"0x%llx\",\"cr3\":\"0x%llx\"",
                     policy_name(a->policy), severity_name(a->severity), action_name(a->action), a->vcpu,
                     (unsigned long long)a->rip, (unsigned long long)a->cr3);
    if ((size_t)n >= size - pos)
        return 0;
    pos += (size_t)n;
    if (a->pid >= 0) {
        n = fmt_snprintf(buf + pos, size - pos, ",\"pid\":%lld", (long long)a->pid);
        if ((size_t)n >= size - pos)
            return 0;
        pos += (size_t)n;
    }
    if (a->process[0]) {
        if (pos + 13 >= size)
            return 0;
        memcpy(buf + pos, ",\"process\":\"", 12);
        pos += 12;
        if (!fmt_json_escape(buf, size, &pos, a->process))
            return 0;
        if (pos + 2 >= size)
            return 0;
        buf[pos++] = '"';
    }
    if (a->has_gva) {
        n = fmt_snprintf(buf + pos, size - pos, ",\"gva\":\"0x%llx\"", (unsigned long long)a->gva);
        if ((size_t)n >= size - pos)
            return 0;
        pos += (size_t)n;
    }
    if (a->has_gpa) {
        n = fmt_snprintf(buf + pos, size - pos, ",\"gpa\":\"0x%llx\"", (unsigned long long)a->gpa);
        if ((size_t)n >= size - pos)
            return 0;
        pos += (size_t)n;
    }
    if (pos + 12 >= size)
        return 0;
    memcpy(buf + pos, ",\"detail\":\"", 11);
    pos += 11;
    if (!fmt_json_escape(buf, size, &pos, a->detail))
        return 0;
    if (pos + 3 > size)
        return 0;
    buf[pos++] = '"';
    buf[pos++] = '}';
    buf[pos] = 0;
    return pos;
}

_Static_assert(ALERT_BURST >= ALERT_BUDGET && ALERT_BURST <= LOG_RING_SIZE / 2,
               "a burst holds a window's budget, and half the log ring at most");

static u32 saved_max(const struct alert_log *l)
{
    u32 b = ALERT_BURST / l->nvcpus;
    return b > ALERT_MAX_BYTES ? b : ALERT_MAX_BYTES;
}

void alert_log_set_vcpus(struct alert_log *l, u32 n)
{
    l->nvcpus = n < 1 ? 1 : n > ALERT_VCPUS ? ALERT_VCPUS : n;
    for (u32 i = 0; i < ALERT_VCPUS; i++)
        l->budget_left[i] = i < l->nvcpus ? saved_max(l) : 0;
}

void alert_log_init(struct alert_log *l)
{
    memset(l, 0, sizeof(*l));
    l->next_seq = 1;
    alert_log_set_vcpus(l, 1);
}

void alert_log_tick(struct alert_log *l)
{
    u32 share = ALERT_BUDGET / l->nvcpus, cap = saved_max(l);
    for (u32 i = 0; i < l->nvcpus; i++) {
        l->budget_left[i] = l->budget_left[i] + share > cap ? cap : l->budget_left[i] + share;
        l->full[i] = false;
    }
}

/* The vCPU whose share an alert is printed from (out of range: the first). */
static u32 vcpu_of(const struct alert_log *l, const struct alert *a) { return a->vcpu < l->nvcpus ? a->vcpu : 0; }

/* (policy, rip, object) hashed into a small table; a full table replaces
 * the slot, which at worst lets a few repeats through. */
static u64 key_of(const struct alert *a, u64 object, u32 *slot)
{
    u64 key = ((u64)a->policy << 56) ^ (a->rip * 0x9e3779b97f4a7c15ull) ^ (object * 0xc2b2ae3d27d4eb4full);
    key |= 1;                                   /* 0 marks an empty slot */
    *slot = (u32)(key >> 40) % ALERT_KEYS;
    return key;
}

static void drop(struct alert_log *l, const struct alert *a)
{
    l->dropped++;
    if (a->policy < POL_COUNT)
        l->dropped_by_policy[a->policy]++;
}

bool alert_log_admit(struct alert_log *l, struct alert *a, u64 object)
{
    if (a->policy < POL_COUNT)
        l->by_policy[a->policy]++;
    a->seq = l->next_seq++;
    u32 slot;
    u64 key = key_of(a, object, &slot);
    if (l->keys[slot].key == key && l->keys[slot].count >= ALERT_REPEAT_LIMIT) {
        l->suppressed++;
        if (a->policy < POL_COUNT)
            l->suppressed_by_policy[a->policy]++;
        return false;
    }
    u32 v = vcpu_of(l, a);
    if (l->full[v] || l->budget_left[v] < ALERT_MIN_BYTES) {
        drop(l, a);
        return false;
    }
    return true;
}

bool alert_log_print(struct alert_log *l, const struct alert *a, u64 object, bool (*out)(const char *line))
{
    char line[ALERT_MAX_BYTES - 1];
    u32 v = vcpu_of(l, a);
    size_t n = alert_format(a, line, sizeof(line));
    if (!n || n + 2 > l->budget_left[v] || !out(line)) {
        /* Until the next window, this vCPU's alerts are dropped unformatted
         * (what is left is saved). */
        l->full[v] = true;
        drop(l, a);
        return false;
    }
    l->budget_left[v] -= (u32)(n + 2);          /* CR LF */
    /* Only a printed record counts toward the repeat limit: one held back
     * by the budget alone may still be printed later. */
    u32 slot;
    u64 key = key_of(a, object, &slot);
    if (l->keys[slot].key != key) {
        l->keys[slot].key = key;
        l->keys[slot].count = 0;
    }
    l->keys[slot].count++;
    l->emitted++;
    l->recent[l->nrecent % ALERT_RECENT] = *a;
    l->nrecent++;
    return true;
}
