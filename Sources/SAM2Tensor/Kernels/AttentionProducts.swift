// AttentionProducts: the two products of attention for one (batch, head) — S = scale · Q Kᵀ and
// O = P V — in float32 (sgemm) or with bfloat16 operands and f32 results (oneDNN matmul, cached per
// shape). For bf16, q, k and v are copied to bf16 once per call, head-major and dense ([B, H, L, D]:
// oneDNN's fast kernels want dense operands); when several query blocks read the same keys, each
// tile of keys and values is also packed once into oneDNN's preferred layout instead of in every
// product (unless oneDNN has only its reference kernel for a packed shape). P is rounded to bf16
// block by block; softmax statistics stay f32 in the callers.

import CDNNL

struct AttentionProducts: @unchecked Sendable {
    let query, key, value: AttentionOperand
    /// Dense head-major bf16 copies of the operands (nil in float32).
    private let q16, k16, v16: UnsafeMutablePointer<UInt16>?
    /// Query rows per product (the rows the packed tiles' layout is chosen for).
    let queryRows: Int
    /// Keys per tile, and per (batch·heads + head)·tiles + tile the packed Kᵀ and V tiles (or none).
    private let keyTile: Int
    private let packedKeys, packedValues: [UnsafeMutableRawPointer]
    private let copies: [UnsafeMutablePointer<UInt16>]

    var isBFloat16: Bool { q16 != nil }

    /// The products of attention in `precision` (int8 runs its attention products in bf16), keys
    /// taken `keyTile` at a time, queries `queryRows` at a time; `packKeys` packs the key and value
    /// tiles once (worth it when several query blocks read them).
    init(
        query: AttentionOperand, key: AttentionOperand, value: AttentionOperand, precision: Precision, keyTile: Int,
        queryRows: Int, packKeys: Bool
    ) {
        (self.query, self.key, self.value, self.keyTile, self.queryRows) = (query, key, value, keyTile, queryRows)
        guard precision != .float32 else {
            (q16, k16, v16, copies, packedKeys, packedValues) = (nil, nil, nil, [], [], [])
            return
        }
        (q16, k16, v16) = (Self.denseCopy(query), Self.denseCopy(key), Self.denseCopy(value))
        copies = [q16!, k16!, v16!]
        guard packKeys else {
            (packedKeys, packedValues) = ([], [])
            return
        }
        let (lk, d, dv) = (key.tokens, key.dim, value.dim)
        let tiles = (lk + keyTile - 1) / keyTile
        let count = key.batch * key.heads * tiles
        func allocate(_ n: Int, _ k: Int) -> UnsafeMutableRawPointer {
            UnsafeMutableRawPointer.allocate(
                byteCount: MatmulPrimitive.packedSize(.bfloat16, n: n, k: k, rows: queryRows), alignment: 64)
        }
        let tileKeys = (0..<count).map { min(keyTile, lk - ($0 % tiles) * keyTile) }
        nonisolated(unsafe) let keys = (0..<count).map { allocate(tileKeys[$0], d) }
        nonisolated(unsafe) let values = (0..<count).map { allocate(dv, tileKeys[$0]) }
        nonisolated(unsafe) let (kp, vp) = (k16!, v16!)
        Parallel.forEach(count) { i in
            let (head, k0, n) = (i / tiles, (i % tiles) * keyTile, tileKeys[i])
            MatmulPrimitive.pack(
                .bfloat16, n: n, k: d, plain: kp + (head * lk + k0) * d, strides: [1, d], into: keys[i])
            MatmulPrimitive.pack(
                .bfloat16, n: dv, k: n, plain: vp + (head * lk + k0) * dv, strides: [dv, 1], into: values[i])
        }
        (packedKeys, packedValues) = (keys, values)
    }

    /// The operand rounded to bf16, head-major and dense: element (b, l, h, d) at ((b·H + h)·L + l)·D + d.
    /// oneDNN reorders blocks of about 64k elements (runs of tokens of one batch item, or several
    /// whole batch items when they are small, e.g. windows) straight from the operand's strides.
    private static func denseCopy(_ x: AttentionOperand) -> UnsafeMutablePointer<UInt16> {
        let (b, l, h, d) = (x.batch, x.tokens, x.heads, x.dim)
        let out = UnsafeMutablePointer<UInt16>.allocate(capacity: max(1, b * l * h * d))
        guard b * l * h * d > 0 else { return out }
        nonisolated(unsafe) let (src, dst) = (UnsafePointer(x.pointer), out)
        let block = 1 << 16
        let (tokensPer, batchesPer) =
            l * h * d >= block ? (max(1, block / (h * d)), 1) : (l, max(1, block / (l * h * d)))
        let (batchBlocks, tokenBlocks) = ((b + batchesPer - 1) / batchesPer, (l + tokensPer - 1) / tokensPer)
        Parallel.forEach(batchBlocks * tokenBlocks) { i in
            let (b0, l0) = ((i / tokenBlocks) * batchesPer, (i % tokenBlocks) * tokensPer)
            let dims = [min(batchesPer, b - b0), min(tokensPer, l - l0), h, d]
            OneDNN.reorder(
                OneDNN.stridedDesc(dims, [x.batchStride, x.tokenStride, x.headStride, 1], dnnl_f32),
                src + b0 * x.batchStride + l0 * x.tokenStride,
                OneDNN.stridedDesc(dims, [h * l * d, d, l * d, 1], dnnl_bf16), dst + (b0 * h * l + l0) * d)
        }
        withExtendedLifetime(x) {}
        return out
    }

    /// Frees the bf16 copies.
    func release() {
        for c in copies { c.deallocate() }
        for p in packedKeys + packedValues { p.deallocate() }
    }

    /// The packed tile of (batch·heads + head) that starts at key k0, when tiles are packed.
    private func packedTile(_ head: Int, _ k0: Int) -> Int? {
        guard !packedKeys.isEmpty, k0 % keyTile == 0 else { return nil }
        return head * ((key.tokens + keyTile - 1) / keyTile) + k0 / keyTile
    }

    /// s [rows, n] (row stride ldc) = alpha · Q[bi, hi, q0..<q0+rows] · K[bi, hi, k0..<k0+n]ᵀ; n is
    /// the tile's length when tiles are packed.
    func scores(
        bi: Int, hi: Int, q0: Int, rows: Int, k0: Int, n: Int, alpha: Float, into s: UnsafeMutablePointer<Float>,
        ldc: Int
    ) {
        let (qs, ks, d, h) = (query, key, query.dim, query.heads)
        if let q16, let k16 {
            let a = q16 + ((bi * h + hi) * qs.tokens + q0) * d
            let packed = MatmulPrimitive.Shape(
                kind: .bfloat16, m: rows, n: n, k: d, lda: d, ldc: ldc, bStrides: nil, scale: alpha,
                layoutRows: queryRows)
            if let tile = packedTile(bi * h + hi, k0), !MatmulPrimitive.cached(packed).isReference {
                MatmulPrimitive.cached(packed).execute(a: a, b: packedKeys[tile], c: s)
            } else {
                let shape = MatmulPrimitive.Shape(
                    kind: .bfloat16, m: rows, n: n, k: d, lda: d, ldc: ldc, bStrides: [1, d], scale: alpha)
                MatmulPrimitive.cached(shape).execute(a: a, b: k16 + ((bi * h + hi) * ks.tokens + k0) * d, c: s)
            }
        } else {
            let qOffset = bi * qs.batchStride + hi * qs.headStride + q0 * qs.tokenStride
            let kOffset = bi * ks.batchStride + hi * ks.headStride + k0 * ks.tokenStride
            Gemm.sgemm(
                transA: false, transB: true, m: rows, n: n, k: d, alpha: alpha, a: qs.pointer + qOffset,
                lda: qs.tokenStride, b: ks.pointer + kOffset, ldb: ks.tokenStride, beta: 0, c: s, ldc: ldc, threads: 1)
        }
    }

    /// o [rows, dv] (row stride ldo) = (or += when accumulating) p [rows, n] (row stride ldp) ·
    /// V[bi, hi, k0..<k0+n]. In bf16 the product reads `rounded`, p already rounded to bf16 (row
    /// stride n; see `round`), instead of p; when o's rows are not dense (ldo ≠ dv) it lands in
    /// `staging` ([rows, dv]) first and is copied, since oneDNN 2.6 runs products with a strided
    /// destination on its slower gemm (no AMX) or, for packed weights, its reference kernel.
    func values(
        _ p: UnsafeMutablePointer<Float>, ldp: Int, rounded: UnsafePointer<UInt16>?, bi: Int, hi: Int, k0: Int,
        rows: Int, n: Int, into o: UnsafeMutablePointer<Float>, ldo: Int, accumulate: Bool,
        staging: UnsafeMutablePointer<Float>? = nil
    ) {
        let vs = value
        if let v16 {
            guard let rounded else { preconditionFailure("bf16 attention values need the rounded probabilities") }
            if ldo != vs.dim {
                guard let staging, !accumulate else {
                    preconditionFailure("bf16 attention values into strided rows need a staging buffer")
                }
                values(
                    p, ldp: ldp, rounded: rounded, bi: bi, hi: hi, k0: k0, rows: rows, n: n, into: staging,
                    ldo: vs.dim, accumulate: false)
                for r in 0..<rows { (o + r * ldo).update(from: staging + r * vs.dim, count: vs.dim) }
                return
            }
            var shape = MatmulPrimitive.Shape(
                kind: .bfloat16, m: rows, n: vs.dim, k: n, lda: n, ldc: ldo, bStrides: nil, accumulate: accumulate,
                layoutRows: queryRows)
            var tile = packedTile(bi * vs.heads + hi, k0)
            if tile == nil || MatmulPrimitive.cached(shape).isReference {
                (tile, shape.bStrides) = (nil, [vs.dim, 1])
            }
            let b =
                tile.map { UnsafeRawPointer(packedValues[$0]) }
                ?? UnsafeRawPointer(v16 + ((bi * vs.heads + hi) * vs.tokens + k0) * vs.dim)
            MatmulPrimitive.cached(shape).execute(a: rounded, b: b, c: o)
        } else {
            let vOffset = bi * vs.batchStride + hi * vs.headStride + k0 * vs.tokenStride
            Gemm.sgemm(
                transA: false, transB: false, m: rows, n: vs.dim, k: n, alpha: 1, a: p, lda: ldp,
                b: vs.pointer + vOffset, ldb: vs.tokenStride, beta: accumulate ? 1 : 0, c: o, ldc: ldo, threads: 1)
        }
    }

    /// In bf16, p [rows, columns] (dense) rounded into `rounded` for `values`; nothing in float32.
    func round(_ p: UnsafePointer<Float>, rows: Int, columns: Int, into rounded: UnsafeMutablePointer<UInt16>?) {
        guard let rounded else { return }
        convertToBFloat16(p, rows: rows, columns: columns, stride: columns, into: rounded)
    }
}
