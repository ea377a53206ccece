#include "CKernels.h"

#if defined(__x86_64__)
bool rlhf_kernels_available(void) {
#if defined(__OPTIMIZE__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return false;  // unoptimised, these loops are slower than BLAS and the Swift kernels
#endif
}
#endif
