// Instruction throughput chains for the arithmetic peak (see instruction_peak.h). Each variant is
// compiled for its own instruction set and picked at run time, so the file builds for baseline x86-64.
#include "instruction_peak.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define ACCUMULATORS 12

// The results feed a volatile sink so that the chains are not optimised away.
static volatile float sink_f;
static volatile int sink_i;

__attribute__((target("avx512f"))) static void f32_fma_512(long rounds) {
    __m512 acc[ACCUMULATORS];
    const __m512 b = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(1e-3f);
    for (int i = 0; i < ACCUMULATORS; i++) acc[i] = _mm512_set1_ps((float)i);
    for (long r = 0; r < rounds; r++)
#pragma clang loop unroll(full)
        for (int i = 0; i < ACCUMULATORS; i++) acc[i] = _mm512_fmadd_ps(acc[i], b, c);
    float s = 0;
    for (int i = 0; i < ACCUMULATORS; i++) s += _mm512_reduce_add_ps(acc[i]);
    sink_f = s;
}

__attribute__((target("avx2,fma"))) static void f32_fma_256(long rounds) {
    __m256 acc[ACCUMULATORS];
    const __m256 b = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(1e-3f);
    for (int i = 0; i < ACCUMULATORS; i++) acc[i] = _mm256_set1_ps((float)i);
    for (long r = 0; r < rounds; r++)
#pragma clang loop unroll(full)
        for (int i = 0; i < ACCUMULATORS; i++) acc[i] = _mm256_fmadd_ps(acc[i], b, c);
    float lanes[8], s = 0;
    for (int i = 0; i < ACCUMULATORS; i++) {
        _mm256_storeu_ps(lanes, acc[i]);
        for (int j = 0; j < 8; j++) s += lanes[j];
    }
    sink_f = s;
}

__attribute__((target("avx512f,avx512bf16"))) static void bf16_dot_512(long rounds) {
    __m512 acc[ACCUMULATORS];
    const __m512bh b = (__m512bh)_mm512_set1_epi16(0x3f80), c = (__m512bh)_mm512_set1_epi16(0x3a80);
    for (int i = 0; i < ACCUMULATORS; i++) acc[i] = _mm512_set1_ps((float)i);
    for (long r = 0; r < rounds; r++)
#pragma clang loop unroll(full)
        for (int i = 0; i < ACCUMULATORS; i++) acc[i] = _mm512_dpbf16_ps(acc[i], b, c);
    float s = 0;
    for (int i = 0; i < ACCUMULATORS; i++) s += _mm512_reduce_add_ps(acc[i]);
    sink_f = s;
}

__attribute__((target("avx512f,avx512vnni"))) static void u8s8_dot_512(long rounds) {
    __m512i acc[ACCUMULATORS];
    const __m512i b = _mm512_set1_epi8(1), c = _mm512_set1_epi8(-1);
    for (int i = 0; i < ACCUMULATORS; i++) acc[i] = _mm512_set1_epi32(i);
    for (long r = 0; r < rounds; r++)
#pragma clang loop unroll(full)
        for (int i = 0; i < ACCUMULATORS; i++) acc[i] = _mm512_dpbusd_epi32(acc[i], b, c);
    int s = 0;
    for (int i = 0; i < ACCUMULATORS; i++) s += _mm512_reduce_add_epi32(acc[i]);
    sink_i = s;
}

int instruction_peak_width(instruction_peak_kind kind) {
    __builtin_cpu_init();
    int avx512 = __builtin_cpu_supports("avx512f");
    switch (kind) {
    case instruction_peak_f32_fma:
        return avx512 ? 64 : (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 32 : 0);
    case instruction_peak_bf16_dot:
        return avx512 && __builtin_cpu_supports("avx512bf16") ? 64 : 0;
    case instruction_peak_u8s8_dot:
        return avx512 && __builtin_cpu_supports("avx512vnni") ? 64 : 0;
    }
    return 0;
}

double instruction_peak_run(instruction_peak_kind kind, long rounds) {
    int width = instruction_peak_width(kind);
    double per_lane = kind == instruction_peak_f32_fma ? 2 : (kind == instruction_peak_bf16_dot ? 4 : 8);
    switch (kind) {
    case instruction_peak_f32_fma:
        if (width == 64) f32_fma_512(rounds);
        else if (width == 32) f32_fma_256(rounds);
        break;
    case instruction_peak_bf16_dot:
        if (width) bf16_dot_512(rounds);
        break;
    case instruction_peak_u8s8_dot:
        if (width) u8s8_dot_512(rounds);
        break;
    }
    return (double)rounds * ACCUMULATORS * (width / 4) * per_lane;
}

#else

int instruction_peak_width(instruction_peak_kind kind) {
    (void)kind;
    return 0;
}

double instruction_peak_run(instruction_peak_kind kind, long rounds) {
    (void)kind;
    (void)rounds;
    return 0;
}

#endif
