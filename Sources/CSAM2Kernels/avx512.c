// The AVX-512 versions of sam2_kernels (F, BW, VL, DQ and FMA, compiled for those per function):
// sixteen lanes a step, the tail of a run under a mask. Same contracts and formulas as generic.c.
#include "sam2_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>

#pragma STDC FP_CONTRACT OFF
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma"))), apply_to = function)

static inline __mmask16 tail_mask(size_t remaining) {
    return remaining >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << remaining) - 1u);
}

static float maximum(const float *x, size_t n) {
    const __m512 lowest = _mm512_set1_ps(-INFINITY);
    __m512 a0 = lowest, a1 = lowest;
    size_t i = 0;
    // max(x, a) returns a when x is NaN, so NaNs are skipped.
    for (; i + 32 <= n; i += 32) {
        a0 = _mm512_max_ps(_mm512_loadu_ps(x + i), a0);
        a1 = _mm512_max_ps(_mm512_loadu_ps(x + i + 16), a1);
    }
    for (; i < n; i += 16) a0 = _mm512_max_ps(_mm512_mask_loadu_ps(lowest, tail_mask(n - i), x + i), a0);
    return _mm512_reduce_max_ps(_mm512_max_ps(a0, a1));
}

static float sum(const float *x, size_t n) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        a0 = _mm512_add_ps(a0, _mm512_loadu_ps(x + i));
        a1 = _mm512_add_ps(a1, _mm512_loadu_ps(x + i + 16));
        a2 = _mm512_add_ps(a2, _mm512_loadu_ps(x + i + 32));
        a3 = _mm512_add_ps(a3, _mm512_loadu_ps(x + i + 48));
    }
    for (; i < n; i += 16) a0 = _mm512_add_ps(a0, _mm512_maskz_loadu_ps(tail_mask(n - i), x + i));
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

static float squared_deviation(const float *x, size_t n, float mean) {
    const __m512 m = _mm512_set1_ps(mean);
    __m512 a0 = _mm512_setzero_ps(), a1 = a0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(x + i), m);
        __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(x + i + 16), m);
        a0 = _mm512_add_ps(a0, _mm512_mul_ps(d0, d0));
        a1 = _mm512_add_ps(a1, _mm512_mul_ps(d1, d1));
    }
    for (; i < n; i += 16) {
        __mmask16 k = tail_mask(n - i);
        __m512 d = _mm512_maskz_sub_ps(k, _mm512_maskz_loadu_ps(k, x + i), m);
        a0 = _mm512_add_ps(a0, _mm512_mul_ps(d, d));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

/// generic.c's exp_below_88 on sixteen lanes, with fused multiply-adds (Cody–Waite reduction and
/// the polynomial) and 2^k by scalef, so it may differ from generic.c's in the last unit.
static inline __m512 exp_below_88(__m512 v) {
    __mmask16 kept = _mm512_cmp_ps_mask(v, _mm512_set1_ps(-87.3f), _CMP_NLT_UQ);  // v ≥ −87.3 or NaN
    __m512 k = _mm512_roundscale_ps(
        _mm512_mul_ps(v, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), v);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
    return _mm512_maskz_scalef_ps(kept, p, k);
}

static float exp_shifted(const float *x, float *y, size_t n, float shift) {
    const __m512 s = _mm512_set1_ps(shift);
    __m512 a0 = _mm512_setzero_ps(), a1 = a0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 e0 = exp_below_88(_mm512_sub_ps(_mm512_loadu_ps(x + i), s));
        __m512 e1 = exp_below_88(_mm512_sub_ps(_mm512_loadu_ps(x + i + 16), s));
        _mm512_storeu_ps(y + i, e0);
        _mm512_storeu_ps(y + i + 16, e1);
        a0 = _mm512_add_ps(a0, e0);
        a1 = _mm512_add_ps(a1, e1);
    }
    for (; i < n; i += 16) {
        __mmask16 k = tail_mask(n - i);
        __m512 e = _mm512_maskz_mov_ps(k, exp_below_88(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), s)));
        _mm512_mask_storeu_ps(y + i, k, e);
        a0 = _mm512_add_ps(a0, e);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

static void scale(float *x, size_t n, float s) {
    const __m512 f = _mm512_set1_ps(s);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 k = tail_mask(n - i);
        _mm512_mask_storeu_ps(x + i, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, x + i), f));
    }
}

/// Sixteen floats rounded to bfloat16 (nearest, ties to even; NaN quieted), as generic.c's
/// bfloat16_bits.
static inline __m256i bfloat16_bits(__m512 x) {
    __m512i u = _mm512_castps_si512(x);
    __m512i high = _mm512_srli_epi32(u, 16);
    __m512i lsb = _mm512_and_si512(high, _mm512_set1_epi32(1));
    __m512i r = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7FFF))), 16);
    __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
    r = _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(high, _mm512_set1_epi32(0x40)));
    return _mm512_cvtepi32_epi16(r);
}

static void fill(float *x, size_t n, float value) {
    const __m512 v = _mm512_set1_ps(value);
    for (size_t i = 0; i < n; i += 16) _mm512_mask_storeu_ps(x + i, tail_mask(n - i), v);
}

/// out = x · s rounded to bfloat16.
static void round_scaled(const float *x, size_t n, float s, uint16_t *out) {
    const __m512 f = _mm512_set1_ps(s);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 k = tail_mask(n - i);
        _mm256_mask_storeu_epi16(out + i, k, bfloat16_bits(_mm512_mul_ps(_mm512_maskz_loadu_ps(k, x + i), f)));
    }
}

static void round_bfloat16(const float *x, size_t rows, size_t columns, size_t stride, uint16_t *out) {
    for (size_t r = 0; r < rows; r++) {
        const float *src = x + r * stride;
        uint16_t *dst = out + r * columns;
        for (size_t j = 0; j < columns; j += 16) {
            __mmask16 k = tail_mask(columns - j);
            _mm256_mask_storeu_epi16(dst + j, k, bfloat16_bits(_mm512_maskz_loadu_ps(k, src + j)));
        }
    }
}

static void quantize_rows_u8(
    const float *x, size_t rows, size_t columns, size_t stride, uint8_t *out, float *scales, int32_t *zero_points) {
    const __m512 magic = _mm512_set1_ps(12582912.0f);
    const __m512 zero_f = _mm512_setzero_ps(), top = _mm512_set1_ps(255.0f);
    for (size_t r = 0; r < rows; r++) {
        const float *src = x + r * stride;
        uint8_t *dst = out + r * columns;
        __m512 lo = zero_f, hi = zero_f;
        for (size_t j = 0; j < columns; j += 16) {
            __m512 v = _mm512_maskz_loadu_ps(tail_mask(columns - j), src + j);
            // min(v, a) / max(v, a) return a for a NaN v: NaNs are skipped, as in generic.c.
            lo = _mm512_min_ps(v, lo);
            hi = _mm512_max_ps(v, hi);
        }
        float low = _mm512_reduce_min_ps(lo), high = _mm512_reduce_max_ps(hi);
        float s = high > low ? (high - low) / 255.0f : 1.0f;
        float zero = (-low / s + 12582912.0f) - 12582912.0f;
        zero = zero < 0 ? 0 : zero > 255 ? 255 : zero;
        const __m512 inverse = _mm512_set1_ps(1.0f / s), z = _mm512_set1_ps(zero);
        for (size_t j = 0; j < columns; j += 16) {
            __mmask16 k = tail_mask(columns - j);
            __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(k, src + j), inverse);
            __m512 q = _mm512_add_ps(_mm512_sub_ps(_mm512_add_ps(v, magic), magic), z);
            // max(q, 0) / min(q, 255) with q second: a NaN q stays NaN, as generic.c's selects leave it.
            q = _mm512_min_ps(top, _mm512_max_ps(zero_f, q));
            __m512i bits = _mm512_castps_si512(_mm512_add_ps(q, magic));
            _mm_mask_storeu_epi8(dst + j, k, _mm512_cvtepi32_epi8(bits));
        }
        scales[r] = s;
        zero_points[r] = (int32_t)zero;
    }
}

/// One row of dequantize_rows: out = (sx · s_w) · (acc − zx · Σq_w) (+ bias).
static void dequantize_row(
    const int32_t *acc, size_t columns, float sx, int32_t zx, const float *column_scales, const int32_t *column_sums,
    const float *bias, float *out) {
    const __m512 s = _mm512_set1_ps(sx);
    const __m512i z = _mm512_set1_epi32(zx);
    for (size_t j = 0; j < columns; j += 16) {
        __mmask16 k = tail_mask(columns - j);
        __m512i centred = _mm512_sub_epi32(
            _mm512_maskz_loadu_epi32(k, acc + j), _mm512_mullo_epi32(z, _mm512_maskz_loadu_epi32(k, column_sums + j)));
        __m512 v = _mm512_mul_ps(_mm512_mul_ps(s, _mm512_maskz_loadu_ps(k, column_scales + j)), _mm512_cvtepi32_ps(centred));
        if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(k, bias + j));
        _mm512_mask_storeu_ps(out + j, k, v);
    }
}

/// s = a + b.
static void sum_rows(float *s, const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 k = tail_mask(n - i);
        _mm512_mask_storeu_ps(s + i, k, _mm512_add_ps(_mm512_maskz_loadu_ps(k, a + i), _mm512_maskz_loadu_ps(k, b + i)));
    }
}

/// y = (x − mean) · inverse · weight + bias.
static void normalize(
    const float *x, size_t n, float mean, float inverse, const float *weight, const float *bias, float *y) {
    const __m512 m = _mm512_set1_ps(mean), f = _mm512_set1_ps(inverse);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 k = tail_mask(n - i);
        __m512 v = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), m), f);
        v = _mm512_add_ps(_mm512_mul_ps(v, _mm512_maskz_loadu_ps(k, weight + i)), _mm512_maskz_loadu_ps(k, bias + i));
        _mm512_mask_storeu_ps(y + i, k, v);
    }
}

static void add(float *y, const float *x, size_t n) {
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 k = tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, k, _mm512_add_ps(_mm512_maskz_loadu_ps(k, y + i), _mm512_maskz_loadu_ps(k, x + i)));
    }
}

#include "rows.h"

#pragma clang attribute pop

const sam2_kernels_table sam2_kernels_avx512 = SAM2_KERNELS_TABLE("avx512");

#else
// Other architectures: never picked (sam2_kernels_avx512_supported() is 0 there).
const sam2_kernels_table sam2_kernels_avx512 = {.name = "avx512 (not on this architecture)"};
#endif
