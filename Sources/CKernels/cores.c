#if defined(__linux__)
#define _GNU_SOURCE
#include <sched.h>

#include "CKernels.h"

int rlhf_usable_cores(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
    return CPU_COUNT(&set);
}
#endif
