// sam2_kernels: SAM2Tensor's elementwise and row kernels in C, so that each can be compiled for
// AVX-512 beside a portable version and picked at run time (Swift code is built for the baseline
// x86-64 target, four lanes without FMA). Every kernel exists twice with the same contract:
// `sam2_kernels_generic` (plain loops) and `sam2_kernels_avx512`; `sam2_kernels()` gives the one
// this CPU runs.
#ifndef SAM2_KERNELS_H
#define SAM2_KERNELS_H

#include <stddef.h>
#include <stdint.h>

typedef struct sam2_kernels_table {
    /// Name of the instruction set ("generic", "avx512").
    const char *name;
    /// Largest of x[0..<n] (−∞ when empty; NaNs are skipped).
    float (*maximum)(const float *x, size_t n);
    /// Σ x[0..<n].
    float (*sum)(const float *x, size_t n);
    /// Σ (x − mean)².
    float (*squared_deviation)(const float *x, size_t n, float mean);
    /// y = e^(x − shift) (x and y may be the same run); returns Σ y. Arguments below −87.3
    /// (including −∞) give 0; relative error of e^v about 1e-7.
    float (*exp_shifted)(const float *x, float *y, size_t n, float shift);
    /// x *= s.
    void (*scale)(float *x, size_t n, float s);
    /// Softmax of each row of x [rows, columns] (dense), as torch.softmax: e^(x − max) · (1 / Σ).
    /// A row holding NaN or ±∞ as its largest value becomes NaN. With `rounded`, the
    /// probabilities go there rounded to bfloat16 (nearest, ties to even) and x keeps e^(x − max);
    /// without, they replace x.
    void (*softmax_rows)(float *x, size_t rows, size_t columns, uint16_t *rounded);
    /// Rows of x (row stride `stride`) rounded to bfloat16 into dense out [rows, columns]
    /// (nearest, ties to even; NaN stays NaN, quieted).
    void (*round_bfloat16)(const float *x, size_t rows, size_t columns, size_t stride, uint16_t *out);
    /// Per-row u8 quantization: the row's range widened to hold 0 is mapped onto 0...255,
    /// scale = (high − low) / 255 (1 for a constant row), zero = clamp(round(−low / scale), 0, 255),
    /// q = clamp(round(x / scale) + zero, 0, 255), rounding to nearest even.
    void (*quantize_rows_u8)(
        const float *x, size_t rows, size_t columns, size_t stride, uint8_t *out, float *scales, int32_t *zero_points);
    /// y[r, j] = (s_x[r] · s_w[j]) · (acc[r, j] − z_x[r] · Σq_w[j]) (+ bias[j] when given): an int8
    /// product's s32 accumulators [rows, columns] back to float.
    void (*dequantize_rows)(
        const int32_t *acc, size_t rows, size_t columns, const float *row_scales, const int32_t *zero_points,
        const float *column_scales, const int32_t *column_sums, const float *bias, float *y);
    /// Rows of x [rows, columns] (plus `addend` when given, the sum stored in `sum` first) normalised
    /// over the columns: (x − mean) · (1 / √(var + eps)) · weight + bias, biased variance.
    void (*layer_norm_rows)(
        const float *x, const float *addend, float *sum, size_t rows, size_t columns, const float *weight,
        const float *bias, float eps, float *y);
    /// y[i] += x[i].
    void (*add)(float *y, const float *x, size_t n);
} sam2_kernels_table;

extern const sam2_kernels_table sam2_kernels_generic;
/// Valid only where `sam2_kernels_avx512_supported()` says so.
extern const sam2_kernels_table sam2_kernels_avx512;

/// 1 when the CPU and the operating system run AVX-512 (F, BW, VL, DQ).
int sam2_kernels_avx512_supported(void);
/// The table for this CPU (the AVX-512 one unless the environment sets SAM2_KERNELS=generic).
const sam2_kernels_table *sam2_kernels(void);

#endif
