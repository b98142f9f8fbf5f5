/* Safe access to guest-physical memory from vigil: only RAM that belongs to
 * the guest (available in the map, not vigil's), mapped by vigil (< 4 GiB),
 * bounded in length. Everything the IDS reads goes through here. */
#ifndef VIGIL_VMM_GUESTMEM_H
#define VIGIL_VMM_GUESTMEM_H

#include "lib/types.h"
#include "arch/x86_64/multiboot2.h"

#define GUESTMEM_MAX_READ (1u << 20)

void guestmem_init(const struct boot_info *bi);
bool guestmem_is_guest_ram(u64 gpa, u64 len);
bool guestmem_read(u64 gpa, void *buf, u64 len);
bool guestmem_write(u64 gpa, const void *buf, u64 len);
/* A pointer to [gpa, gpa + len) of guest RAM, NULL if the range is not
 * guest RAM. For bulk scans without a copy. It stays valid while vigil
 * runs: vigil maps guest RAM identity, and what is guest RAM never changes
 * (the guest may change the bytes whenever it runs: read each once). */
const void *guestmem_map(u64 gpa, u64 len);

#endif
