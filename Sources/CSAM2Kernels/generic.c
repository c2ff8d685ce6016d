// The portable versions of sam2_kernels: plain loops, compiled for the baseline target.
#include <math.h>
#include <string.h>

#include "sam2_kernels.h"

#pragma STDC FP_CONTRACT OFF

/// Four floats, for the reductions (which the loop vectoriser leaves scalar: it may not reorder
/// float sums or NaN-skipping maxima).
typedef float float4 __attribute__((vector_size(16)));
typedef int32_t int4 __attribute__((vector_size(16)));

/// The larger of v and a lane by lane, a where v is NaN (v > a is false).
static inline float4 larger(float4 v, float4 a) {
    int4 take = v > a;
    return (float4)(((int4)v & take) | ((int4)a & ~take));
}

static inline float4 load4(const float *x) {
    float4 v;
    memcpy(&v, x, sizeof v);
    return v;
}

static float maximum(const float *x, size_t n) {
    float4 a = {-INFINITY, -INFINITY, -INFINITY, -INFINITY}, b = a;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        float4 v = load4(x + i), w = load4(x + i + 4);
        a = larger(v, a);
        b = larger(w, b);
    }
    a = larger(b, a);
    float best = a[0] > a[1] ? a[0] : a[1];
    best = a[2] > best ? a[2] : best;
    best = a[3] > best ? a[3] : best;
    for (; i < n; i++) best = x[i] > best ? x[i] : best;
    return best;
}

static float sum(const float *x, size_t n) {
    float4 a = {0, 0, 0, 0}, b = a;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        a += load4(x + i);
        b += load4(x + i + 4);
    }
    a += b;
    float total = (a[0] + a[1]) + (a[2] + a[3]);
    for (; i < n; i++) total += x[i];
    return total;
}

static float squared_deviation(const float *x, size_t n, float mean) {
    float4 a = {0, 0, 0, 0}, b = a;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        float4 d = load4(x + i) - mean, e = load4(x + i + 4) - mean;
        a += d * d;
        b += e * e;
    }
    a += b;
    float total = (a[0] + a[1]) + (a[2] + a[3]);
    for (; i < n; i++) {
        float d = x[i] - mean;
        total += d * d;
    }
    return total;
}

/// e^v for v ≤ 88: v = k·ln2 + r (Cody–Waite, ln2 in two parts), e^r by Cephes' polynomial,
/// 2^k from the exponent bits; below −87.3 it gives 0. The AVX-512 version computes the same.
static inline float exp_below_88(float v) {
    const float magic = 12582912.0f;  // 1.5 · 2²³: adding it rounds to an integer in the low bits
    int under = v < -87.3f;
    float w = under ? -87.3f : v;
    float t = w * 1.44269504088896341f + magic;
    float k = t - magic;
    float r = (w - k * 0.693359375f) - k * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = (p * (r * r) + r) + 1.0f;
    union { uint32_t u; float f; } tb = {.f = t}, mb = {.f = magic}, two;
    two.u = (tb.u - mb.u + 127u) << 23;
    return under ? 0.0f : p * two.f;
}

static float exp_shifted(const float *x, float *y, size_t n, float shift) {
    for (size_t i = 0; i < n; i++) y[i] = exp_below_88(x[i] - shift);
    return sum(y, n);
}

static void scale(float *x, size_t n, float s) {
    for (size_t i = 0; i < n; i++) x[i] *= s;
}

static inline uint16_t bfloat16_bits(float value) {
    union { float f; uint32_t u; } b = {.f = value};
    if (value != value) return (uint16_t)((b.u >> 16) | 0x40);
    return (uint16_t)((b.u + 0x7FFFu + ((b.u >> 16) & 1u)) >> 16);
}

static void fill(float *x, size_t n, float value) {
    for (size_t i = 0; i < n; i++) x[i] = value;
}

/// out = x · s rounded to bfloat16.
static void round_scaled(const float *x, size_t n, float s, uint16_t *out) {
    for (size_t i = 0; i < n; i++) out[i] = bfloat16_bits(x[i] * s);
}

static void round_bfloat16(const float *x, size_t rows, size_t columns, size_t stride, uint16_t *out) {
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < columns; j++) out[r * columns + j] = bfloat16_bits(x[r * stride + j]);
}

/// Rounds to the nearest integer (ties to even) for |v| < 2²²; used where v is at most 255 or so.
static inline float round_even(float v) {
    const float magic = 12582912.0f;
    return (v + magic) - magic;
}

static void quantize_rows_u8(
    const float *x, size_t rows, size_t columns, size_t stride, uint8_t *out, float *scales, int32_t *zero_points) {
    for (size_t r = 0; r < rows; r++) {
        const float *src = x + r * stride;
        uint8_t *dst = out + r * columns;
        float low = 0, high = 0;
        for (size_t j = 0; j < columns; j++) {
            low = src[j] < low ? src[j] : low;
            high = src[j] > high ? src[j] : high;
        }
        float s = high > low ? (high - low) / 255.0f : 1.0f;
        float zero = round_even(-low / s);
        zero = zero < 0 ? 0 : zero > 255 ? 255 : zero;
        float inverse = 1.0f / s;
        for (size_t j = 0; j < columns; j++) {
            float q = round_even(src[j] * inverse) + zero;
            q = q < 0 ? 0 : q > 255 ? 255 : q;
            union { float f; uint32_t u; } bits = {.f = q + 12582912.0f};
            dst[j] = (uint8_t)bits.u;
        }
        scales[r] = s;
        zero_points[r] = (int32_t)zero;
    }
}

/// One row of dequantize_rows: out = (sx · s_w) · (acc − zx · Σq_w) (+ bias).
static void dequantize_row(
    const int32_t *acc, size_t columns, float sx, int32_t zx, const float *column_scales, const int32_t *column_sums,
    const float *bias, float *out) {
    for (size_t j = 0; j < columns; j++) {
        int32_t centred = (int32_t)((uint32_t)acc[j] - (uint32_t)zx * (uint32_t)column_sums[j]);
        out[j] = (sx * column_scales[j]) * (float)centred;
    }
    if (bias)
        for (size_t j = 0; j < columns; j++) out[j] += bias[j];
}

/// s = a + b.
static void sum_rows(float *s, const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++) s[i] = a[i] + b[i];
}

/// y = (x − mean) · inverse · weight + bias.
static void normalize(
    const float *x, size_t n, float mean, float inverse, const float *weight, const float *bias, float *y) {
    for (size_t i = 0; i < n; i++) y[i] = ((x[i] - mean) * inverse) * weight[i] + bias[i];
}

static void add(float *y, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] += x[i];
}

#include "rows.h"

const sam2_kernels_table sam2_kernels_generic = SAM2_KERNELS_TABLE("generic");
