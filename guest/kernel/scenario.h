/* testos: the scenarios selected by scenario=NAME (docs/testos.md). */
#ifndef TESTOS_SCENARIO_H
#define TESTOS_SCENARIO_H
#include "kernel.h"

int scenario_main(u64 arg);

#endif
