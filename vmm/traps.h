/* The trap registry: what the IDS has subscribed to -- guest-physical
 * ranges (by access), port ranges, MSR writes and CR0/CR4 bits -- each with
 * the subscriber's own number (its owner), which vmm/ hands back in every
 * event the trap raises. vmm/ keeps no list of what matters: it arms the
 * hardware for what is here. Every table has a named capacity; an addition
 * that does not fit is refused with a message naming the table. Pure: the
 * hardware side (EPT, bitmaps, CR masks) is introspect.c's. */
#ifndef VIGIL_VMM_TRAPS_H
#define VIGIL_VMM_TRAPS_H

#include "lib/types.h"

#define TRAP_MAX_PAGES 64                  /* guest-physical ranges */
#define TRAP_MAX_PORTS 64                  /* port ranges */
#define TRAP_MAX_MSRS 16                   /* MSRs whose writes are reported */
#define TRAP_MAX_CRS 8                     /* CR0/CR4 bit subscriptions */

enum { TRAP_READ = 1, TRAP_WRITE = 2, TRAP_EXEC = 4 };     /* the same values as IDS_READ ... */

struct trap_page { u64 start, end; u32 access, owner; };  /* bytes [start, end) */
struct trap_port { u16 lo, hi; u32 owner; };               /* ports lo..hi */
struct trap_msr { u32 msr, owner; };
struct trap_cr { u8 cr; u64 bits; u32 owner; };

struct traps {
    u32 npages, nports, nmsrs, ncrs;
    struct trap_page page[TRAP_MAX_PAGES];
    struct trap_port port[TRAP_MAX_PORTS];
    struct trap_msr msr[TRAP_MAX_MSRS];
    struct trap_cr cr[TRAP_MAX_CRS];
};

/* Each add returns the entry's index, or -1 with err (the table, its
 * capacity, or what was wrong with the request) filled in. */
int trap_add_page(struct traps *t, u64 gpa, u64 len, u32 access, u32 owner, char *err, size_t errlen);
int trap_add_ports(struct traps *t, u16 lo, u16 hi, u32 owner, char *err, size_t errlen);
int trap_add_msr(struct traps *t, u32 msr, u32 owner, char *err, size_t errlen);
int trap_add_cr(struct traps *t, u8 cr, u64 bits, u32 owner, char *err, size_t errlen);
/* Undo the last trap_add_page (its hardware side failed): all or nothing. */
void trap_drop_last_page(struct traps *t);

/* The most specific range (the smallest) holding gpa whose access includes
 * one of `access`; NULL if none. */
const struct trap_page *trap_page_find(const struct traps *t, u64 gpa, u32 access);
/* The most specific range overlapping [gpa, gpa + len) for `access`, and
 * in *hit the first byte of the access it holds; NULL if none. */
const struct trap_page *trap_page_overlap(const struct traps *t, u64 gpa, u64 len, u32 access, u64 *hit);
/* The accesses denied on the 4 KiB page holding gpa (every range touching it). */
u32 trap_page_access(const struct traps *t, u64 gpa);
/* The next subscription, from index `from` on, covering any port of the
 * access (-1: none). An access may touch several: each is told. */
int trap_port_next(const struct traps *t, u16 port, u32 size, int from);
const struct trap_msr *trap_msr_find(const struct traps *t, u32 msr);
/* The next subscription, from index `from` on, to bits of CR `cr` that
 * the change `changed` (old ^ new) touches (-1: none). */
int trap_cr_next(const struct traps *t, u8 cr, u64 changed, int from);
u64 trap_cr_bits(const struct traps *t, u8 cr);

/* Do the `size` bytes of an access at `port` touch any of lo..hi? (A
 * multi-byte access covers port .. port + size - 1; one that runs past
 * 0xffff wraps to port 0, as the I/O bitmap check treats it.) */
bool trap_ports_touch(u16 port, u32 size, u16 lo, u16 hi);
/* The byte that an access of `size` bytes at `port` with value `val`
 * carries to port p (little-endian); false if p is not among its ports. */
bool io_byte_at(u16 port, u32 size, u32 val, u16 p, u8 *b);

#endif
