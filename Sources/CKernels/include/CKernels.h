#ifndef RLHFKIT_CKERNELS_H
#define RLHFKIT_CKERNELS_H

#include <stdbool.h>

#if defined(__x86_64__)
/// True when this CPU runs rlhf_small_gemm_nt with AVX2 and FMA and this file was built optimised; elsewhere BLAS
/// serves.
bool rlhf_small_gemm_available(void);

/// C[m×n] = alpha · A[m×k] · B[n×k]ᵀ + beta · C, row-major, for a few rows of A (decoding: one row per sequence)
/// and a weight stored [out, in]. B is streamed once from memory, never copied into packed panels as sgemm does;
/// the rows of A stay in cache. Only call when rlhf_small_gemm_available().
void rlhf_small_gemm_nt(long m, long n, long k, float alpha, const float *a, long lda, const float *b, long ldb,
                        float beta, float *c, long ldc);
#endif

#endif
