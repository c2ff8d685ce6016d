// AttentionProducts: the two products of attention for one (batch, head) — S = scale · Q Kᵀ and
// O = P V — in float32 (sgemm) or with bfloat16 operands and f32 results (oneDNN matmul, cached per
// shape). For bf16, q, k and v are copied to bf16 once per call in their own layout; P is rounded
// to bf16 block by block. Softmax statistics stay f32 in the callers.

struct AttentionProducts: @unchecked Sendable {
    let query, key, value: AttentionOperand
    /// bf16 copies of the operands, addressed like the operands (nil in float32).
    private let q16, k16, v16: UnsafeMutablePointer<UInt16>?
    private let copies: [UnsafeMutablePointer<UInt16>]

    var isBFloat16: Bool { q16 != nil }

    /// The products of attention in `precision` (int8 runs its attention products in bf16).
    init(query: AttentionOperand, key: AttentionOperand, value: AttentionOperand, precision: Precision) {
        (self.query, self.key, self.value) = (query, key, value)
        guard precision != .float32 else {
            (q16, k16, v16, copies) = (nil, nil, nil, [])
            return
        }
        var converted: [ObjectIdentifier: UnsafeMutablePointer<UInt16>] = [:]
        func copy(_ operand: AttentionOperand) -> UnsafeMutablePointer<UInt16> {
            let storage = operand.tensor.storage
            if let found = converted[ObjectIdentifier(storage)] { return found + operand.offset }
            let count = storage.count
            let out = UnsafeMutablePointer<UInt16>.allocate(capacity: max(1, count))
            nonisolated(unsafe) let (src, dst) = (UnsafePointer(storage.pointer), out)
            Parallel.forEachChunk(count, minimumChunk: 1 << 16) { range in
                convertToBFloat16(
                    src + range.lowerBound, rows: 1, columns: range.count, stride: 0, into: dst + range.lowerBound)
            }
            converted[ObjectIdentifier(storage)] = out
            return out + operand.offset
        }
        (q16, k16, v16) = (copy(query), copy(key), copy(value))
        copies = Array(converted.values)
    }

    /// Frees the bf16 copies.
    func release() { for c in copies { c.deallocate() } }

    /// s [rows, n] (row stride ldc) = alpha · Q[bi, hi, q0..<q0+rows] · K[bi, hi, k0..<k0+n]ᵀ.
    func scores(
        bi: Int, hi: Int, q0: Int, rows: Int, k0: Int, n: Int, alpha: Float, into s: UnsafeMutablePointer<Float>,
        ldc: Int
    ) {
        let (qs, ks, d) = (query, key, query.dim)
        let qOffset = bi * qs.batchStride + hi * qs.headStride + q0 * qs.tokenStride
        let kOffset = bi * ks.batchStride + hi * ks.headStride + k0 * ks.tokenStride
        if let q16, let k16 {
            let shape = MatmulPrimitive.Shape(
                kind: .bfloat16, m: rows, n: n, k: d, lda: qs.tokenStride, ldc: ldc, bStrides: [1, ks.tokenStride],
                scale: alpha)
            MatmulPrimitive.cached(shape).execute(a: q16 + qOffset, b: k16 + kOffset, c: s)
        } else {
            Gemm.sgemm(
                transA: false, transB: true, m: rows, n: n, k: d, alpha: alpha, a: qs.pointer + qOffset,
                lda: qs.tokenStride, b: ks.pointer + kOffset, ldb: ks.tokenStride, beta: 0, c: s, ldc: ldc, threads: 1)
        }
    }

    /// o [rows, dv] (row stride ldo) = (or += when accumulating) p [rows, n] (row stride ldp) ·
    /// V[bi, hi, k0..<k0+n]. In bf16, `scratch` holds rows · n values for p's rounding.
    func values(
        _ p: UnsafeMutablePointer<Float>, ldp: Int, bi: Int, hi: Int, k0: Int, rows: Int, n: Int,
        into o: UnsafeMutablePointer<Float>, ldo: Int, accumulate: Bool, scratch: UnsafeMutablePointer<UInt16>?
    ) {
        let vs = value
        let vOffset = bi * vs.batchStride + hi * vs.headStride + k0 * vs.tokenStride
        if let v16, let scratch {
            convertToBFloat16(p, rows: rows, columns: n, stride: ldp, into: scratch)
            let shape = MatmulPrimitive.Shape(
                kind: .bfloat16, m: rows, n: vs.dim, k: n, lda: n, ldc: ldo, bStrides: [vs.tokenStride, 1],
                accumulate: accumulate)
            MatmulPrimitive.cached(shape).execute(a: scratch, b: v16 + vOffset, c: o)
        } else {
            Gemm.sgemm(
                transA: false, transB: false, m: rows, n: vs.dim, k: n, alpha: 1, a: p, lda: ldp,
                b: vs.pointer + vOffset, ldb: vs.tokenStride, beta: accumulate ? 1 : 0, c: o, ldc: ldo, threads: 1)
        }
    }
}
