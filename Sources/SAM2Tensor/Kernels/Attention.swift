// Attention: softmax(q·kᵀ·scale)·v, computed flash-attention style: blocked over queries and keys
// with an online (running-max) softmax, so memory stays O(block²) per worker instead of Lq×Lk per head.

import Foundation

/// Query rows per work item and key rows per inner step.
let attentionQueryBlock = 128
let attentionKeyBlock = 512

/// q [B, H, Lq, D], k [B, H, Lk, D], v [B, H, Lk, Dv] → [B, H, Lq, Dv]; scale defaults to 1/√D.
public func scaledDotProductAttention(query: Tensor, key: Tensor, value: Tensor, scale: Float? = nil) -> Tensor {
    precondition(query.rank == 4 && key.rank == 4 && value.rank == 4,
                 "attention expects rank-4 q, k, v; got \(query.shape), \(key.shape), \(value.shape)")
    let (b, h, lq, d) = (query.shape[0], query.shape[1], query.shape[2], query.shape[3])
    let lk = key.shape[2]
    let dv = value.shape[3]
    precondition(key.shape == [b, h, lk, d], "attention: key \(key.shape) does not match query \(query.shape)")
    precondition(value.shape[0] == b && value.shape[1] == h && value.shape[2] == lk,
                 "attention: value \(value.shape) does not match key \(key.shape)")
    let out = Tensor(uninitializedShape: [b, h, lq, dv])
    if out.count == 0 { return out }
    if lk == 0 {
        out.storage.pointer.update(repeating: .nan, count: out.count)   // softmax over nothing (as PyTorch)
        return out
    }
    // Scores are kept in base-2 units (scale · log2 e folded into the GEMM), so the softmax uses 2^x.
    let alpha = (scale ?? 1 / Float(d).squareRoot()) * 1.442_695_040_888_963_4
    let qBlock = attentionQueryBlock, kBlock = attentionKeyBlock
    let blocksPerHead = (lq + qBlock - 1) / qBlock
    nonisolated(unsafe) let qp = query.storage.pointer
    nonisolated(unsafe) let kp = key.storage.pointer
    nonisolated(unsafe) let vp = value.storage.pointer
    nonisolated(unsafe) let op = out.storage.pointer
    Parallel.forEachChunk(b * h * blocksPerHead) { items in
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: qBlock * min(kBlock, lk))
        let rowMax = UnsafeMutablePointer<Float>.allocate(capacity: qBlock)
        let rowSum = UnsafeMutablePointer<Float>.allocate(capacity: qBlock)
        defer { scores.deallocate(); rowMax.deallocate(); rowSum.deallocate() }
        for item in items {
            let head = item / blocksPerHead
            let q0 = (item % blocksPerHead) * qBlock
            let rows = min(qBlock, lq - q0)
            let q = qp + (head * lq + q0) * d
            let k = kp + head * lk * d
            let v = vp + head * lk * dv
            let o = op + (head * lq + q0) * dv
            rowMax.update(repeating: -.infinity, count: rows)
            rowSum.update(repeating: 0, count: rows)
            var k0 = 0
            while k0 < lk {
                let cols = min(kBlock, lk - k0)
                // S = scale · Q Kᵀ for this block
                Gemm.sgemm(transA: false, transB: true, m: rows, n: cols, k: d, alpha: alpha,
                           a: q, lda: d, b: k + k0 * d, ldb: d, beta: 0, c: scores, ldc: cols, threads: 1)
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
                        VectorMath.scale(o + r * dv, dv, by: correction)
                    }
                    rowMax[r] = newMax
                }
                // O = O · correction + P V (the first block initialises O)
                Gemm.sgemm(transA: false, transB: false, m: rows, n: dv, k: cols, alpha: 1,
                           a: scores, lda: cols, b: v + k0 * dv, ldb: dv, beta: k0 == 0 ? 0 : 1, c: o, ldc: dv, threads: 1)
                k0 += cols
            }
            for r in 0..<rows { VectorMath.scale(o + r * dv, dv, by: 1 / rowSum[r]) }
        }
    }
    return out
}
