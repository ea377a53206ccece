// Matrix products with few rows of A (batched decoding) that stream the weights once instead of packing them.
// GCC/Clang vector extensions compiled for AVX2 + FMA; chosen at run time, so the build needs no CPU flags.
#include "CKernels.h"

#if defined(__x86_64__)
#include <string.h>

typedef float v8 __attribute__((vector_size(32)));
#define KERNEL static inline __attribute__((always_inline, target("avx2,fma")))

KERNEL v8 load8(const float *p) { v8 v; memcpy(&v, p, sizeof v); return v; }
KERNEL float sum8(v8 v) { return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7])); }

// C[rows × cols] from rows of A and rows of B (output columns): dot products along k, eight lanes at a time. Each
// B row is loaded once per tile and used by every A row of it.
KERNEL void tile(const int rows, const int cols, long k, float alpha, const float *a, long lda, const float *b,
                 long ldb, float beta, float *c, long ldc) {
    v8 acc[4][3] = {{{0}}};
    long p = 0;
    for (; p + 8 <= k; p += 8) {
        v8 w[3];
        for (int j = 0; j < cols; j++) w[j] = load8(b + j * ldb + p);
        for (int r = 0; r < rows; r++) {
            const v8 x = load8(a + r * lda + p);
            for (int j = 0; j < cols; j++) acc[r][j] += x * w[j];
        }
    }
    for (int r = 0; r < rows; r++) {
        for (int j = 0; j < cols; j++) {
            float value = sum8(acc[r][j]);
            for (long q = p; q < k; q++) value += a[r * lda + q] * b[j * ldb + q];
            float *out = c + r * ldc + j;
            *out = beta == 0 ? alpha * value : alpha * value + beta * *out;
        }
    }
}

// Constant row and column counts, so each tile is compiled with its 4 × 3 accumulators in registers.
#define COLS(R, C) case C: tile(R, C, k, alpha, a + i * lda, lda, b + j * ldb, ldb, beta, c + i * ldc + j, ldc); break;
#define ROWS(R) case R: switch (cols) { COLS(R, 1) COLS(R, 2) COLS(R, 3) } break;

__attribute__((target("avx2,fma")))
void rlhf_small_gemm_nt(long m, long n, long k, float alpha, const float *a, long lda, const float *b, long ldb,
                        float beta, float *c, long ldc) {
    for (long j = 0; j < n; j += 3) {
        const int cols = n - j < 3 ? (int)(n - j) : 3;
        for (long i = 0; i < m; i += 4) {
            switch (m - i < 4 ? m - i : 4) { ROWS(1) ROWS(2) ROWS(3) ROWS(4) }
        }
    }
}

#endif
