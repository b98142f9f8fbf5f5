/* testos: the remapping scenarios (scn_remap.c; docs/testos.md). */
#ifndef TESTOS_SCN_REMAP_H
#define TESTOS_SCN_REMAP_H
#include "kernel.h"

bool sc_remap_text_pte(void);
bool sc_remap_text_alias(void);
bool sc_remap_wide_store(void);
bool sc_remap_text_rw(void);
bool sc_remap_table_pde(void);
bool sc_remap_idt_pte(void);
bool sc_remap_idt_pml4(void);
bool sc_remap_own_pml4(void);
bool sc_remap_gdt_pte(void);
bool sc_remap_step_window(void);
bool sc_bench_ptwrite(void);

#endif
