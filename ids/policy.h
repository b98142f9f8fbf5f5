/* Policy names, actions, and the policy file: one rule a line,
 * `NAME key=value ...`, `#` comments (docs/policies.md). The parser is pure
 * and names the line and the field of any error. */
#ifndef VIGIL_IDS_POLICY_H
#define VIGIL_IDS_POLICY_H

#include "lib/types.h"

enum policy_id {
    POL_KERNEL_TEXT, POL_CRITICAL_TABLES, POL_MSR_GUARD, POL_CR_GUARD, POL_HIDDEN_PROCESS,
    POL_PAGETABLE_AUDIT, POL_IO_GUARD, POL_SIGNATURE, POL_HYPERVISOR_GUARD, POL_DMA_GUARD,
    POL_HIDDEN_MODULE, POL_RAW_SOCKET, POL_PROGRAM_INTEGRITY, POL_COUNT
};

enum action { ACT_ALERT, ACT_BLOCK, ACT_SUSPEND };
enum severity { SEV_LOW, SEV_MEDIUM, SEV_HIGH, SEV_CRITICAL };

#define IO_MAX_RULES 8
#define IO_MAX_RANGES 8
#define IO_MAX_ALLOW 8
#define SIG_MAX 16
#define SIG_MAX_LEN 64
#define PROC_NAME_MAX 16
#define DMA_MAX_ALLOW 16
#define RAW_MAX_ALLOW 8
#define PI_MAX_PROGRAMS 16

struct io_rule {
    u32 nranges;
    struct { u16 lo, hi; } ranges[IO_MAX_RANGES];
    u32 nallow;
    char allow[IO_MAX_ALLOW][PROC_NAME_MAX];
    enum action action;
    u32 line;
};

struct signature {
    char name[24];
    u8 bytes[SIG_MAX_LEN];
    u32 len;
    enum action action;
    u32 line;
};

struct policy_config {
    struct {
        bool enabled;
        enum action action;
        enum severity severity;
        u32 interval;                  /* periodic checks, in ticks (hidden-process, pagetable-audit, signature,
                                    * dma-guard, hidden-module, raw-socket) */
        u32 line;                      /* 0: from the defaults */
    } pol[POL_COUNT];
    u32 nio;
    struct io_rule io[IO_MAX_RULES];
    u32 nsig;
    struct signature sig[SIG_MAX];
    /* dma-guard: devices vigil does not mediate that may master the bus
     * anyway (vendor:device; device 0xffff: any of that vendor's). */
    u32 ndma_allow;
    struct { u16 vendor, device; } dma_allow[DMA_MAX_ALLOW];
    /* kernel-text: supervisor execution outside the kernel's text is
     * watched (EPT execute permission), unless exec=off. */
    bool exec_watch_off;
    /* hidden-process: random-time samples between the ticks, unless
     * samples=off (which lets a hider that learns the tick's phase go
     * unseen: docs/ids.md). */
    bool samples_off;
    /* raw-socket: processes (by name) that may hold raw and packet sockets. */
    u32 nraw_allow;
    char raw_allow[RAW_MAX_ALLOW][PROC_NAME_MAX];
    /* program-integrity: the programs checked (programs=NAME,...); none
     * named: every program the profile carries hashes for. */
    u32 npi_prog;
    char pi_prog[PI_MAX_PROGRAMS][PROC_NAME_MAX];
};

const char *policy_name(enum policy_id id);
bool policy_lookup(const char *name, enum policy_id *id);
const char *action_name(enum action a);
const char *severity_name(enum severity s);

/* The built-in defaults (also what a missing policy file means). */
void policy_defaults(struct policy_config *c);
/* Apply a policy file over the defaults. Returns 0, or -1 with
 * "policy line N, field F: ..." in err. */
int policy_parse(const char *text, size_t len, struct policy_config *c, char *err, size_t errlen);

#endif
