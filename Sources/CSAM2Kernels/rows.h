// The row drivers and the table of sam2_kernels, shared by generic.c and avx512.c: included after
// each file's run kernels (maximum, sum, squared_deviation, exp_shifted, scale, add, fill,
// round_scaled, sum_rows, normalize, dequantize_row), so every instruction set runs the same formulas.

static void softmax_rows(float *x, size_t rows, size_t columns, uint16_t *rounded) {
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * columns;
        float m = maximum(row, columns);
        float total = isfinite(m) ? exp_shifted(row, row, columns, m) : NAN;
        float inverse = 1.0f / total;
        if (isnan(total)) {
            fill(row, columns, NAN);
            inverse = 1.0f;
        }
        if (rounded)
            round_scaled(row, columns, inverse, rounded + r * columns);
        else
            scale(row, columns, inverse);
    }
}

static void layer_norm_rows(
    const float *x, const float *addend, float *sum_out, size_t rows, size_t columns, const float *weight,
    const float *bias, float eps, float *y) {
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * columns;
        if (addend) {
            sum_rows(sum_out + r * columns, xr, addend + r * columns, columns);
            xr = sum_out + r * columns;
        }
        float mean = sum(xr, columns) / (float)columns;
        float inverse = 1.0f / sqrtf(squared_deviation(xr, columns, mean) / (float)columns + eps);
        normalize(xr, columns, mean, inverse, weight, bias, y + r * columns);
    }
}

static void dequantize_rows(
    const int32_t *acc, size_t rows, size_t columns, const float *row_scales, const int32_t *zero_points,
    const float *column_scales, const int32_t *column_sums, const float *bias, float *y) {
    for (size_t r = 0; r < rows; r++)
        dequantize_row(
            acc + r * columns, columns, row_scales[r], zero_points[r], column_scales, column_sums, bias, y + r * columns);
}

#define SAM2_KERNELS_TABLE(label)                                                                                   \
    {                                                                                                               \
        .name = label, .maximum = maximum, .sum = sum, .squared_deviation = squared_deviation,                      \
        .exp_shifted = exp_shifted, .scale = scale, .softmax_rows = softmax_rows, .round_bfloat16 = round_bfloat16, \
        .quantize_rows_u8 = quantize_rows_u8, .dequantize_rows = dequantize_rows,                                   \
        .layer_norm_rows = layer_norm_rows, .add = add,                                                             \
    }
