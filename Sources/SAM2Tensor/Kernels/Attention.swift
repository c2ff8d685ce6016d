// Attention: softmax(q·kᵀ·scale)·v, computed flash-attention style: blocked over queries and keys
// with an online (running-max) softmax, so memory stays O(block²) per worker instead of Lq×Lk per head.
// Operands are strided views, so heads are read straight from projection outputs (token-major or
// packed qkv) and the result is written token-major, without permuted copies.

import Foundation

/// Query rows per work item and key rows per inner step.
let attentionQueryBlock = 128
let attentionKeyBlock = 512

/// Where attention finds a [B, L, H, D] operand inside a tensor: element (b, l, h, d) sits at
/// offset + b·batchStride + l·tokenStride + h·headStride + d.
public struct AttentionOperand: Sendable {
    public let tensor: Tensor
    public let batch, tokens, heads, dim: Int
    let offset, batchStride, tokenStride, headStride: Int

    /// x [B, L, H·D]: token-major, the heads side by side in the channels.
    public init(tokenMajor x: Tensor, heads: Int) {
        precondition(x.rank == 3 && heads > 0 && x.shape[2] % heads == 0, "attention operand: \(x.shape) does not split into \(heads) heads")
        (tensor, batch, tokens, self.heads, dim) = (x, x.shape[0], x.shape[1], heads, x.shape[2] / heads)
        (offset, batchStride, tokenStride, headStride) = (0, x.shape[1] * x.shape[2], x.shape[2], x.shape[2] / heads)
    }

    /// Part `part` of x [B, L, parts, H, D], e.g. q, k or v of a fused qkv projection.
    public init(packed x: Tensor, part: Int) {
        precondition(x.rank == 5 && part >= 0 && part < x.shape[2], "attention operand: no part \(part) in \(x.shape)")
        let (parts, h, d) = (x.shape[2], x.shape[3], x.shape[4])
        (tensor, batch, tokens, heads, dim) = (x, x.shape[0], x.shape[1], h, d)
        (offset, batchStride, tokenStride, headStride) = (part * h * d, x.shape[1] * parts * h * d, parts * h * d, d)
    }

    /// x [B, H, L, D]: head-major.
    public init(headMajor x: Tensor) {
        precondition(x.rank == 4, "attention operand: expected [B, H, L, D], got \(x.shape)")
        (tensor, batch, heads, tokens, dim) = (x, x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        (offset, batchStride, tokenStride, headStride) = (0, x.shape[1] * x.shape[2] * x.shape[3], x.shape[3], x.shape[2] * x.shape[3])
    }

    var pointer: UnsafeMutablePointer<Float> { tensor.storage.pointer + offset }
}

/// q, k, v [B, L, H, D] views (any layout) → [B, Lq, H·Dv], token-major; scale defaults to 1/√D.
public func scaledDotProductAttention(query: AttentionOperand, key: AttentionOperand, value: AttentionOperand, scale: Float? = nil) -> Tensor {
    let (b, h, lq, dv) = (query.batch, query.heads, query.tokens, value.dim)
    let out = Tensor(uninitializedShape: [b, lq, h * dv])
    attention(query: query, key: key, value: value, scale: scale,
              out: AttentionOperand(tokenMajor: out, heads: h))
    return out
}

/// q [B, H, Lq, D], k [B, H, Lk, D], v [B, H, Lk, Dv] → [B, H, Lq, Dv]; scale defaults to 1/√D.
public func scaledDotProductAttention(query: Tensor, key: Tensor, value: Tensor, scale: Float? = nil) -> Tensor {
    precondition(query.rank == 4 && key.rank == 4 && value.rank == 4,
                 "attention expects rank-4 q, k, v; got \(query.shape), \(key.shape), \(value.shape)")
    let out = Tensor(uninitializedShape: [query.shape[0], query.shape[1], query.shape[2], value.shape[3]])
    attention(query: AttentionOperand(headMajor: query), key: AttentionOperand(headMajor: key),
              value: AttentionOperand(headMajor: value), scale: scale, out: AttentionOperand(headMajor: out))
    return out
}

/// The blocked kernel: writes softmax(q·kᵀ·scale)·v into `out` ([B, Lq, H, Dv] view).
private func attention(query: AttentionOperand, key: AttentionOperand, value: AttentionOperand, scale: Float?, out: AttentionOperand) {
    let (b, h, lq, d) = (query.batch, query.heads, query.tokens, query.dim)
    let (lk, dv) = (key.tokens, value.dim)
    precondition(key.batch == b && key.heads == h && key.dim == d,
                 "attention: key [\(key.batch), \(lk), \(key.heads), \(key.dim)] does not match query [\(b), \(lq), \(h), \(d)]")
    precondition(value.batch == b && value.heads == h && value.tokens == lk,
                 "attention: value [\(value.batch), \(value.tokens), \(value.heads), \(dv)] does not match key [\(b), \(lk), \(h), \(d)]")
    if b * h * lq * dv == 0 { return }
    nonisolated(unsafe) let (qp, kp, vp, op) = (query.pointer, key.pointer, value.pointer, out.pointer)
    let (qs, ks, vs, os) = (query, key, value, out)
    if lk == 0 {
        // softmax over nothing (as PyTorch)
        for item in 0..<(b * h * lq) {
            let (bi, hi, r) = (item / (h * lq), (item / lq) % h, item % lq)
            (op + bi * os.batchStride + hi * os.headStride + r * os.tokenStride).update(repeating: .nan, count: dv)
        }
        return
    }
    // Scores are kept in base-2 units (scale · log2 e folded into the GEMM), so the softmax uses 2^x.
    let alpha = (scale ?? 1 / Float(d).squareRoot()) * 1.442_695_040_888_963_4
    let qBlock = attentionQueryBlock, kBlock = attentionKeyBlock
    let blocksPerHead = (lq + qBlock - 1) / qBlock
    Parallel.forEachChunk(b * h * blocksPerHead) { items in
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: qBlock * min(kBlock, lk))
        let rowMax = UnsafeMutablePointer<Float>.allocate(capacity: qBlock)
        let rowSum = UnsafeMutablePointer<Float>.allocate(capacity: qBlock)
        defer { scores.deallocate(); rowMax.deallocate(); rowSum.deallocate() }
        for item in items {
            let (bi, hi) = (item / (h * blocksPerHead), (item / blocksPerHead) % h)
            let q0 = (item % blocksPerHead) * qBlock
            let rows = min(qBlock, lq - q0)
            let q = qp + bi * qs.batchStride + hi * qs.headStride + q0 * qs.tokenStride
            let k = kp + bi * ks.batchStride + hi * ks.headStride
            let v = vp + bi * vs.batchStride + hi * vs.headStride
            let o = op + bi * os.batchStride + hi * os.headStride + q0 * os.tokenStride
            let ldo = os.tokenStride
            rowMax.update(repeating: -.infinity, count: rows)
            rowSum.update(repeating: 0, count: rows)
            var k0 = 0
            while k0 < lk {
                let cols = min(kBlock, lk - k0)
                // S = scale · Q Kᵀ for this block
                Gemm.sgemm(transA: false, transB: true, m: rows, n: cols, k: d, alpha: alpha,
                           a: q, lda: qs.tokenStride, b: k + k0 * ks.tokenStride, ldb: ks.tokenStride,
                           beta: 0, c: scores, ldc: cols, threads: 1)
                for r in 0..<rows {
                    let s = scores + r * cols
                    let blockMax = VectorMath.maximum(s, cols)
                    let newMax = max(rowMax[r], blockMax)
                    let sum = VectorMath.exp2Shifted(s, s, cols, shift: newMax)
                    if k0 == 0 {
                        rowSum[r] = sum
                    } else {
                        let correction = exp2(rowMax[r] - newMax)
                        rowSum[r] = rowSum[r] * correction + sum
                        VectorMath.scale(o + r * ldo, dv, by: correction)
                    }
                    rowMax[r] = newMax
                }
                // O = O · correction + P V (the first block initialises O)
                Gemm.sgemm(transA: false, transB: false, m: rows, n: dv, k: cols, alpha: 1,
                           a: scores, lda: cols, b: v + k0 * vs.tokenStride, ldb: vs.tokenStride,
                           beta: k0 == 0 ? 0 : 1, c: o, ldc: ldo, threads: 1)
                k0 += cols
            }
            for r in 0..<rows { VectorMath.scale(o + r * ldo, dv, by: 1 / rowSum[r]) }
        }
    }
    withExtendedLifetime((query, key, value, out)) {}
}
