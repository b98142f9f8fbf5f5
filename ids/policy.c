#include "ids/policy.h"
#include "lib/fmt.h"
#include "lib/string.h"

static const char *const names[POL_COUNT] = {
    "kernel-text", "critical-tables", "msr-guard", "cr-guard", "hidden-process",
    "pagetable-audit", "io-guard", "signature", "hypervisor-guard", "dma-guard",
    "hidden-module", "raw-socket", "program-integrity",
};

const char *policy_name(enum policy_id id) { return id < POL_COUNT ? names[id] : "?"; }

bool policy_lookup(const char *name, enum policy_id *id)
{
    for (u32 i = 0; i < POL_COUNT; i++)
        if (!strcmp(name, names[i])) {
            *id = (enum policy_id)i;
            return true;
        }
    return false;
}

const char *action_name(enum action a)
{
    return a == ACT_ALERT ? "alert" : a == ACT_BLOCK ? "block" : "suspend";
}

const char *severity_name(enum severity s)
{
    static const char *const n[] = { "low", "medium", "high", "critical" };
    return s <= SEV_CRITICAL ? n[s] : "?";
}

/* The signature the test guest's `signature` scenario carries (docs/testos.md). */
static const char default_sig[] = "VIGIL-SIGNATURE!";

void policy_defaults(struct policy_config *c)
{
    memset(c, 0, sizeof(*c));
    static const struct { enum action a; enum severity s; u32 interval; } d[POL_COUNT] = {
        [POL_KERNEL_TEXT] = { ACT_BLOCK, SEV_CRITICAL, 0 },
        [POL_CRITICAL_TABLES] = { ACT_BLOCK, SEV_CRITICAL, 0 },
        [POL_MSR_GUARD] = { ACT_BLOCK, SEV_CRITICAL, 0 },
        [POL_CR_GUARD] = { ACT_BLOCK, SEV_CRITICAL, 0 },
        [POL_HIDDEN_PROCESS] = { ACT_ALERT, SEV_HIGH, 1 },
        [POL_PAGETABLE_AUDIT] = { ACT_ALERT, SEV_HIGH, 10 },
        [POL_IO_GUARD] = { ACT_BLOCK, SEV_HIGH, 0 },
        [POL_SIGNATURE] = { ACT_ALERT, SEV_HIGH, 10 },
        [POL_HYPERVISOR_GUARD] = { ACT_BLOCK, SEV_CRITICAL, 0 },
        [POL_DMA_GUARD] = { ACT_BLOCK, SEV_CRITICAL, 1 },
        [POL_HIDDEN_MODULE] = { ACT_ALERT, SEV_HIGH, 10 },
        [POL_RAW_SOCKET] = { ACT_ALERT, SEV_HIGH, 1 },
        [POL_PROGRAM_INTEGRITY] = { ACT_ALERT, SEV_HIGH, 10 },
    };
    for (u32 i = 0; i < POL_COUNT; i++) {
        c->pol[i].enabled = true;
        c->pol[i].action = d[i].a;
        c->pol[i].severity = d[i].s;
        c->pol[i].interval = d[i].interval;
    }
    c->nio = 1;
    c->io[0].nranges = 1;
    c->io[0].ranges[0].lo = 0x1f0;
    c->io[0].ranges[0].hi = 0x1f7;
    c->io[0].nallow = 1;
    str_copy(c->io[0].allow[0], "diskd", PROC_NAME_MAX);
    c->io[0].action = ACT_BLOCK;
    c->nsig = 1;
    str_copy(c->sig[0].name, "testos-evil", sizeof(c->sig[0].name));
    memcpy(c->sig[0].bytes, default_sig, sizeof(default_sig) - 1);
    c->sig[0].len = sizeof(default_sig) - 1;
    c->sig[0].action = ACT_ALERT;
}

#define FAIL(...) do { fmt_snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

static bool parse_action(const char *v, enum action *a)
{
    if (!strcmp(v, "alert"))
        *a = ACT_ALERT;
    else if (!strcmp(v, "block"))
        *a = ACT_BLOCK;
    else if (!strcmp(v, "suspend"))
        *a = ACT_SUSPEND;
    else
        return false;
    return true;
}

static bool parse_severity(const char *v, enum severity *s)
{
    for (u32 i = 0; i <= SEV_CRITICAL; i++)
        if (!strcmp(v, severity_name((enum severity)i))) {
            *s = (enum severity)i;
            return true;
        }
    return false;
}

/* Comma-separated items of v: each handed to fn with its length. */
typedef bool (*item_fn)(void *ctx, const char *s, size_t n);
static bool for_items(const char *v, item_fn fn, void *ctx)
{
    if (!*v)
        return false;                           /* an empty list */
    while (*v) {
        size_t n = 0;
        while (v[n] && v[n] != ',')
            n++;
        if (!n || !fn(ctx, v, n))
            return false;
        v += n;
        if (*v == ',' && !*++v)
            return false;                       /* trailing comma */
    }
    return true;
}

static bool add_range(void *ctx, const char *s, size_t n)
{
    struct io_rule *r = ctx;
    size_t dash = 0;
    while (dash < n && s[dash] != '-')
        dash++;
    u64 lo, hi;
    if (!str_to_u64(s, dash, &lo))
        return false;
    if (dash == n)
        hi = lo;
    else if (!str_to_u64(s + dash + 1, n - dash - 1, &hi))
        return false;
    if (lo > hi || hi > 0xffff || r->nranges == IO_MAX_RANGES)
        return false;
    r->ranges[r->nranges].lo = (u16)lo;
    r->ranges[r->nranges].hi = (u16)hi;
    r->nranges++;
    return true;
}

static bool add_allow(void *ctx, const char *s, size_t n)
{
    struct io_rule *r = ctx;
    if (n >= PROC_NAME_MAX || r->nallow == IO_MAX_ALLOW)
        return false;
    memcpy(r->allow[r->nallow], s, n);
    r->allow[r->nallow][n] = 0;
    r->nallow++;
    return true;
}

static bool add_raw_allow(void *ctx, const char *s, size_t n)
{
    struct policy_config *c = ctx;
    if (n >= PROC_NAME_MAX || c->nraw_allow == RAW_MAX_ALLOW)
        return false;
    memcpy(c->raw_allow[c->nraw_allow], s, n);
    c->raw_allow[c->nraw_allow][n] = 0;
    c->nraw_allow++;
    return true;
}

/* vendor:device, four hex digits each; device * for any of the vendor's. */
static bool add_dma_allow(void *ctx, const char *s, size_t n)
{
    struct policy_config *c = ctx;
    u32 v[2] = { 0, 0 };
    size_t i = 0;
    for (u32 k = 0; k < 2; k++) {
        if (k && (i >= n || s[i++] != ':'))
            return false;
        if (k && i + 1 == n && s[i] == '*') {
            v[1] = 0xffff;
            i++;
            break;
        }
        size_t d = 0;
        for (; i < n && s[i] != ':' && d < 5; i++, d++) {
            int h = s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : s[i] >= 'a' && s[i] <= 'f' ? s[i] - 'a' + 10
                  : s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 10 : -1;
            if (h < 0)
                return false;
            v[k] = v[k] << 4 | (u32)h;
        }
        if (d != 4)
            return false;
    }
    if (i != n || v[0] == 0xffff || c->ndma_allow == DMA_MAX_ALLOW)
        return false;
    c->dma_allow[c->ndma_allow].vendor = (u16)v[0];
    c->dma_allow[c->ndma_allow].device = (u16)v[1];
    c->ndma_allow++;
    return true;
}

/* program-integrity: a program's name, as its file is called (at most 15 characters). */
static bool add_pi_prog(void *ctx, const char *s, size_t n)
{
    struct policy_config *c = ctx;
    if (n >= PROC_NAME_MAX || c->npi_prog == PI_MAX_PROGRAMS)
        return false;
    memcpy(c->pi_prog[c->npi_prog], s, n);
    c->pi_prog[c->npi_prog][n] = 0;
    c->npi_prog++;
    return true;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static bool parse_pattern(const char *v, struct signature *s)
{
    if (!strncmp(v, "hex:", 4)) {
        v += 4;
        size_t n = strlen(v);
        if (!n || n % 2 || n / 2 > SIG_MAX_LEN)
            return false;
        for (size_t i = 0; i < n; i += 2) {
            int a = hexval(v[i]), b = hexval(v[i + 1]);
            if (a < 0 || b < 0)
                return false;
            s->bytes[i / 2] = (u8)(a << 4 | b);
        }
        s->len = (u32)(n / 2);
        return true;
    }
    if (!strncmp(v, "text:", 5)) {
        v += 5;
        size_t n = strlen(v);
        if (!n || n > SIG_MAX_LEN)
            return false;
        memcpy(s->bytes, v, n);
        s->len = (u32)n;
        return true;
    }
    return false;
}

/* One rule line (comment stripped, NUL-terminated). */
static int parse_line(char *line, u32 ln, struct policy_config *c, bool *io_seen, bool *sig_seen,
                      char *err, size_t errlen)
{
    char *words[24];
    u32 nw = 0;
    for (char *p = line; *p;) {
        while (*p == ' ' || *p == '\t')
            *p++ = 0;
        if (!*p)
            break;
        if (nw == ARRAY_SIZE(words))
            FAIL("policy line %u: more than %u words", ln, (u32)ARRAY_SIZE(words));
        words[nw++] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
    }
    if (!nw)
        return 0;
    enum policy_id id;
    if (!policy_lookup(words[0], &id))
        FAIL("policy line %u: unknown policy '%s' (kernel-text, critical-tables, msr-guard, cr-guard, "
             "hidden-process, pagetable-audit, io-guard, signature, hypervisor-guard, dma-guard, hidden-module, "
             "raw-socket, program-integrity)", ln, words[0]);
    if (id != POL_IO_GUARD && id != POL_SIGNATURE && c->pol[id].line)
        FAIL("policy line %u: second rule for %s (the first is on line %u)", ln, words[0], c->pol[id].line);

    struct io_rule io = { 0 };
    struct signature sig = { 0 };
    bool have_ports = false, have_pattern = false, have_name = false;
    enum action act = c->pol[id].action;
    bool action_given = false;
    for (u32 i = 1; i < nw; i++) {
        char *k = words[i], *v = k;
        while (*v && *v != '=')
            v++;
        if (!*v)
            FAIL("policy line %u, field '%s': expected key=value", ln, k);
        *v++ = 0;
        if (!strcmp(k, "action")) {
            if (!parse_action(v, &act))
                FAIL("policy line %u, field 'action': '%s' is not alert, block or suspend", ln, v);
            if ((id == POL_HYPERVISOR_GUARD || id == POL_DMA_GUARD) && act == ACT_ALERT)
                FAIL("policy line %u, field 'action': %s always refuses; only block or suspend", ln, words[0]);
            action_given = true;
        } else if (!strcmp(k, "enabled")) {
            if (strcmp(v, "yes") && strcmp(v, "no"))
                FAIL("policy line %u, field 'enabled': '%s' is not yes or no", ln, v);
            if ((id == POL_HYPERVISOR_GUARD || id == POL_DMA_GUARD) && !strcmp(v, "no"))
                FAIL("policy line %u, field 'enabled': %s cannot be switched off", ln, words[0]);
            c->pol[id].enabled = !strcmp(v, "yes");
        } else if (!strcmp(k, "severity")) {
            if (!parse_severity(v, &c->pol[id].severity))
                FAIL("policy line %u, field 'severity': '%s' is not low, medium, high or critical", ln, v);
        } else if (!strcmp(k, "interval") &&
                   (id == POL_HIDDEN_PROCESS || id == POL_PAGETABLE_AUDIT || id == POL_SIGNATURE ||
                    id == POL_HIDDEN_MODULE || id == POL_RAW_SOCKET || id == POL_PROGRAM_INTEGRITY)) {
            u64 n;
            if (!str_to_u64(v, strlen(v), &n) || n == 0 || n > 100000)
                FAIL("policy line %u, field 'interval': '%s' is not a tick count from 1 to 100000", ln, v);
            c->pol[id].interval = (u32)n;
        } else if (!strcmp(k, "ports") && id == POL_IO_GUARD) {
            if (!for_items(v, add_range, &io))
                FAIL("policy line %u, field 'ports': '%s' is not a list of ports or ranges LO-HI (at most %d)",
                     ln, v, IO_MAX_RANGES);
            have_ports = true;
        } else if (!strcmp(k, "allow") && id == POL_IO_GUARD) {
            if (!for_items(v, add_allow, &io))
                FAIL("policy line %u, field 'allow': '%s' is not a list of process names (at most %d, "
                     "each under %d bytes)", ln, v, IO_MAX_ALLOW, PROC_NAME_MAX);
        } else if (!strcmp(k, "allow") && id == POL_RAW_SOCKET) {
            c->nraw_allow = 0;
            if (!for_items(v, add_raw_allow, c))
                FAIL("policy line %u, field 'allow': '%s' is not a list of process names (at most %d, each under %d "
                     "bytes)", ln, v, RAW_MAX_ALLOW, PROC_NAME_MAX);
        } else if (!strcmp(k, "allow") && id == POL_DMA_GUARD) {
            c->ndma_allow = 0;
            if (!for_items(v, add_dma_allow, c))
                FAIL("policy line %u, field 'allow': '%s' is not a list of PCI vendor:device IDs (four hex digits "
                     "each, device * for any; at most %d)", ln, v, DMA_MAX_ALLOW);
        } else if (!strcmp(k, "interval") && id == POL_DMA_GUARD) {
            u64 n;
            if (!str_to_u64(v, strlen(v), &n) || n == 0 || n > 100000)
                FAIL("policy line %u, field 'interval': '%s' is not a tick count from 1 to 100000", ln, v);
            c->pol[id].interval = (u32)n;
        } else if (!strcmp(k, "samples") && id == POL_HIDDEN_PROCESS) {
            if (strcmp(v, "on") && strcmp(v, "off"))
                FAIL("policy line %u, field 'samples': '%s' is not on or off", ln, v);
            c->samples_off = !strcmp(v, "off");
        } else if (!strcmp(k, "exec") && id == POL_KERNEL_TEXT) {
            if (strcmp(v, "on") && strcmp(v, "off"))
                FAIL("policy line %u, field 'exec': '%s' is not on or off", ln, v);
            c->exec_watch_off = !strcmp(v, "off");
        } else if (!strcmp(k, "programs") && id == POL_PROGRAM_INTEGRITY) {
            c->npi_prog = 0;
            if (!for_items(v, add_pi_prog, c))
                FAIL("policy line %u, field 'programs': '%s' is not a list of program names (at most %d, each "
                     "under %d bytes)", ln, v, PI_MAX_PROGRAMS, PROC_NAME_MAX);
        } else if (!strcmp(k, "pattern") && id == POL_SIGNATURE) {
            if (!parse_pattern(v, &sig))
                FAIL("policy line %u, field 'pattern': '%s' is not hex:BYTES or text:STRING of 1-%d bytes",
                     ln, v, SIG_MAX_LEN);
            have_pattern = true;
        } else if (!strcmp(k, "name") && id == POL_SIGNATURE) {
            if (!*v || strlen(v) >= sizeof(sig.name))
                FAIL("policy line %u, field 'name': must be 1-%u characters", ln, (u32)sizeof(sig.name) - 1);
            str_copy(sig.name, v, sizeof(sig.name));
            have_name = true;
        } else {
            FAIL("policy line %u, field '%s': not a setting of %s", ln, k, words[0]);
        }
    }
    if (id == POL_IO_GUARD) {
        if (!have_ports)
            FAIL("policy line %u, field 'ports': io-guard needs ports=LO-HI", ln);
        if (!*io_seen)
            c->nio = 0;                             /* a file's io-guard rules replace the default */
        *io_seen = true;
        if (c->nio == IO_MAX_RULES)
            FAIL("policy line %u: more than %d io-guard rules", ln, IO_MAX_RULES);
        io.action = act;
        io.line = ln;
        c->io[c->nio++] = io;
    } else if (id == POL_SIGNATURE && (have_pattern || have_name)) {
        if (!have_pattern)
            FAIL("policy line %u, field 'pattern': a signature needs pattern=hex:... or pattern=text:...", ln);
        if (!have_name)
            FAIL("policy line %u, field 'name': a signature needs name=LABEL", ln);
        if (!*sig_seen)
            c->nsig = 0;
        *sig_seen = true;
        if (c->nsig == SIG_MAX)
            FAIL("policy line %u: more than %d signatures", ln, SIG_MAX);
        sig.action = act;
        sig.line = ln;
        c->sig[c->nsig++] = sig;
    } else if (action_given) {
        c->pol[id].action = act;
        if (id == POL_SIGNATURE)                    /* `signature action=...`: every signature */
            for (u32 i = 0; i < c->nsig; i++)
                c->sig[i].action = act;
    }
    if (id != POL_IO_GUARD && id != POL_SIGNATURE)
        c->pol[id].line = ln;
    else if (!c->pol[id].line)
        c->pol[id].line = ln;
    return 0;
}

int policy_parse(const char *text, size_t len, struct policy_config *c, char *err, size_t errlen)
{
    bool io_seen = false, sig_seen = false;
    if (len > 65536)
        FAIL("policy file is %zu bytes; at most 65536", len);
    u32 ln = 0;
    size_t pos = 0;
    while (pos < len) {
        char line[512];
        size_t n = 0;
        ln++;
        while (pos < len && text[pos] != '\n') {
            char ch = text[pos++];
            if (ch == 0)
                FAIL("policy line %u: NUL byte in the file", ln);
            if (ch == '\r')
                continue;
            if (n + 1 >= sizeof(line))
                FAIL("policy line %u: longer than %u characters", ln, (u32)sizeof(line) - 1);
            line[n++] = ch == '\t' ? ' ' : ch;
        }
        pos++;                                      /* the newline */
        line[n] = 0;
        for (size_t i = 0; i < n; i++)
            if (line[i] == '#') {
                line[i] = 0;
                break;
            }
        for (size_t i = 0; line[i]; i++)
            if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] >= 0x7f)
                FAIL("policy line %u: byte 0x%02x is not printable text", ln, (unsigned char)line[i]);
        if (parse_line(line, ln, c, &io_seen, &sig_seen, err, errlen))
            return -1;
    }
    return 0;
}
