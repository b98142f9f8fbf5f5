/* Just enough ACPI for power-off: the FADT's PM1 control blocks and the
 * S5 sleep type from the DSDT's \_S5_ package. Every table is checked
 * (signature, length, checksum) before it is used. */
#ifndef VIGIL_VMM_ACPI_H
#define VIGIL_VMM_ACPI_H

#include "lib/types.h"
#include "arch/x86_64/multiboot2.h"

struct acpi_power {
    bool valid;
    u16 pm1a_cnt, pm1b_cnt;
    bool s5_known;
    u8 s5_typa, s5_typb;
};

void acpi_init(const struct boot_info *bi, struct acpi_power *out);
/* The table with signature sig (for example "APIC", the MADT) that the
 * loader's RSDP leads to, checked; NULL if there is none. */
const u8 *acpi_find(const struct boot_info *bi, const char *sig);
/* Power the machine off through ACPI S5; returns if that did not work. */
void acpi_poweroff(const struct acpi_power *p);

#endif
