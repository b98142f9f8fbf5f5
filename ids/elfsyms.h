/* A fallback profile from the guest kernel's own ELF image, for when no
 * `profile` module is given: the image layout from the PT_LOAD program
 * headers, kernel_text/kernel_rodata/kernel_data from the .text, .rodata
 * and .data(+.bss) sections, and the kernel objects the policies use from
 * .symtab. An ELF has no type information, so the profile has no structure
 * fields or constants: no process list view (vmi_have_procs() is false).
 * Pure: the image is untrusted, every offset and size is checked against
 * [img, img + len); unit-tested and fuzzed on the host. */
#ifndef VIGIL_IDS_ELFSYMS_H
#define VIGIL_IDS_ELFSYMS_H

#include "lib/types.h"
#include "ids/profile.h"

/* At most this many .symtab entries are read (bounds the work at boot). */
#define ELFSYMS_MAX_SYMTAB (1u << 21)

/* Fill *p from the ELF64 x86-64 executable img[0, len). Returns 0, or -1
 * with a message starting "guest ELF: " in err and *p all zeros. */
int elfsyms_profile(const u8 *img, u64 len, struct profile *p, char *err, size_t errlen);

#endif
