// Attention: softmax(q·kᵀ·scale)·v, blocked over query rows. Against short key ranges each worker
// holds the score rows of one block of queries (or of several small ones) against all keys, at most
// attentionScoreElements floats, applies the softmax in place (VectorMath) and multiplies by v. Against long
// memories (tens of thousands of keys) it takes the keys a tile at a time with a running softmax
// (flash attention), so the score rows stay in cache. Operands are strided views, so heads are read
// straight from projection outputs (token-major or packed qkv) and the result is written
// token-major, without permuted copies. In bf16 the two products take bf16 operands
// (AttentionProducts); the softmax and its running statistics stay f32 and P is rounded to bf16 from
// the f32 probabilities (in the softmax's last pass over short key ranges).

import Foundation

/// Score floats per worker for short key ranges, 1 MiB, which keeps the score rows in L2 (in bf16
/// beside their rounded copy, half as much again). float32 once took 4 MiB; against 4096 keys of 72
/// channels (large's global attention) 1 MiB was 20% faster.
let attentionScoreElements = 1 << 18

/// bf16 (and int8) attention runs its products in bf16 against at least this many keys (Hiera's
/// global attention, the decoder's image keys, video memories); against fewer (Hiera's windows of 16
/// to 256 tokens) each product is too small for oneDNN's bf16 kernels to pay for their per-call costs
/// and the conversions — there f32 products were faster (1.2–1.3× for windows of 64 and 196 tokens,
/// 4× for 16), and they are more accurate.
let attentionBFloat16Keys = 1024

/// Key ranges longer than this are taken a tile of attentionKeyTile keys at a time.
let attentionLongKeys = 8192
let attentionKeyTile = 1024
/// Accumulator bytes of the query blocks a worker takes through the key tiles together (eight
/// blocks of 256 rows against the 64-channel video memory).
let attentionAccumulatorBytes = 1 << 19

/// Query rows per work item: 128 against short key ranges, 256 against long memories (each
/// product then re-packs a key tile for more rows).
func attentionQueryRows(keys lk: Int, queries lq: Int) -> Int {
    lk > attentionLongKeys
        ? max(1, min(256, lq)) : max(8, min(128, lq, attentionScoreElements / lk))
}

/// Where attention finds a [B, L, H, D] operand inside a tensor: element (b, l, h, d) sits at
/// offset + b·batchStride + l·tokenStride + h·headStride + d.
public struct AttentionOperand: Sendable {
    public let tensor: Tensor
    public let batch, tokens, heads, dim: Int
    let offset, batchStride, tokenStride, headStride: Int

    /// x [B, L, H·D]: token-major, the heads side by side in the channels.
    public init(tokenMajor x: Tensor, heads: Int) {
        precondition(
            x.rank == 3 && heads > 0 && x.shape[2] % heads == 0,
            "attention operand: \(x.shape) does not split into \(heads) heads")
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
        (offset, batchStride, tokenStride, headStride) = (
            0, x.shape[1] * x.shape[2] * x.shape[3], x.shape[3], x.shape[2] * x.shape[3]
        )
    }

    var pointer: UnsafeMutablePointer<Float> { tensor.storage.pointer + offset }
}

/// q, k, v [B, L, H, D] views (any layout) → [B, Lq, H·Dv], token-major; scale defaults to 1/√D.
/// Products in bf16 for bfloat16 and int8 precision.
public func scaledDotProductAttention(
    query: AttentionOperand, key: AttentionOperand, value: AttentionOperand, scale: Float? = nil,
    precision: Precision = .float32
) -> Tensor {
    let (b, h, lq, dv) = (query.batch, query.heads, query.tokens, value.dim)
    let out = Tensor(uninitializedShape: [b, lq, h * dv])
    attention(
        query: query, key: key, value: value, scale: scale,
        out: AttentionOperand(tokenMajor: out, heads: h), precision: precision)
    return out
}

/// q [B, H, Lq, D], k [B, H, Lk, D], v [B, H, Lk, Dv] → [B, H, Lq, Dv]; scale defaults to 1/√D.
public func scaledDotProductAttention(
    query: Tensor, key: Tensor, value: Tensor, scale: Float? = nil, precision: Precision = .float32
) -> Tensor {
    precondition(
        query.rank == 4 && key.rank == 4 && value.rank == 4,
        "attention expects rank-4 q, k, v; got \(query.shape), \(key.shape), \(value.shape)")
    let out = Tensor(uninitializedShape: [query.shape[0], query.shape[1], query.shape[2], value.shape[3]])
    attention(
        query: AttentionOperand(headMajor: query), key: AttentionOperand(headMajor: key),
        value: AttentionOperand(headMajor: value), scale: scale, out: AttentionOperand(headMajor: out),
        precision: precision)
    return out
}

/// The blocked kernel: writes softmax(q·kᵀ·scale)·v into `out` ([B, Lq, H, Dv] view).
private func attention(
    query: AttentionOperand, key: AttentionOperand, value: AttentionOperand, scale: Float?, out: AttentionOperand,
    precision: Precision
) {
    let (b, h, lq, d) = (query.batch, query.heads, query.tokens, query.dim)
    let (lk, dv) = (key.tokens, value.dim)
    precondition(
        key.batch == b && key.heads == h && key.dim == d,
        "attention: key [\(key.batch), \(lk), \(key.heads), \(key.dim)] does not match query [\(b), \(lq), \(h), \(d)]")
    precondition(
        value.batch == b && value.heads == h && value.tokens == lk,
        "attention: value [\(value.batch), \(value.tokens), \(value.heads), \(dv)] does not match key [\(b), \(lk), "
            + "\(h), \(d)]"
    )
    if b * h * lq * dv == 0 { return }
    let precision = lk < attentionBFloat16Keys ? .float32 : precision
    nonisolated(unsafe) let op = out.pointer
    let os = out
    if lk == 0 {
        // softmax over nothing (as PyTorch)
        for item in 0..<(b * h * lq) {
            let (bi, hi, r) = (item / (h * lq), (item / lq) % h, item % lq)
            (op + bi * os.batchStride + hi * os.headStride + r * os.tokenStride).update(repeating: .nan, count: dv)
        }
        return
    }
    let qBlock = attentionQueryRows(keys: lk, queries: lq)
    let blocksPerHead = (lq + qBlock - 1) / qBlock
    let products = AttentionProducts(
        query: query, key: key, value: value, precision: precision,
        keyTile: lk > attentionLongKeys ? attentionKeyTile : lk, queryRows: qBlock, packKeys: blocksPerHead > 1)
    defer { products.release() }
    if lk > attentionLongKeys {
        tiledAttention(products, scale: scale, out: out)
        return
    }
    // A work item is a block of query rows of one (batch, head): its full score rows S = scale · Q Kᵀ,
    // their softmax in place, then O = S V straight into the output view. Small items (windows) are
    // grouped so that one softmax call covers the score rows of several.
    let alpha = scale ?? 1 / Float(d).squareRoot()
    let group = max(1, min(64, attentionScoreElements / (qBlock * lk)))
    Parallel.forEachChunk(b * h * blocksPerHead) { items in
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: group * qBlock * lk)
        let rounded = products.isBFloat16 ? UnsafeMutablePointer<UInt16>.allocate(capacity: group * qBlock * lk) : nil
        let staging = products.isBFloat16 ? UnsafeMutablePointer<Float>.allocate(capacity: qBlock * dv) : nil
        defer {
            scores.deallocate()
            rounded?.deallocate()
            staging?.deallocate()
        }
        for first in stride(from: items.lowerBound, to: items.upperBound, by: group) {
            let members = first..<min(first + group, items.upperBound)
            func forEachMember(
                _ body: (_ bi: Int, _ hi: Int, _ q0: Int, _ rows: Int, _ s: UnsafeMutablePointer<Float>) -> Void
            ) {
                var s = scores
                for item in members {
                    let q0 = (item % blocksPerHead) * qBlock
                    let rows = min(qBlock, lq - q0)
                    body(item / (h * blocksPerHead), (item / blocksPerHead) % h, q0, rows, s)
                    s += rows * lk
                }
            }
            var totalRows = 0
            forEachMember { bi, hi, q0, rows, s in
                products.scores(bi: bi, hi: hi, q0: q0, rows: rows, k0: 0, n: lk, alpha: alpha, into: s, ldc: lk)
                totalRows += rows
            }
            VectorMath.softmaxRows(scores, rows: totalRows, columns: lk, rounded: rounded)
            forEachMember { bi, hi, q0, rows, s in
                products.values(
                    s, ldp: lk, rounded: rounded.map { UnsafePointer($0 + (s - scores)) }, bi: bi, hi: hi, k0: 0,
                    rows: rows, n: lk, into: op + bi * os.batchStride + hi * os.headStride + q0 * os.tokenStride,
                    ldo: os.tokenStride, accumulate: false, staging: staging)
            }
        }
    }
    withExtendedLifetime((query, key, value, out)) {}
}

/// The long-memory kernel: per block of query rows, for each tile of keys, S = scale · Q Ktᵀ; the
/// running row maxima m and sums l are updated, S becomes e^(S − m), the accumulator O is rescaled
/// by e^(m_old − m) and gains S Vt; at the end O / l is written into `out`. A worker takes a group
/// of its query blocks through the key tiles together (tile outermost), so each tile of keys and
/// values is read from memory once per group rather than once per block: with the tile innermost,
/// oneDNN's bf16 score product waited on its 512 KiB of keys and ran at a third of its speed.
private func tiledAttention(_ products: AttentionProducts, scale: Float?, out: AttentionOperand) {
    let (query, key, value) = (products.query, products.key, products.value)
    let (b, h, lq, d) = (query.batch, query.heads, query.tokens, query.dim)
    let (lk, dv) = (key.tokens, value.dim)
    nonisolated(unsafe) let op = out.pointer
    let os = out
    let alpha = scale ?? 1 / Float(d).squareRoot()
    let qBlock = products.queryRows
    let blocksPerHead = (lq + qBlock - 1) / qBlock
    let tile = attentionKeyTile
    let groupSize = max(1, attentionAccumulatorBytes / (qBlock * dv * MemoryLayout<Float>.stride))
    /// Work item → its batch, head, first query row and row count.
    @Sendable func block(_ item: Int) -> (bi: Int, hi: Int, q0: Int, rows: Int) {
        let q0 = (item % blocksPerHead) * qBlock
        return (item / (h * blocksPerHead), (item / blocksPerHead) % h, q0, min(qBlock, lq - q0))
    }
    Parallel.forEachChunk(b * h * blocksPerHead) { items in
        let group = min(groupSize, items.count)
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: qBlock * tile)
        let acc = UnsafeMutablePointer<Float>.allocate(capacity: group * qBlock * dv)
        let rowMax = UnsafeMutablePointer<Float>.allocate(capacity: group * qBlock)
        let rowSum = UnsafeMutablePointer<Float>.allocate(capacity: group * qBlock)
        let rounded = products.isBFloat16 ? UnsafeMutablePointer<UInt16>.allocate(capacity: qBlock * tile) : nil
        defer {
            rounded?.deallocate()
            scores.deallocate()
            acc.deallocate()
            rowMax.deallocate()
            rowSum.deallocate()
        }
        for first in stride(from: items.lowerBound, to: items.upperBound, by: group) {
            let members = first..<min(first + group, items.upperBound)
            for k0 in stride(from: 0, to: lk, by: tile) {
                let n = min(tile, lk - k0)
                for item in members {
                    let (bi, hi, q0, rows) = block(item)
                    let g = item - first
                    let (itemAcc, itemMax, itemSum) = (acc + g * qBlock * dv, rowMax + g * qBlock, rowSum + g * qBlock)
                    products.scores(
                        bi: bi, hi: hi, q0: q0, rows: rows, k0: k0, n: n, alpha: alpha, into: scores, ldc: n)
                    for r in 0..<rows {
                        let row = scores + r * n
                        let tileMax = VectorMath.maximum(row, n)
                        if k0 == 0 {
                            itemMax[r] = tileMax
                            itemSum[r] = VectorMath.expShifted(row, row, n, shift: tileMax)
                        } else {
                            let m = max(itemMax[r], tileMax)
                            let correction = Foundation.exp(itemMax[r] - m)
                            itemSum[r] = itemSum[r] * correction + VectorMath.expShifted(row, row, n, shift: m)
                            if correction != 1 { VectorMath.scale(itemAcc + r * dv, dv, by: correction) }
                            itemMax[r] = m
                        }
                    }
                    products.round(scores, rows: rows, columns: n, into: rounded)
                    products.values(
                        scores, ldp: n, rounded: rounded.map { UnsafePointer($0) }, bi: bi, hi: hi, k0: k0,
                        rows: rows, n: n, into: itemAcc, ldo: dv, accumulate: k0 != 0)
                }
            }
            for item in members {
                let (bi, hi, q0, rows) = block(item)
                let g = item - first
                let oBase = op + bi * os.batchStride + hi * os.headStride + q0 * os.tokenStride
                for r in 0..<rows {
                    let inverse = 1 / rowSum[g * qBlock + r]
                    let (src, dst) = (acc + (g * qBlock + r) * dv, oBase + r * os.tokenStride)
                    for c in 0..<dv { dst[c] = src[c] * inverse }
                }
            }
        }
    }
    withExtendedLifetime((query, key, value, out)) {}
}
