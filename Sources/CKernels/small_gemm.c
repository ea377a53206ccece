// Matrix products with few rows of A (batched decoding) that stream the weights once instead of packing them.
// GCC/Clang vector extensions compiled per instruction set and chosen at run time, so the build needs no CPU flags.
#include "CKernels.h"

#if defined(__x86_64__)
#include <string.h>

typedef float v8 __attribute__((vector_size(32)));

#define AVX2 "avx2,fma"
#define AVX512 "avx2,fma,avx512f,avx512vl"

// Inlined into both instruction sets' kernels (AVX-512VL includes AVX2).
static inline __attribute__((always_inline, target(AVX2))) v8 load8(const float *p) { v8 v; memcpy(&v, p, sizeof v); return v; }
static inline __attribute__((always_inline, target(AVX2))) float sum8(v8 v) {
    return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}

// C[rows × cols] from rows of A and rows of B (output columns): dot products along k, eight lanes at a time. Each
// B row is loaded once per tile and used by every A row of it. MAX_ROWS × MAX_COLS accumulators stay in registers:
// 4 × 3 fits AVX2's 16 vector registers, 6 × 4 AVX-512VL's 32.
#define DEFINE_TILE(NAME, TARGET, MAX_ROWS, MAX_COLS)                                                           \
static inline __attribute__((always_inline, target(TARGET)))                                                        \
void NAME##_tile(const int rows, const int cols, long k, float alpha, const float *a, long lda, const float *b,      \
                 long ldb, float beta, float *c, long ldc) {                                                        \
    v8 acc[MAX_ROWS][MAX_COLS] = {{{0}}};                                                                            \
    long p = 0;                                                                                                     \
    for (; p + 8 <= k; p += 8) {                                                                                    \
        v8 w[MAX_COLS];                                                                                             \
        for (int j = 0; j < cols; j++) w[j] = load8(b + j * ldb + p);                                               \
        for (int r = 0; r < rows; r++) {                                                                            \
            const v8 x = load8(a + r * lda + p);                                                                    \
            for (int j = 0; j < cols; j++) acc[r][j] += x * w[j];                                                   \
        }                                                                                                           \
    }                                                                                                               \
    for (int r = 0; r < rows; r++) {                                                                                \
        for (int j = 0; j < cols; j++) {                                                                            \
            float value = sum8(acc[r][j]);                                                                          \
            for (long q = p; q < k; q++) value += a[r * lda + q] * b[j * ldb + q];                                  \
            float *out = c + r * ldc + j;                                                                           \
            *out = beta == 0 ? alpha * value : alpha * value + beta * *out;                                         \
        }                                                                                                           \
    }                                                                                                               \
}

// Columns outermost: a tile's few weight rows stay in L1 while every row tile of A passes over them.
#define DEFINE_DRIVER(NAME, TARGET, MAX_ROWS, MAX_COLS)                                                              \
__attribute__((target(TARGET)))                                                                                     \
static void NAME(long m, long n, long k, float alpha, const float *a, long lda, const float *b, long ldb,           \
                 float beta, float *c, long ldc) {                                                                  \
    for (long j = 0; j < n; j += MAX_COLS) {                                                                        \
        const int cols = n - j < MAX_COLS ? (int)(n - j) : MAX_COLS;                                                \
        for (long i = 0; i < m; i += MAX_ROWS) {                                                                    \
            const int rows = m - i < MAX_ROWS ? (int)(m - i) : MAX_ROWS;                                            \
            NAME##_dispatch(rows, cols, k, alpha, a + i * lda, lda, b + j * ldb, ldb, beta, c + i * ldc + j, ldc);  \
        }                                                                                                           \
    }                                                                                                               \
}

// Constant row and column counts, so each tile shape is compiled with its accumulators in registers.
#define CASE_COLS(NAME, R, C) case C: NAME##_tile(R, C, k, alpha, a, lda, b, ldb, beta, c, ldc); return;
#define CASE_ROWS3(NAME, R) case R: switch (cols) { CASE_COLS(NAME, R, 1) CASE_COLS(NAME, R, 2) CASE_COLS(NAME, R, 3) } return;
#define CASE_ROWS4(NAME, R) case R: switch (cols) { CASE_COLS(NAME, R, 1) CASE_COLS(NAME, R, 2) CASE_COLS(NAME, R, 3) \
                                                    CASE_COLS(NAME, R, 4) } return;
#define DISPATCH_SIGNATURE(NAME, TARGET)                                                                             \
static inline __attribute__((always_inline, target(TARGET)))                                                        \
void NAME##_dispatch(int rows, int cols, long k, float alpha, const float *a, long lda, const float *b, long ldb,   \
                     float beta, float *c, long ldc)

DEFINE_TILE(avx2, AVX2, 4, 3)
DEFINE_TILE(avx512, AVX512, 6, 4)
DISPATCH_SIGNATURE(avx2, AVX2) {
    switch (rows) { CASE_ROWS3(avx2, 1) CASE_ROWS3(avx2, 2) CASE_ROWS3(avx2, 3) CASE_ROWS3(avx2, 4) }
}
DISPATCH_SIGNATURE(avx512, AVX512) {
    switch (rows) {
        CASE_ROWS4(avx512, 1) CASE_ROWS4(avx512, 2) CASE_ROWS4(avx512, 3)
        CASE_ROWS4(avx512, 4) CASE_ROWS4(avx512, 5) CASE_ROWS4(avx512, 6)
    }
}
DEFINE_DRIVER(avx2, AVX2, 4, 3)
DEFINE_DRIVER(avx512, AVX512, 6, 4)

void rlhf_small_gemm_nt(long m, long n, long k, float alpha, const float *a, long lda, const float *b, long ldb,
                        float beta, float *c, long ldc) {
    static int wide = -1;  // benign race: every thread computes the same answer
    if (wide < 0) wide = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
    (wide ? avx512 : avx2)(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

#endif
