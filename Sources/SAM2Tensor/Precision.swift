// Precision: the number format a model's products run in — float32 (parity with the reference),
// bfloat16 (bf16 operands, f32 accumulation) or int8 (s8 weights per output channel, u8
// activations per token) — and whether this CPU has the instructions that make each fast, as
// oneDNN reports its instruction set.

import CDNNL

public enum Precision: String, Sendable, CaseIterable, Codable {
    case float32, bfloat16, int8

    /// The short names of the command line: fp32, bf16, int8.
    public var shortName: String {
        switch self {
        case .float32: "fp32"
        case .bfloat16: "bf16"
        case .int8: "int8"
        }
    }

    /// A precision by its short or long name (fp32, f32, float32, bf16, bfloat16, int8).
    public init?(name: String) {
        switch name.lowercased() {
        case "fp32", "f32", "float32": self = .float32
        case "bf16", "bfloat16": self = .bfloat16
        case "int8", "i8": self = .int8
        default: return nil
        }
    }

    /// The instruction set of SAM2Tensor's own row kernels (softmax, norms, conversions;
    /// CSAM2Kernels): "avx512" or "generic".
    public static var kernelInstructionSet: String { VectorMath.instructionSet }

    /// The instruction set oneDNN dispatches to on this CPU (e.g. "avx512_core_amx").
    public static var instructionSet: String {
        switch dnnl_get_effective_cpu_isa() {
        case dnnl_cpu_isa_avx512_core_amx: "avx512_core_amx"
        case dnnl_cpu_isa_avx512_core_bf16: "avx512_core_bf16"
        case dnnl_cpu_isa_avx512_core_vnni: "avx512_core_vnni"
        case dnnl_cpu_isa_avx2_vnni: "avx2_vnni"
        case dnnl_cpu_isa_avx512_core: "avx512_core"
        case dnnl_cpu_isa_avx2: "avx2"
        case dnnl_cpu_isa_avx: "avx"
        case dnnl_cpu_isa_sse41: "sse41"
        default: "other"
        }
    }

    /// True when this CPU has instructions for this precision's products: every CPU for float32,
    /// avx512_bf16 (or AMX) for bfloat16, VNNI (or AMX) for int8. Elsewhere oneDNN emulates them, slowly.
    public var isAccelerated: Bool {
        let isa = dnnl_get_effective_cpu_isa()
        switch self {
        case .float32: return true
        case .bfloat16:
            return isa == dnnl_cpu_isa_avx512_core_bf16 || isa == dnnl_cpu_isa_avx512_core_amx
        case .int8:
            return [
                dnnl_cpu_isa_avx512_core_vnni, dnnl_cpu_isa_avx512_core_bf16, dnnl_cpu_isa_avx512_core_amx,
                dnnl_cpu_isa_avx2_vnni,
            ].contains(isa)
        }
    }
}
