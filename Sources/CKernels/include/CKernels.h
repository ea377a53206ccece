#ifndef RLHFKIT_CKERNELS_H
#define RLHFKIT_CKERNELS_H

#include <stdbool.h>

#if defined(__x86_64__)
// Call any of these only when rlhf_kernels_available().

/// True when this CPU runs these kernels with AVX2 and FMA and they were built optimised; elsewhere BLAS and the
/// Swift kernels serve.
bool rlhf_kernels_available(void);

/// C[m×n] = alpha · A[m×k] · B[n×k]ᵀ + beta · C, row-major, for a few rows of A (decoding: one row per sequence)
/// and a weight stored [out, in]. B is streamed once from memory, never copied into packed panels as sgemm does;
/// the rows of A stay in cache.
void rlhf_small_gemm_nt(long m, long n, long k, float alpha, const float *a, long lda, const float *b, long ldb,
                        float beta, float *c, long ldc);

/// y = GELU(x), GPT-2's tanh approximation ("gelu_new").
void rlhf_gelu_tanh_forward(const float *x, float *y, long count);

/// dx = g · GELU'(x) for the same approximation.
void rlhf_gelu_tanh_backward(const float *g, const float *x, float *dx, long count);
#endif

#if defined(__linux__)
/// The cores this process may run on (its CPU affinity, which mpirun and SLURM narrow per rank); 0 if unknown.
int rlhf_usable_cores(void);
#endif

#endif
