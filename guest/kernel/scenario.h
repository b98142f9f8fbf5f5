/* testos: the scenarios selected by scenario=NAME (docs/testos.md). */
#ifndef TESTOS_SCENARIO_H
#define TESTOS_SCENARIO_H
#include "kernel.h"

int scenario_main(u64 arg);

/* What every attack prints, as seen from inside (docs/testos.md). */
void attack_begin(const char *name);
void attack_result(const char *name, bool succeeded);

/* scn_hide.c: evasions of the lie detector and of allow-lists by name. */
bool sc_hide_in_kernel_as(void);
bool sc_hide_in_boot_as(void);
bool sc_hide_in_listed_as(void);
bool sc_hide_lying_current(void);
bool sc_hide_tick_phase(void);
bool sc_hide_sample_expiry(void);
bool sc_rename_diskd(void);
bool sc_inject_diskd(void);
bool sc_rename_with_pid(void);
bool sc_rename_with_pid_code(void);

/* scn_wx.c: code run where the audit of kernel mappings did not look. */
bool sc_wx_lower_half(void);
bool sc_boot_tables_exec(void);
bool sc_wx_alias(void);
bool sc_wx_flash(void);
bool sc_wx_user_grant(void);
bool sc_wx_alias_late(void);
/* scn_dma.c: device DMA (docs/testos.md, "DMA") */
bool sc_dma_benign(void);
bool sc_dma_kernel_text(void);
bool sc_dma_prd_chain(void);
bool sc_dma_hypervisor(void);
bool sc_dma_hypervisor_leak(void);
bool sc_dma_prd_swap(void);
bool sc_dma_bus_master(void);
bool sc_dma_bar_move(void);

#endif
