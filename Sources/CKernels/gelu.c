// GPT-2's tanh-approximated GELU and its derivative, eight lanes per AVX2 + FMA instruction (the Swift kernels'
// SIMD8 runs as pairs of SSE operations without FMA). Same Cephes polynomials as Tensor's VectorMath.
#include "CKernels.h"

#if defined(__x86_64__)
#include <stdint.h>
#include <string.h>

typedef float v8 __attribute__((vector_size(32)));
typedef int32_t i8 __attribute__((vector_size(32)));
#define KERNEL static inline __attribute__((always_inline, target("avx2,fma")))

KERNEL v8 splat(float x) { return (v8){x, x, x, x, x, x, x, x}; }
KERNEL v8 select(i8 mask, v8 yes, v8 no) { return (v8)((mask & (i8)yes) | (~mask & (i8)no)); }

KERNEL v8 exp8(v8 input) {
    const v8 x0 = select(input < splat(-87.3f), splat(-87.3f), select(input > splat(88.3f), splat(88.3f), input));
    const v8 magic = splat(12582912.0f);  // 1.5 · 2²³: rounds x·log2(e) to an integer held in the mantissa
    const v8 shifted = x0 * 1.44269504f + magic;
    const v8 fx = shifted - magic;
    v8 x = x0 - fx * 0.693359375f;
    x = x + fx * 2.1219444e-4f;
    const v8 z = x * x;
    v8 y = splat(1.9875691500e-4f);
    y = y * x + 1.3981999507e-3f;
    y = y * x + 8.3334519073e-3f;
    y = y * x + 4.1665795894e-2f;
    y = y * x + 1.6666665459e-1f;
    y = y * x + 5.0000001201e-1f;
    y = y * z + x + 1;
    const i8 n = (i8)shifted - 0x4B400000;
    v8 result = y * (v8)((n + 127) << 23);
    result = select(input < splat(-87.3f), splat(0), result);
    return select(input > splat(88.3f), splat(__builtin_inff()), result);
}

KERNEL v8 tanh8(v8 x) {
    const v8 a = (v8)((i8)x & 0x7FFFFFFF);
    const v8 e = exp8(2 * a);
    v8 large = 1 - 2 / (e + 1);
    large = select(x < 0, -large, large);
    const v8 z = x * x;
    v8 p = splat(-5.70498872745e-3f);
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    return select(a < 0.625f, p * z * x + x, large);
}

KERNEL v8 inner(v8 x) { return 0.7978845608f * (x + 0.044715f * x * x * x); }
KERNEL v8 load(const float *p) { v8 v; memcpy(&v, p, sizeof v); return v; }
KERNEL void store(float *p, v8 v) { memcpy(p, &v, sizeof v); }

KERNEL v8 forward(v8 x) { return 0.5f * x * (1 + tanh8(inner(x))); }

KERNEL v8 backward(v8 g, v8 x) {
    const v8 t = tanh8(inner(x));
    const v8 du = 0.7978845608f * (1 + 3 * 0.044715f * x * x);
    return g * (0.5f * (1 + t) + 0.5f * x * (1 - t * t) * du);
}

// The last count % 8 elements go through a zero-padded vector.
__attribute__((target("avx2,fma")))
void rlhf_gelu_tanh_forward(const float *x, float *y, long count) {
    long i = 0;
    for (; i + 8 <= count; i += 8) store(y + i, forward(load(x + i)));
    if (i < count) {
        float in[8] = {0}, out[8];
        memcpy(in, x + i, (size_t)(count - i) * sizeof(float));
        store(out, forward(load(in)));
        memcpy(y + i, out, (size_t)(count - i) * sizeof(float));
    }
}

__attribute__((target("avx2,fma")))
void rlhf_gelu_tanh_backward(const float *g, const float *x, float *dx, long count) {
    long i = 0;
    for (; i + 8 <= count; i += 8) store(dx + i, backward(load(g + i), load(x + i)));
    if (i < count) {
        float gin[8] = {0}, xin[8] = {0}, out[8];
        memcpy(gin, g + i, (size_t)(count - i) * sizeof(float));
        memcpy(xin, x + i, (size_t)(count - i) * sizeof(float));
        store(out, backward(load(gin), load(xin)));
        memcpy(dx + i, out, (size_t)(count - i) * sizeof(float));
    }
}
#endif
