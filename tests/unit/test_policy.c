/* Unit tests for ids/policy.c: names, policy_defaults, and policy_parse on
 * valid files and on every error it reports ("policy line N, field F: ..."). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "ids/policy.h"
#include "lib/string.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

static struct policy_config cfg;
static char err[512];

/* Defaults, then the file; the text is copied to an exact-size heap block
 * so that ASan sees any read past len. */
static int parse_len(const char *text, size_t len)
{
    policy_defaults(&cfg);
    memset(err, 0, sizeof(err));
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, text, len);
    int r = policy_parse(copy, len, &cfg, err, sizeof(err));
    free(copy);
    return r;
}

static int parse(const char *text) { return parse_len(text, strlen(text)); }

static void assert_ok_(int r, const char *file, int line)
{
    if (r != 0) {
        print_error("policy_parse failed: %s\n", err);
        _fail(file, line);
    }
}
#define assert_ok(r) assert_ok_((r), __FILE__, __LINE__)

/* The error names line `ln` (exactly: "line 1" must not match "line 12")
 * and contains `want`. */
static void assert_err_(int r, u32 ln, const char *want, const char *file, int line)
{
    char prefix[48];
    snprintf(prefix, sizeof(prefix), "policy line %u", ln);
    size_t n = strlen(prefix);
    if (r != -1) {
        print_error("policy_parse returned %d, expected -1 (%s: %s)\n", r, prefix, want);
        _fail(file, line);
    }
    if (strncmp(err, prefix, n) || (err[n] != ':' && err[n] != ',')) {
        print_error("error \"%s\" does not start with \"%s\"\n", err, prefix);
        _fail(file, line);
    }
    if (!strstr(err, want)) {
        print_error("error \"%s\" does not contain \"%s\"\n", err, want);
        _fail(file, line);
    }
}
#define assert_err(r, ln, want) assert_err_((r), (ln), (want), __FILE__, __LINE__)
#define assert_field(r, ln, field) assert_err_((r), (ln), "field '" field "'", __FILE__, __LINE__)

/* ---- names ---- */

static void test_policy_names_round_trip(void **state)
{
    (void)state;
    static const char *const want[POL_COUNT] = {
        "kernel-text", "critical-tables", "msr-guard", "cr-guard", "hidden-process",
        "pagetable-audit", "io-guard", "signature", "hypervisor-guard", "dma-guard",
        "hidden-module", "raw-socket", "program-integrity",
    };
    for (u32 i = 0; i < POL_COUNT; i++) {
        assert_string_equal(policy_name((enum policy_id)i), want[i]);
        enum policy_id id = POL_COUNT;
        assert_true(policy_lookup(want[i], &id));
        assert_int_equal(id, i);
    }
    assert_string_equal(policy_name(POL_COUNT), "?");
    enum policy_id id = POL_KERNEL_TEXT;
    assert_false(policy_lookup("kernel", &id));
    assert_false(policy_lookup("Kernel-Text", &id));
    assert_false(policy_lookup("", &id));
}

static void test_action_and_severity_names(void **state)
{
    (void)state;
    assert_string_equal(action_name(ACT_ALERT), "alert");
    assert_string_equal(action_name(ACT_BLOCK), "block");
    assert_string_equal(action_name(ACT_SUSPEND), "suspend");
    assert_string_equal(severity_name(SEV_LOW), "low");
    assert_string_equal(severity_name(SEV_MEDIUM), "medium");
    assert_string_equal(severity_name(SEV_HIGH), "high");
    assert_string_equal(severity_name(SEV_CRITICAL), "critical");
    assert_string_equal(severity_name((enum severity)4), "?");
}

/* ---- defaults ---- */

static void test_defaults_actions_and_severities(void **state)
{
    (void)state;
    policy_defaults(&cfg);
    static const struct { enum action a; enum severity s; } want[POL_COUNT] = {
        [POL_KERNEL_TEXT] = { ACT_BLOCK, SEV_CRITICAL },
        [POL_CRITICAL_TABLES] = { ACT_BLOCK, SEV_CRITICAL },
        [POL_MSR_GUARD] = { ACT_BLOCK, SEV_CRITICAL },
        [POL_CR_GUARD] = { ACT_BLOCK, SEV_CRITICAL },
        [POL_HIDDEN_PROCESS] = { ACT_ALERT, SEV_HIGH },
        [POL_PAGETABLE_AUDIT] = { ACT_ALERT, SEV_HIGH },
        [POL_IO_GUARD] = { ACT_BLOCK, SEV_HIGH },
        [POL_SIGNATURE] = { ACT_ALERT, SEV_HIGH },
        [POL_HYPERVISOR_GUARD] = { ACT_BLOCK, SEV_CRITICAL },
        [POL_DMA_GUARD] = { ACT_BLOCK, SEV_CRITICAL },
        [POL_HIDDEN_MODULE] = { ACT_ALERT, SEV_HIGH },
        [POL_RAW_SOCKET] = { ACT_ALERT, SEV_HIGH },
        [POL_PROGRAM_INTEGRITY] = { ACT_ALERT, SEV_HIGH },
    };
    for (u32 i = 0; i < POL_COUNT; i++) {
        assert_true(cfg.pol[i].enabled);
        assert_int_equal(cfg.pol[i].action, want[i].a);
        assert_int_equal(cfg.pol[i].severity, want[i].s);
        assert_int_equal(cfg.pol[i].line, 0);
    }
}

/* The periodic policies have an interval a policy file could also give
 * (1..100000 ticks); the others have none. */
static void test_defaults_intervals(void **state)
{
    (void)state;
    policy_defaults(&cfg);
    for (u32 i = 0; i < POL_COUNT; i++) {
        bool periodic = i == POL_HIDDEN_PROCESS || i == POL_PAGETABLE_AUDIT || i == POL_SIGNATURE ||
                        i == POL_PROGRAM_INTEGRITY ||
                        i == POL_DMA_GUARD ||          /* its backstop: one protected page re-hashed a tick */
                        i == POL_HIDDEN_MODULE || i == POL_RAW_SOCKET;
        if (periodic) {
            assert_in_range(cfg.pol[i].interval, 1, 100000);
        } else {
            assert_int_equal(cfg.pol[i].interval, 0);
        }
    }
}

static void test_defaults_io_rule(void **state)
{
    (void)state;
    policy_defaults(&cfg);
    assert_int_equal(cfg.nio, 1);
    assert_int_equal(cfg.io[0].nranges, 1);
    assert_int_equal(cfg.io[0].ranges[0].lo, 0x1f0);
    assert_int_equal(cfg.io[0].ranges[0].hi, 0x1f7);
    assert_int_equal(cfg.io[0].nallow, 1);
    assert_string_equal(cfg.io[0].allow[0], "diskd");
    assert_int_equal(cfg.io[0].action, ACT_BLOCK);
    assert_int_equal(cfg.io[0].line, 0);
}

static void test_defaults_signature(void **state)
{
    (void)state;
    policy_defaults(&cfg);
    assert_int_equal(cfg.nsig, 1);
    assert_string_equal(cfg.sig[0].name, "testos-evil");
    assert_int_equal(cfg.sig[0].len, 16);
    assert_memory_equal(cfg.sig[0].bytes, "VIGIL-SIGNATURE!", 16);
    assert_int_equal(cfg.sig[0].action, ACT_ALERT);
}

static void test_defaults_clear_previous_contents(void **state)
{
    (void)state;
    memset(&cfg, 0xa5, sizeof(cfg));
    policy_defaults(&cfg);
    assert_int_equal(cfg.nio, 1);
    assert_int_equal(cfg.nsig, 1);
    assert_int_equal(cfg.io[1].nranges, 0);
    assert_int_equal(cfg.sig[1].len, 0);
}

/* ---- valid files ---- */

static void test_empty_file_keeps_defaults(void **state)
{
    (void)state;
    assert_ok(parse(""));
    struct policy_config d;
    policy_defaults(&d);
    assert_memory_equal(&cfg, &d, sizeof(d));
    assert_ok(parse("\n\n# only a comment\n   \n\t\n"));
    assert_memory_equal(&cfg, &d, sizeof(d));
}

static void test_full_valid_file(void **state)
{
    (void)state;
    static const char file[] =
        "# vigil policy\n"                                                    /* 1 */
        "kernel-text action=suspend severity=critical\n"                      /* 2 */
        "critical-tables action=alert severity=medium\n"                      /* 3 */
        "msr-guard enabled=no\n"                                              /* 4 */
        "cr-guard action=block severity=low enabled=yes\n"                    /* 5 */
        "\n"                                                                  /* 6 */
        "hidden-process interval=20 severity=critical\n"                      /* 7 */
        "pagetable-audit interval=1 action=suspend\n"                         /* 8 */
        "io-guard ports=0x1f0-0x1f7,0x3f6 allow=diskd,initd action=block\n"   /* 9 */
        "io-guard ports=0x60,0x64 action=alert\n"                             /* 10 */
        "signature interval=100000 severity=low\n"                            /* 11 */
        "signature name=evil pattern=hex:deadBEEF00 action=suspend\n"         /* 12 */
        "signature name=marker pattern=text:EVIL-MARKER\n"                    /* 13 */
        "hypervisor-guard action=suspend   # never off\n";                    /* 14 */
    assert_ok(parse(file));

    assert_int_equal(cfg.pol[POL_KERNEL_TEXT].action, ACT_SUSPEND);
    assert_int_equal(cfg.pol[POL_KERNEL_TEXT].severity, SEV_CRITICAL);
    assert_int_equal(cfg.pol[POL_KERNEL_TEXT].line, 2);
    assert_int_equal(cfg.pol[POL_CRITICAL_TABLES].action, ACT_ALERT);
    assert_int_equal(cfg.pol[POL_CRITICAL_TABLES].severity, SEV_MEDIUM);
    assert_false(cfg.pol[POL_MSR_GUARD].enabled);
    assert_int_equal(cfg.pol[POL_MSR_GUARD].action, ACT_BLOCK);          /* untouched */
    assert_int_equal(cfg.pol[POL_MSR_GUARD].line, 4);
    assert_true(cfg.pol[POL_CR_GUARD].enabled);
    assert_int_equal(cfg.pol[POL_CR_GUARD].severity, SEV_LOW);
    assert_int_equal(cfg.pol[POL_HIDDEN_PROCESS].interval, 20);
    assert_int_equal(cfg.pol[POL_HIDDEN_PROCESS].severity, SEV_CRITICAL);
    assert_int_equal(cfg.pol[POL_HIDDEN_PROCESS].action, ACT_ALERT);
    assert_int_equal(cfg.pol[POL_PAGETABLE_AUDIT].interval, 1);
    assert_int_equal(cfg.pol[POL_PAGETABLE_AUDIT].action, ACT_SUSPEND);
    assert_int_equal(cfg.pol[POL_HYPERVISOR_GUARD].action, ACT_SUSPEND);
    assert_true(cfg.pol[POL_HYPERVISOR_GUARD].enabled);
    assert_int_equal(cfg.pol[POL_HYPERVISOR_GUARD].line, 14);

    assert_int_equal(cfg.nio, 2);
    assert_int_equal(cfg.io[0].nranges, 2);
    assert_int_equal(cfg.io[0].ranges[0].lo, 0x1f0);
    assert_int_equal(cfg.io[0].ranges[0].hi, 0x1f7);
    assert_int_equal(cfg.io[0].ranges[1].lo, 0x3f6);
    assert_int_equal(cfg.io[0].ranges[1].hi, 0x3f6);
    assert_int_equal(cfg.io[0].nallow, 2);
    assert_string_equal(cfg.io[0].allow[0], "diskd");
    assert_string_equal(cfg.io[0].allow[1], "initd");
    assert_int_equal(cfg.io[0].action, ACT_BLOCK);
    assert_int_equal(cfg.io[0].line, 9);
    assert_int_equal(cfg.io[1].nranges, 2);
    assert_int_equal(cfg.io[1].ranges[0].lo, 0x60);
    assert_int_equal(cfg.io[1].ranges[1].hi, 0x64);
    assert_int_equal(cfg.io[1].nallow, 0);
    assert_int_equal(cfg.io[1].action, ACT_ALERT);
    assert_int_equal(cfg.io[1].line, 10);
    assert_int_equal(cfg.pol[POL_IO_GUARD].line, 9);                      /* the first rule */

    assert_int_equal(cfg.pol[POL_SIGNATURE].interval, 100000);
    assert_int_equal(cfg.pol[POL_SIGNATURE].severity, SEV_LOW);
    assert_int_equal(cfg.pol[POL_SIGNATURE].line, 11);
    assert_int_equal(cfg.nsig, 2);
    assert_string_equal(cfg.sig[0].name, "evil");
    assert_int_equal(cfg.sig[0].len, 5);
    assert_memory_equal(cfg.sig[0].bytes, "\xde\xad\xbe\xef\x00", 5);
    assert_int_equal(cfg.sig[0].action, ACT_SUSPEND);
    assert_int_equal(cfg.sig[0].line, 12);
    assert_string_equal(cfg.sig[1].name, "marker");
    assert_int_equal(cfg.sig[1].len, 11);
    assert_memory_equal(cfg.sig[1].bytes, "EVIL-MARKER", 11);
    assert_int_equal(cfg.sig[1].action, ACT_ALERT);                       /* the policy's */
    assert_int_equal(cfg.sig[1].line, 13);
}

static void test_crlf_tabs_and_comments(void **state)
{
    (void)state;
    assert_ok(parse("# comment\r\n\r\n\tkernel-text\taction=alert\t# trailing\r\n"
                    "cr-guard action=suspend#no space before the comment\r\n"
                    "msr-guard severity=low"));                                   /* no final newline */
    assert_int_equal(cfg.pol[POL_KERNEL_TEXT].action, ACT_ALERT);
    assert_int_equal(cfg.pol[POL_KERNEL_TEXT].line, 3);
    assert_int_equal(cfg.pol[POL_CR_GUARD].action, ACT_SUSPEND);
    assert_int_equal(cfg.pol[POL_CR_GUARD].line, 4);
    assert_int_equal(cfg.pol[POL_MSR_GUARD].severity, SEV_LOW);
    assert_int_equal(cfg.pol[POL_MSR_GUARD].line, 5);
}

static void test_policy_name_alone_is_a_rule(void **state)
{
    (void)state;
    assert_ok(parse("kernel-text\n"));
    assert_int_equal(cfg.pol[POL_KERNEL_TEXT].action, ACT_BLOCK);
    assert_int_equal(cfg.pol[POL_KERNEL_TEXT].line, 1);
    /* and counts as the rule for the duplicate check */
    assert_err(parse("kernel-text\nkernel-text action=alert\n"), 2, "second rule for kernel-text");
}

static void test_io_guard_rules_replace_the_default(void **state)
{
    (void)state;
    assert_ok(parse("io-guard ports=0x60\n"));
    assert_int_equal(cfg.nio, 1);
    assert_int_equal(cfg.io[0].nranges, 1);
    assert_int_equal(cfg.io[0].ranges[0].lo, 0x60);
    assert_int_equal(cfg.io[0].ranges[0].hi, 0x60);
    assert_int_equal(cfg.io[0].nallow, 0);                                 /* not diskd */
    assert_int_equal(cfg.io[0].action, ACT_BLOCK);                         /* io-guard's default */
}

static void test_io_guard_port_forms(void **state)
{
    (void)state;
    assert_ok(parse("io-guard ports=0,496-503,0x3F8-0x3ff,0xffff,0x0-0xffff,1-1\n"));
    assert_int_equal(cfg.io[0].nranges, 6);
    assert_int_equal(cfg.io[0].ranges[0].lo, 0);
    assert_int_equal(cfg.io[0].ranges[0].hi, 0);
    assert_int_equal(cfg.io[0].ranges[1].lo, 0x1f0);
    assert_int_equal(cfg.io[0].ranges[1].hi, 0x1f7);
    assert_int_equal(cfg.io[0].ranges[2].lo, 0x3f8);
    assert_int_equal(cfg.io[0].ranges[2].hi, 0x3ff);
    assert_int_equal(cfg.io[0].ranges[3].lo, 0xffff);
    assert_int_equal(cfg.io[0].ranges[4].hi, 0xffff);
    assert_int_equal(cfg.io[0].ranges[5].lo, 1);
}

static void test_io_guard_maximums(void **state)
{
    (void)state;
    char file[2048];
    size_t pos = 0;
    for (int i = 0; i < IO_MAX_RULES; i++)
        pos += (size_t)snprintf(file + pos, sizeof(file) - pos,
                                "io-guard ports=1,2,3,4,5,6,7,%d allow=a,b,c,d,e,f,g,fifteen-chars-x\n", 100 + i);
    assert_ok(parse(file));
    assert_int_equal(cfg.nio, IO_MAX_RULES);
    assert_int_equal(cfg.io[7].nranges, IO_MAX_RANGES);
    assert_int_equal(cfg.io[7].ranges[7].lo, 107);
    assert_int_equal(cfg.io[7].nallow, IO_MAX_ALLOW);
    assert_string_equal(cfg.io[7].allow[7], "fifteen-chars-x");
    assert_int_equal(cfg.io[7].line, 8);
}

static void test_signature_rules_replace_the_default(void **state)
{
    (void)state;
    assert_ok(parse("signature name=a pattern=hex:00\n"));
    assert_int_equal(cfg.nsig, 1);
    assert_string_equal(cfg.sig[0].name, "a");
    assert_int_equal(cfg.sig[0].len, 1);
    assert_int_equal(cfg.sig[0].bytes[0], 0);
}

static void test_signature_settings_without_pattern_keep_the_default(void **state)
{
    (void)state;
    assert_ok(parse("signature action=block interval=3\n"));
    assert_int_equal(cfg.nsig, 1);
    assert_string_equal(cfg.sig[0].name, "testos-evil");
    assert_int_equal(cfg.pol[POL_SIGNATURE].action, ACT_BLOCK);
    assert_int_equal(cfg.pol[POL_SIGNATURE].interval, 3);
}

static void test_signature_maximums(void **state)
{
    (void)state;
    char file[8192];
    size_t pos = 0;
    char hex[2 * SIG_MAX_LEN + 1];
    for (int i = 0; i < SIG_MAX_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", (unsigned)(i * 7 + 1) & 0xff);
    for (int i = 0; i < SIG_MAX; i++)
        pos += (size_t)snprintf(file + pos, sizeof(file) - pos, "signature name=name-of-23-chars-xxx-%02d pattern=hex:%s\n",
                                i, hex);
    assert_ok(parse(file));
    assert_int_equal(cfg.nsig, SIG_MAX);
    assert_string_equal(cfg.sig[15].name, "name-of-23-chars-xxx-15");
    assert_int_equal(strlen(cfg.sig[15].name), 23);
    assert_int_equal(cfg.sig[15].len, SIG_MAX_LEN);
    assert_int_equal(cfg.sig[15].bytes[63], (63 * 7 + 1) & 0xff);
    assert_int_equal(cfg.sig[15].line, 16);
    /* a 64-byte text pattern */
    char line[256];
    snprintf(line, sizeof(line), "signature name=t pattern=text:%064d\n", 7);
    assert_ok(parse(line));
    assert_int_equal(cfg.sig[0].len, 64);
    assert_int_equal(cfg.sig[0].bytes[63], '7');
}

static void test_hypervisor_guard_block_or_suspend(void **state)
{
    (void)state;
    assert_ok(parse("hypervisor-guard action=block enabled=yes severity=high\n"));
    assert_int_equal(cfg.pol[POL_HYPERVISOR_GUARD].action, ACT_BLOCK);
    assert_int_equal(cfg.pol[POL_HYPERVISOR_GUARD].severity, SEV_HIGH);
    assert_ok(parse("hypervisor-guard action=suspend\n"));
    assert_int_equal(cfg.pol[POL_HYPERVISOR_GUARD].action, ACT_SUSPEND);
}

static void test_longest_line_and_most_words(void **state)
{
    (void)state;
    char line[600];
    /* 511 characters: the longest line */
    int n = snprintf(line, sizeof(line), "kernel-text action=alert #");
    memset(line + n, 'x', 511 - (size_t)n);
    line[511] = 0;
    assert_ok(parse(line));
    assert_int_equal(cfg.pol[POL_KERNEL_TEXT].action, ACT_ALERT);
    /* CRs do not count towards the limit */
    memset(line, 0, sizeof(line));
    n = snprintf(line, sizeof(line), "kernel-text action=alert #");
    memset(line + n, 'x', 511 - (size_t)n);
    memcpy(line + 511, "\r\n", 3);
    assert_ok(parse(line));
    /* 24 words */
    assert_ok(parse("io-guard ports=1 ports=2 ports=3 ports=4 ports=5 ports=6 ports=7 ports=8 "
                    "allow=a allow=b allow=c allow=d allow=e allow=f allow=g allow=h "
                    "action=alert action=block action=alert action=block action=alert action=block action=alert\n"));
    assert_int_equal(cfg.io[0].nranges, 8);
    assert_int_equal(cfg.io[0].nallow, 8);
    assert_int_equal(cfg.io[0].action, ACT_ALERT);
}

static void test_largest_file(void **state)
{
    (void)state;
    size_t len = 65536;
    char *f = malloc(len);
    assert_non_null(f);
    memset(f, '\n', len);
    memcpy(f + len - 25, "kernel-text action=alert", 24);  /* the last line */
    f[len - 1] = '\n';
    assert_ok(parse_len(f, len));
    assert_int_equal(cfg.pol[POL_KERNEL_TEXT].action, ACT_ALERT);
    assert_int_equal(cfg.pol[POL_KERNEL_TEXT].line, 65536 - 25 + 1);
    free(f);
}

static void test_bytes_in_comments_are_not_checked(void **state)
{
    (void)state;
    assert_ok(parse("kernel-text action=alert # caf\xc3\xa9 \x01\x7f\n"));
    assert_int_equal(cfg.pol[POL_KERNEL_TEXT].action, ACT_ALERT);
}

/* ---- errors ---- */

static void test_err_unknown_policy(void **state)
{
    (void)state;
    assert_err(parse("kernel-text\nkernel-txt action=block\n"), 2, "unknown policy 'kernel-txt'");
    assert_err(parse("# c\n\nKERNEL-TEXT\n"), 3, "unknown policy 'KERNEL-TEXT'");
    assert_err(parse("action=block\n"), 1, "unknown policy 'action=block'");
}

static void test_err_duplicate_rule(void **state)
{
    (void)state;
    assert_err(parse("kernel-text action=block\n# x\nkernel-text action=alert\n"), 3,
               "second rule for kernel-text (the first is on line 1)");
    assert_err(parse("hidden-process\nmsr-guard\nhidden-process interval=3\n"), 3, "second rule for hidden-process");
    assert_err(parse("hypervisor-guard\nhypervisor-guard\n"), 2, "second rule for hypervisor-guard");
}

static void test_err_missing_equals(void **state)
{
    (void)state;
    assert_field(parse("kernel-text block\n"), 1, "block");
    assert_err(parse("kernel-text block\n"), 1, "expected key=value");
    assert_field(parse("\nio-guard ports=0x60 action\n"), 2, "action");
}

static void test_err_bad_action(void **state)
{
    (void)state;
    assert_field(parse("kernel-text action=kill\n"), 1, "action");
    assert_err(parse("kernel-text action=kill\n"), 1, "'kill' is not alert, block or suspend");
    assert_field(parse("kernel-text action=\n"), 1, "action");
    assert_field(parse("kernel-text action=Block\n"), 1, "action");
    assert_field(parse("io-guard ports=1 action=log\n"), 1, "action");
    assert_field(parse("signature name=x pattern=text:y action=none\n"), 1, "action");
}

static void test_err_hypervisor_guard_action_alert(void **state)
{
    (void)state;
    assert_field(parse("hypervisor-guard action=alert\n"), 1, "action");
    assert_err(parse("hypervisor-guard action=alert\n"), 1, "hypervisor-guard always refuses");
}

/* hidden-process: the random-time samples are on unless samples=off; the
 * key is hidden-process's alone. */
static void test_hidden_process_samples(void **state)
{
    (void)state;
    assert_ok(parse("hidden-process\n"));
    assert_false(cfg.samples_off);
    assert_ok(parse("hidden-process samples=off interval=2\n"));
    assert_true(cfg.samples_off);
    assert_ok(parse("hidden-process samples=on\n"));
    assert_false(cfg.samples_off);
    assert_field(parse("hidden-process samples=no\n"), 1, "samples");
    assert_err(parse("hidden-process samples=no\n"), 1, "'no' is not on or off");
    assert_field(parse("msr-guard samples=off\n"), 1, "samples");
}

/* dma-guard: always on, always refusing; its allow list names PCI devices. */
static void test_program_integrity(void **state)
{
    (void)state;
    policy_defaults(&cfg);
    assert_int_equal(cfg.npi_prog, 0);                 /* every program the profile has hashes for */
    assert_int_equal(cfg.pol[POL_PROGRAM_INTEGRITY].interval, 10);
    assert_ok(parse("program-integrity programs=busybox,vpi interval=5 action=suspend severity=critical\n"));
    assert_int_equal(cfg.npi_prog, 2);
    assert_string_equal(cfg.pi_prog[0], "busybox");
    assert_string_equal(cfg.pi_prog[1], "vpi");
    assert_int_equal(cfg.pol[POL_PROGRAM_INTEGRITY].interval, 5);
    assert_int_equal(cfg.pol[POL_PROGRAM_INTEGRITY].action, ACT_SUSPEND);
    assert_int_equal(cfg.pol[POL_PROGRAM_INTEGRITY].severity, SEV_CRITICAL);
    assert_ok(parse("program-integrity programs=fifteen-chars-x\n"));
    assert_int_equal(cfg.npi_prog, 1);
    assert_string_equal(cfg.pi_prog[0], "fifteen-chars-x");
    assert_ok(parse("program-integrity enabled=no\n"));
    assert_false(cfg.pol[POL_PROGRAM_INTEGRITY].enabled);
    static const char *const bad[] = { "", ",", "busybox,", ",vpi", "busybox,,vpi", "sixteen-chars-xx" };
    for (u32 i = 0; i < ARRAY_SIZE(bad); i++) {
        char line[64];
        snprintf(line, sizeof(line), "program-integrity programs=%s\n", bad[i]);
        assert_field(parse(line), 1, "programs");
    }
    char line[400] = "program-integrity programs=";
    for (u32 i = 0; i <= PI_MAX_PROGRAMS; i++)
        snprintf(line + strlen(line), sizeof(line) - strlen(line), "%sp%u", i ? "," : "", i);
    assert_field(parse(line), 1, "programs");
    assert_field(parse("program-integrity interval=0\n"), 1, "interval");
    assert_field(parse("program-integrity ports=1\n"), 1, "ports");
    assert_err(parse("program-integrity\nprogram-integrity programs=vpi\n"), 2, "second rule for program-integrity");
}

static void test_dma_guard(void **state)
{
    (void)state;
    assert_err(parse("dma-guard action=alert\n"), 1, "dma-guard always refuses");
    assert_err(parse("dma-guard enabled=no\n"), 1, "dma-guard cannot be switched off");
    assert_ok(parse("dma-guard action=suspend allow=8086:7113,10EC:8139,1af4:* interval=3\n"));
    assert_int_equal(cfg.pol[POL_DMA_GUARD].action, ACT_SUSPEND);
    assert_int_equal(cfg.pol[POL_DMA_GUARD].interval, 3);
    assert_int_equal(cfg.ndma_allow, 3);
    assert_int_equal(cfg.dma_allow[0].vendor, 0x8086);
    assert_int_equal(cfg.dma_allow[0].device, 0x7113);
    assert_int_equal(cfg.dma_allow[1].vendor, 0x10ec);
    assert_int_equal(cfg.dma_allow[2].device, 0xffff);
    static const char *const bad[] = {
        "8086", "8086:", ":7113", "8086:711", "8086:71133", "808g:7113", "8086:7113,", "ffff:0001", "8086:7113:1",
        "*:7113", "8086:**",
    };
    for (u32 i = 0; i < ARRAY_SIZE(bad); i++) {
        char line[64];
        snprintf(line, sizeof(line), "dma-guard allow=%s\n", bad[i]);
        assert_field(parse(line), 1, "allow");
    }
    char line[400] = "dma-guard allow=";
    for (u32 i = 0; i <= DMA_MAX_ALLOW; i++)
        snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s8086:%04x", i ? "," : "", i);
    strcat(line, "\n");
    assert_field(parse(line), 1, "allow");
}

/* hidden-module and raw-socket: periodic (interval), raw-socket's allow
 * list names processes; by default it allows none. */
static void test_hidden_module_and_raw_socket(void **state)
{
    (void)state;
    policy_defaults(&cfg);
    assert_int_equal(cfg.nraw_allow, 0);
    assert_int_equal(cfg.pol[POL_HIDDEN_MODULE].interval, 10);
    assert_int_equal(cfg.pol[POL_RAW_SOCKET].interval, 1);
    assert_ok(parse("hidden-module interval=50 action=suspend severity=critical\n"
                    "raw-socket allow=dhclient,tcpdump interval=2\n"));
    assert_int_equal(cfg.pol[POL_HIDDEN_MODULE].interval, 50);
    assert_int_equal(cfg.pol[POL_HIDDEN_MODULE].action, ACT_SUSPEND);
    assert_int_equal(cfg.pol[POL_HIDDEN_MODULE].severity, SEV_CRITICAL);
    assert_int_equal(cfg.pol[POL_RAW_SOCKET].interval, 2);
    assert_int_equal(cfg.pol[POL_RAW_SOCKET].action, ACT_ALERT);
    assert_int_equal(cfg.nraw_allow, 2);
    assert_string_equal(cfg.raw_allow[0], "dhclient");
    assert_string_equal(cfg.raw_allow[1], "tcpdump");
    assert_ok(parse("raw-socket enabled=no\n"));
    assert_false(cfg.pol[POL_RAW_SOCKET].enabled);
    assert_ok(parse("raw-socket allow=123456789012345\n"));            /* 15 characters: a whole comm */
    static const char *const bad[] = {
        "", ",", "a,", ",a", "a,,b", "1234567890123456",
    };
    for (u32 i = 0; i < ARRAY_SIZE(bad); i++) {
        char line[64];
        snprintf(line, sizeof(line), "raw-socket allow=%s\n", bad[i]);
        assert_field(parse(line), 1, "allow");
    }
    char line[400] = "raw-socket allow=";
    for (u32 i = 0; i <= RAW_MAX_ALLOW; i++)
        snprintf(line + strlen(line), sizeof(line) - strlen(line), "%sp%u", i ? "," : "", i);
    strcat(line, "\n");
    assert_field(parse(line), 1, "allow");
    assert_err(parse(line), 1, "at most 8");
    assert_field(parse("hidden-module allow=x\n"), 1, "allow");           /* not a setting of hidden-module */
    assert_err(parse("hidden-module allow=x\n"), 1, "not a setting of hidden-module");
    assert_field(parse("raw-socket interval=0\n"), 1, "interval");
    assert_field(parse("raw-socket ports=1-2\n"), 1, "ports");
    assert_err(parse("raw-socket\nraw-socket allow=a\n"), 2, "second rule for raw-socket");
}

static void test_err_hypervisor_guard_disabled(void **state)
{
    (void)state;
    assert_field(parse("\n\nhypervisor-guard enabled=no\n"), 3, "enabled");
    assert_err(parse("hypervisor-guard enabled=no\n"), 1, "cannot be switched off");
}

static void test_err_bad_enabled(void **state)
{
    (void)state;
    assert_field(parse("kernel-text enabled=maybe\n"), 1, "enabled");
    assert_err(parse("kernel-text enabled=maybe\n"), 1, "'maybe' is not yes or no");
    assert_field(parse("kernel-text enabled=\n"), 1, "enabled");
    assert_field(parse("kernel-text enabled=true\n"), 1, "enabled");
}

static void test_err_bad_severity(void **state)
{
    (void)state;
    assert_field(parse("kernel-text severity=urgent\n"), 1, "severity");
    assert_err(parse("kernel-text severity=urgent\n"), 1, "'urgent' is not low, medium, high or critical");
    assert_field(parse("kernel-text severity=\n"), 1, "severity");
    assert_field(parse("kernel-text severity=HIGH\n"), 1, "severity");
}

static void test_err_bad_interval(void **state)
{
    (void)state;
    assert_field(parse("hidden-process interval=0\n"), 1, "interval");
    assert_err(parse("hidden-process interval=0\n"), 1, "'0' is not a tick count from 1 to 100000");
    assert_field(parse("pagetable-audit interval=100001\n"), 1, "interval");
    assert_field(parse("signature interval=ten\n"), 1, "interval");
    assert_field(parse("signature interval=\n"), 1, "interval");
    assert_field(parse("signature interval=-1\n"), 1, "interval");
    assert_field(parse("signature interval=99999999999999999999999\n"), 1, "interval");
}

static void test_err_interval_on_a_policy_without_it(void **state)
{
    (void)state;
    assert_field(parse("kernel-text interval=5\n"), 1, "interval");
    assert_err(parse("kernel-text interval=5\n"), 1, "not a setting of kernel-text");
    assert_field(parse("io-guard ports=1 interval=5\n"), 1, "interval");
    assert_field(parse("hypervisor-guard interval=5\n"), 1, "interval");
}

static void test_err_setting_of_another_policy(void **state)
{
    (void)state;
    assert_field(parse("kernel-text ports=0x60\n"), 1, "ports");
    assert_field(parse("kernel-text allow=x\n"), 1, "allow");
    assert_field(parse("io-guard ports=1 pattern=text:x\n"), 1, "pattern");
    assert_field(parse("io-guard ports=1 name=x\n"), 1, "name");
    assert_field(parse("signature ports=1\n"), 1, "ports");
    assert_err(parse("msr-guard colour=red\n"), 1, "field 'colour': not a setting of msr-guard");
}

static void test_err_ports_missing(void **state)
{
    (void)state;
    assert_field(parse("io-guard allow=diskd\n"), 1, "ports");
    assert_err(parse("io-guard action=block\n"), 1, "io-guard needs ports=LO-HI");
    assert_field(parse("io-guard\n"), 1, "ports");
}

static void test_err_ports_bad_range(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "0x1f0-", "-0x1f7", "a-b", "0x1f0-0x1f7-0x1f9", "0x", "1f0", "0x1g0", "1--2", "0x1f0-0x1f7,x",
    };
    char line[128];
    for (u32 i = 0; i < ARRAY_SIZE(bad); i++) {
        snprintf(line, sizeof(line), "io-guard ports=%s\n", bad[i]);
        assert_field(parse(line), 1, "ports");
    }
    assert_err(parse("io-guard ports=0x1f0-\n"), 1, "'0x1f0-' is not a list of ports or ranges LO-HI (at most 8)");
}

static void test_err_ports_lo_above_hi(void **state)
{
    (void)state;
    assert_field(parse("io-guard ports=0x1f7-0x1f0\n"), 1, "ports");
    assert_field(parse("io-guard ports=2-1\n"), 1, "ports");
}

static void test_err_ports_above_0xffff(void **state)
{
    (void)state;
    assert_field(parse("io-guard ports=0x10000\n"), 1, "ports");
    assert_field(parse("io-guard ports=0-0x10000\n"), 1, "ports");
    assert_field(parse("io-guard ports=65536\n"), 1, "ports");
    assert_field(parse("io-guard ports=0x10000000000000000\n"), 1, "ports");
}

static void test_err_ports_too_many(void **state)
{
    (void)state;
    assert_field(parse("io-guard ports=1,2,3,4,5,6,7,8,9\n"), 1, "ports");
    /* the limit is per rule, across several ports= words too */
    assert_field(parse("io-guard ports=1,2,3,4,5 ports=6,7,8,9\n"), 1, "ports");
}

static void test_err_ports_empty_items(void **state)
{
    (void)state;
    assert_field(parse("io-guard ports=0x60,\n"), 1, "ports");     /* trailing comma */
    assert_field(parse("io-guard ports=,0x60\n"), 1, "ports");
    assert_field(parse("io-guard ports=0x60,,0x64\n"), 1, "ports");
    assert_field(parse("io-guard ports=,\n"), 1, "ports");
}

/* Regression: an empty list was once accepted, so `ports=` made a rule that
 * guarded no port and silently replaced the default rule. */
static void test_err_ports_empty_value(void **state)
{
    (void)state;
    assert_field(parse("io-guard ports=\n"), 1, "ports");
    assert_field(parse("io-guard ports= allow=diskd\n"), 1, "ports");
}

static void test_err_allow_name_too_long(void **state)
{
    (void)state;
    assert_field(parse("io-guard ports=1 allow=sixteen-chars-xx\n"), 1, "allow");
    assert_err(parse("io-guard ports=1 allow=a,sixteen-chars-xx\n"), 1,
               "is not a list of process names (at most 8, each under 16 bytes)");
}

static void test_err_allow_too_many(void **state)
{
    (void)state;
    assert_field(parse("io-guard ports=1 allow=a,b,c,d,e,f,g,h,i\n"), 1, "allow");
    assert_field(parse("io-guard ports=1 allow=a,b,c,d,e allow=f,g,h,i\n"), 1, "allow");
}

static void test_err_allow_empty_items(void **state)
{
    (void)state;
    assert_field(parse("io-guard ports=1 allow=diskd,\n"), 1, "allow");
    assert_field(parse("io-guard ports=1 allow=,diskd\n"), 1, "allow");
    assert_field(parse("io-guard ports=1 allow=a,,b\n"), 1, "allow");
}

static void test_err_pattern_bad_hex(void **state)
{
    (void)state;
    assert_field(parse("signature name=x pattern=hex:zz\n"), 1, "pattern");
    assert_err(parse("signature name=x pattern=hex:0g\n"), 1,
               "'hex:0g' is not hex:BYTES or text:STRING of 1-64 bytes");
    assert_field(parse("signature name=x pattern=hex:0x12\n"), 1, "pattern");
    assert_field(parse("signature name=x pattern=hex:-1\n"), 1, "pattern");
}

static void test_err_pattern_odd_length(void **state)
{
    (void)state;
    assert_field(parse("signature name=x pattern=hex:abc\n"), 1, "pattern");
    assert_field(parse("signature name=x pattern=hex:a\n"), 1, "pattern");
}

static void test_err_pattern_empty(void **state)
{
    (void)state;
    assert_field(parse("signature name=x pattern=hex:\n"), 1, "pattern");
    assert_field(parse("signature name=x pattern=text:\n"), 1, "pattern");
    assert_field(parse("signature name=x pattern=\n"), 1, "pattern");
}

static void test_err_pattern_too_long(void **state)
{
    (void)state;
    char line[512];
    snprintf(line, sizeof(line), "signature name=x pattern=hex:%0130d\n", 0);      /* 65 bytes */
    assert_field(parse(line), 1, "pattern");
    snprintf(line, sizeof(line), "signature name=x pattern=text:%065d\n", 0);
    assert_field(parse(line), 1, "pattern");
}

static void test_err_pattern_unknown_prefix(void **state)
{
    (void)state;
    assert_field(parse("signature name=x pattern=base64:QUJD\n"), 1, "pattern");
    assert_field(parse("signature name=x pattern=HEX:41\n"), 1, "pattern");
    assert_field(parse("signature name=x pattern=4142\n"), 1, "pattern");
}

static void test_err_signature_without_name(void **state)
{
    (void)state;
    assert_field(parse("signature pattern=text:abc\n"), 1, "name");
    assert_err(parse("signature pattern=text:abc\n"), 1, "a signature needs name=LABEL");
}

static void test_err_signature_without_pattern(void **state)
{
    (void)state;
    assert_field(parse("signature name=abc\n"), 1, "pattern");
    assert_err(parse("signature name=abc action=block\n"), 1, "a signature needs pattern=hex:... or pattern=text:...");
}

static void test_err_signature_name_length(void **state)
{
    (void)state;
    assert_field(parse("signature name=name-of-24-characters-xxx pattern=text:a\n"), 1, "name");
    assert_err(parse("signature name= pattern=text:a\n"), 1, "field 'name': must be 1-23 characters");
}

static void test_err_too_many_io_rules(void **state)
{
    (void)state;
    char file[1024];
    size_t pos = 0;
    for (int i = 0; i < IO_MAX_RULES + 1; i++)
        pos += (size_t)snprintf(file + pos, sizeof(file) - pos, "io-guard ports=%d\n", i);
    assert_err(parse(file), 9, "more than 8 io-guard rules");
}

static void test_err_too_many_signatures(void **state)
{
    (void)state;
    char file[2048];
    size_t pos = 0;
    pos += (size_t)snprintf(file + pos, sizeof(file) - pos, "# signatures\n");
    for (int i = 0; i < SIG_MAX + 1; i++)
        pos += (size_t)snprintf(file + pos, sizeof(file) - pos, "signature name=s%d pattern=text:x%d\n", i, i);
    assert_err(parse(file), 18, "more than 16 signatures");
}

static void test_err_line_too_long(void **state)
{
    (void)state;
    char file[1024];
    int n = snprintf(file, sizeof(file), "kernel-text\n#");
    memset(file + n, 'x', 511);        /* a 512-character comment line */
    file[n + 511] = 0;
    assert_err(parse(file), 2, "longer than 511 characters");
}

static void test_err_nul_byte(void **state)
{
    (void)state;
    static const char file[] = "kernel-text\ncr-guard action=b\0lock\n";
    assert_err(parse_len(file, sizeof(file) - 1), 2, "NUL byte");
    /* in a comment as well */
    static const char file2[] = "# \0\n";
    assert_err(parse_len(file2, sizeof(file2) - 1), 1, "NUL byte");
}

static void test_err_non_printable_byte(void **state)
{
    (void)state;
    assert_err(parse("kernel-text\nkernel\x01-text\n"), 2, "byte 0x01 is not printable text");
    assert_err(parse("kernel-text action=alert\x7f\n"), 1, "byte 0x7f is not printable text");
    assert_err(parse("\n\n\ncr-guard severity=h\xc3\xa9gh\n"), 4, "byte 0xc3 is not printable text");
    assert_err(parse("kernel-text\x0b\n"), 1, "byte 0x0b");
    /* a lone CR is dropped wherever it is, not an error */
    assert_ok(parse("kernel-text action=al\rert\r\r\n"));
    assert_int_equal(cfg.pol[POL_KERNEL_TEXT].action, ACT_ALERT);
}

static void test_err_file_too_big(void **state)
{
    (void)state;
    size_t len = 65537;
    char *f = malloc(len);
    assert_non_null(f);
    memset(f, '\n', len);
    assert_int_equal(parse_len(f, len), -1);
    assert_non_null(strstr(err, "policy file is 65537 bytes; at most 65536"));
    free(f);
}

static void test_err_too_many_words(void **state)
{
    (void)state;
    assert_err(parse("kernel-text\nio-guard ports=1 ports=2 ports=3 ports=4 ports=5 ports=6 ports=7 ports=8 "
                     "allow=a allow=b allow=c allow=d allow=e allow=f allow=g allow=h "
                     "action=alert action=block action=alert action=block action=alert action=block action=alert "
                     "action=block\n"),
               2, "more than 24 words");
}

static void test_err_small_buffer_is_terminated(void **state)
{
    (void)state;
    char small[12];
    memset(small, 'Z', sizeof(small));
    policy_defaults(&cfg);
    assert_int_equal(policy_parse("bogus\n", 6, &cfg, small, sizeof(small)), -1);
    assert_string_equal(small, "policy line");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_names_round_trip),
        cmocka_unit_test(test_action_and_severity_names),
        cmocka_unit_test(test_defaults_actions_and_severities),
        cmocka_unit_test(test_defaults_intervals),
        cmocka_unit_test(test_defaults_io_rule),
        cmocka_unit_test(test_defaults_signature),
        cmocka_unit_test(test_defaults_clear_previous_contents),
        cmocka_unit_test(test_empty_file_keeps_defaults),
        cmocka_unit_test(test_full_valid_file),
        cmocka_unit_test(test_crlf_tabs_and_comments),
        cmocka_unit_test(test_policy_name_alone_is_a_rule),
        cmocka_unit_test(test_io_guard_rules_replace_the_default),
        cmocka_unit_test(test_io_guard_port_forms),
        cmocka_unit_test(test_io_guard_maximums),
        cmocka_unit_test(test_signature_rules_replace_the_default),
        cmocka_unit_test(test_signature_settings_without_pattern_keep_the_default),
        cmocka_unit_test(test_signature_maximums),
        cmocka_unit_test(test_hypervisor_guard_block_or_suspend),
        cmocka_unit_test(test_longest_line_and_most_words),
        cmocka_unit_test(test_largest_file),
        cmocka_unit_test(test_bytes_in_comments_are_not_checked),
        cmocka_unit_test(test_err_unknown_policy),
        cmocka_unit_test(test_err_duplicate_rule),
        cmocka_unit_test(test_err_missing_equals),
        cmocka_unit_test(test_err_bad_action),
        cmocka_unit_test(test_err_hypervisor_guard_action_alert),
        cmocka_unit_test(test_err_hypervisor_guard_disabled),
        cmocka_unit_test(test_hidden_process_samples),
        cmocka_unit_test(test_dma_guard),
        cmocka_unit_test(test_hidden_module_and_raw_socket),
        cmocka_unit_test(test_program_integrity),
        cmocka_unit_test(test_err_bad_enabled),
        cmocka_unit_test(test_err_bad_severity),
        cmocka_unit_test(test_err_bad_interval),
        cmocka_unit_test(test_err_interval_on_a_policy_without_it),
        cmocka_unit_test(test_err_setting_of_another_policy),
        cmocka_unit_test(test_err_ports_missing),
        cmocka_unit_test(test_err_ports_bad_range),
        cmocka_unit_test(test_err_ports_lo_above_hi),
        cmocka_unit_test(test_err_ports_above_0xffff),
        cmocka_unit_test(test_err_ports_too_many),
        cmocka_unit_test(test_err_ports_empty_items),
        cmocka_unit_test(test_err_ports_empty_value),
        cmocka_unit_test(test_err_allow_name_too_long),
        cmocka_unit_test(test_err_allow_too_many),
        cmocka_unit_test(test_err_allow_empty_items),
        cmocka_unit_test(test_err_pattern_bad_hex),
        cmocka_unit_test(test_err_pattern_odd_length),
        cmocka_unit_test(test_err_pattern_empty),
        cmocka_unit_test(test_err_pattern_too_long),
        cmocka_unit_test(test_err_pattern_unknown_prefix),
        cmocka_unit_test(test_err_signature_without_name),
        cmocka_unit_test(test_err_signature_without_pattern),
        cmocka_unit_test(test_err_signature_name_length),
        cmocka_unit_test(test_err_too_many_io_rules),
        cmocka_unit_test(test_err_too_many_signatures),
        cmocka_unit_test(test_err_line_too_long),
        cmocka_unit_test(test_err_nul_byte),
        cmocka_unit_test(test_err_non_printable_byte),
        cmocka_unit_test(test_err_file_too_big),
        cmocka_unit_test(test_err_too_many_words),
        cmocka_unit_test(test_err_small_buffer_is_terminated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
