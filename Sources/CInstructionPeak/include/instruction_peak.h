// The arithmetic peak of one core: chains of the multiply-add instructions the products run on
// (f32 FMA, bf16 dot product, u8×s8 dot product), twelve independent accumulators each, so that
// only the instructions' throughput limits them. For sam2-kernel-bench's floors.
#ifndef INSTRUCTION_PEAK_H
#define INSTRUCTION_PEAK_H

typedef enum {
    instruction_peak_f32_fma = 0,  // 2 FLOP per f32 lane
    instruction_peak_bf16_dot = 1,  // 4 FLOP per f32 lane (two bf16 pairs)
    instruction_peak_u8s8_dot = 2,  // 8 OP per s32 lane (four u8×s8 pairs)
} instruction_peak_kind;

/// Vector width in bytes of the instruction this CPU runs for `kind` (64: AVX-512, 32: AVX2 FMA for
/// f32 only), 0 when it has none.
int instruction_peak_width(instruction_peak_kind kind);

/// Runs `rounds` rounds of 12 dependent-free instructions of `kind` on the calling thread and returns
/// the operations done (FLOP or integer OP); 0 when the CPU lacks the instruction.
double instruction_peak_run(instruction_peak_kind kind, long rounds);

#endif
