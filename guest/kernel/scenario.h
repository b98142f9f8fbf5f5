/* testos: the scenarios selected by scenario=NAME (docs/testos.md). */
#ifndef TESTOS_SCENARIO_H
#define TESTOS_SCENARIO_H
#include "kernel.h"

int scenario_main(u64 arg);

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
