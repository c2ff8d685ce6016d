// Attention between a few tokens and many image tokens with the image side's projections folded
// into the few tokens' side. With H heads of width d over C channels, a head's score is
// q_h·(W_h x + b_h) = (W_hᵀ q_h)·x + q_h·b_h, and its output passes through linear maps that can
// be applied to the few tokens instead of the many: with T·H < internal width, the products over
// the N image tokens shrink (the mask decoder: T ≈ 8, H = 8, 128 wide, N = 4096).

import Foundation

/// Multi-head attention of few queries over many unprojected tokens: the query projections qp
/// [B, T, H·d] (already projected, bias included) attend to keys k·Wkᵀ + bk and values v·Wvᵀ + bv with
/// k, v [1 or B, N, C], weights [H·d, C] → [B, T, H·d] (before the output projection), as
/// `scaledDotProductAttention` on the projections would give. The key bias adds a constant to each
/// score row, which softmax ignores; each probability row sums to one, so the value bias is added
/// once at the end. The image tokens go through in blocks of 512 (scores, softmax and the product with
/// the values in cache, the blocks' softmax shifts reconciled at the end). Products: 2·B·H·T·N·C
/// instead of 2·B·N·C·H·d.
public func foldedKeyValueAttention(
    query qp: Tensor, heads: Int, keyWeight wk: Tensor, valueWeight wv: Tensor, valueBias bv: Tensor?,
    keys k: Tensor, values v: Tensor
) -> Tensor {
    let (b, t, width) = (qp.shape[0], qp.shape[1], qp.shape[2])
    let (n, c) = (k.shape[1], k.shape[2])
    let d = width / heads
    precondition(
        wk.shape == [width, c] && wv.shape == [width, c] && v.shape[1] == n && v.shape[2] == c
            && [1, b].contains(k.shape[0]) && [1, b].contains(v.shape[0]) && width % heads == 0,
        "folded attention: query \(qp.shape), keys \(k.shape), values \(v.shape), weights \(wk.shape) \(wv.shape)")
    let rows = heads * t
    let out = Tensor(uninitializedShape: [b, t, width])
    let folded = Tensor(uninitializedShape: [rows, c])
    let mixed = Tensor(uninitializedShape: [rows, c])
    let scale = 1 / Float(d).squareRoot()
    // The image tokens go through in blocks, each with its own softmax shift: a block's scores [rows of
    // the block, H·T], its column maxima and sums, and its exponentials' product with its values
    // [H·T, C]; the blocks are merged at the end as in a flash attention.
    let blockRows = 512
    let blocks = (n + blockRows - 1) / blockRows
    let partial = Tensor(uninitializedShape: [blocks, rows, c])
    let (maxima, sums) = (Tensor(uninitializedShape: [blocks, rows]), Tensor(uninitializedShape: [blocks, rows]))
    nonisolated(unsafe) let (fp, pp, mp, sp) = (
        folded.storage.pointer, partial.storage.pointer, maxima.storage.pointer, sums.storage.pointer
    )
    for i in 0..<b {
        let q = qp.storage.pointer + i * t * width
        // Row h·T + t: scale · W_hᵀ q_h[t], a query in the image tokens' own channels.
        for h in 0..<heads {
            Gemm.sgemm(
                transA: false, transB: false, m: t, n: c, k: d, alpha: scale, a: q + h * d, lda: width,
                b: wk.storage.pointer + h * d * c, ldb: c, beta: 0, c: fp + h * t * c, ldc: c, threads: 1)
        }
        nonisolated(unsafe) let keyRows = k.storage.pointer + (k.shape[0] == 1 ? 0 : i * n * c)
        nonisolated(unsafe) let valueRows = v.storage.pointer + (v.shape[0] == 1 ? 0 : i * n * c)
        Parallel.forEachChunk(blocks) { items in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: blockRows * rows)
            defer { scores.deallocate() }
            for block in items {
                let (r0, count) = (block * blockRows, min(blockRows, n - block * blockRows))
                Gemm.sgemm(
                    transA: false, transB: true, m: count, n: rows, k: c, alpha: 1, a: keyRows + r0 * c, lda: c,
                    b: fp, ldb: c, beta: 0, c: scores, ldc: rows, threads: 1)
                let (top, total) = (mp + block * rows, sp + block * rows)
                top.update(repeating: -.infinity, count: rows)
                for r in 0..<count {
                    for j in 0..<rows { top[j] = max(top[j], scores[r * rows + j]) }
                }
                for r in 0..<count {
                    for j in 0..<rows { scores[r * rows + j] -= top[j] }
                }
                _ = VectorMath.expShifted(scores, scores, count * rows, shift: 0)
                total.update(repeating: 0, count: rows)
                for r in 0..<count {
                    for j in 0..<rows { total[j] += scores[r * rows + j] }
                }
                Gemm.sgemm(
                    transA: true, transB: false, m: rows, n: c, k: count, alpha: 1, a: scores, lda: rows,
                    b: valueRows + r0 * c, ldb: c, beta: 0, c: pp + block * rows * c, ldc: c, threads: 1)
            }
        }
        // mixed[j] = Σ_blocks e^(max_block − max)·partial_block[j] / Σ_blocks e^(max_block − max)·sum_block.
        for j in 0..<rows {
            var shift = -Float.infinity
            for block in 0..<blocks { shift = max(shift, mp[block * rows + j]) }
            var total: Float = 0
            let row = mixed.storage.pointer + j * c
            row.update(repeating: 0, count: c)
            for block in 0..<blocks {
                let factor = Foundation.exp(mp[block * rows + j] - shift)
                total += factor * sp[block * rows + j]
                let source = pp + (block * rows + j) * c
                for e in 0..<c { row[e] += factor * source[e] }
            }
            VectorMath.scale(row, c, by: 1 / total)
        }
        let o = out.storage.pointer + i * t * width
        for h in 0..<heads {
            Gemm.sgemm(
                transA: false, transB: true, m: t, n: d, k: c, alpha: 1, a: mixed.storage.pointer + h * t * c, lda: c,
                b: wv.storage.pointer + h * d * c, ldb: c, beta: 0, c: o + h * d, ldc: width, threads: 1)
        }
        if let bv { addRowBias(o, rows: t, columns: width, bias: bv.storage.pointer) }
    }
    return out
}

/// Multi-head attention of many queries over few projected tokens, output projection included:
/// queries x·Wqᵀ + bq with x [1 or B, N, C] (or `projectedQuery` [1 or B, N, H·d] already made),
/// keys kp and values vp [B, T, H·d] (projected), output weight Wo [C, H·d] and bias → [B, N, C],
/// as the output projection of `scaledDotProductAttention` on the projections would give. A head's
/// output projection applies to its T values before they are mixed; without `projectedQuery` the
/// query projection folds into the keys (score = x·(W_qhᵀ k_h) + b_qh·k_h). Products:
/// 2·B·N·H·T·C instead of 2·B·N·C·H·d + …
public func foldedQueryOutputAttention(
    queries x: Tensor?, projectedQuery: Tensor?, queryWeight wq: Tensor, queryBias bq: Tensor?, heads: Int,
    keys kp: Tensor, values vp: Tensor, outputWeight wo: Tensor, outputBias bo: Tensor?
) -> Tensor {
    let (b, t, width) = (kp.shape[0], kp.shape[1], kp.shape[2])
    let c = wq.shape[1]
    let d = width / heads
    guard let source = projectedQuery ?? x else { preconditionFailure("folded attention: no queries") }
    let n = source.shape[1]
    precondition(
        wq.shape == [width, c] && wo.shape == [c, width] && vp.shape == kp.shape && width % heads == 0
            && [1, b].contains(source.shape[0]) && source.shape[2] == (projectedQuery == nil ? c : width),
        "folded attention: queries \(source.shape), keys \(kp.shape), values \(vp.shape), weights \(wq.shape) "
            + "\(wo.shape)")
    let columns = heads * t
    let scale = 1 / Float(d).squareRoot()
    let out = Tensor(uninitializedShape: [b, n, c])
    let scores = Tensor(uninitializedShape: [columns, n])
    let folded = Tensor(uninitializedShape: [columns, c])
    let rowBias = Tensor(shape: [columns])
    let mappedValues = Tensor(uninitializedShape: [columns, c])
    for i in 0..<b {
        let k = kp.storage.pointer + i * t * width
        let s = source.storage.pointer + (source.shape[0] == 1 ? 0 : i * n * source.shape[2])
        // Scores [H·T, N], row h·T + t: each head's softmax runs down T rows, across the N columns.
        if projectedQuery != nil {
            // Every head's few rows over one range of image tokens per worker.
            nonisolated(unsafe) let (keyRows, queryRows, scoreRows) = (k, s, scores.storage.pointer)
            Parallel.forEachChunk(n, minimumChunk: 256) { range in
                for h in 0..<heads {
                    Gemm.sgemm(
                        transA: false, transB: true, m: t, n: range.count, k: d, alpha: scale, a: keyRows + h * d,
                        lda: width, b: queryRows + range.lowerBound * width + h * d, ldb: width, beta: 0,
                        c: scoreRows + h * t * n + range.lowerBound, ldc: n, threads: 1)
                }
            }
        } else {
            for h in 0..<heads {
                Gemm.sgemm(
                    transA: false, transB: false, m: t, n: c, k: d, alpha: scale, a: k + h * d, lda: width,
                    b: wq.storage.pointer + h * d * c, ldb: c, beta: 0, c: folded.storage.pointer + h * t * c,
                    ldc: c, threads: 1)
                if let bq {
                    for j in 0..<t {
                        var dot: Float = 0
                        for e in 0..<d { dot += bq.storage.pointer[h * d + e] * k[j * width + h * d + e] }
                        rowBias.storage.pointer[h * t + j] = scale * dot
                    }
                }
            }
            Gemm.sgemm(
                transA: false, transB: true, m: columns, n: n, k: c, alpha: 1, a: folded.storage.pointer, lda: c,
                b: s, ldb: c, beta: 0, c: scores.storage.pointer, ldc: n)
        }
        softmaxDownRows(
            scores.storage.pointer, groups: heads, rows: t, columns: n,
            rowBias: projectedQuery == nil ? rowBias.storage.pointer : nil)
        // Row h·T + t: Wo_h · v_h[t], the value as the output projection leaves it.
        for h in 0..<heads {
            Gemm.sgemm(
                transA: false, transB: true, m: t, n: c, k: d, alpha: 1, a: vp.storage.pointer + i * t * width + h * d,
                lda: width, b: wo.storage.pointer + h * d, ldb: width, beta: 0,
                c: mappedValues.storage.pointer + h * t * c, ldc: c, threads: 1)
        }
        let o = out.storage.pointer + i * n * c
        Gemm.sgemm(
            transA: true, transB: false, m: n, n: c, k: columns, alpha: 1, a: scores.storage.pointer, lda: n,
            b: mappedValues.storage.pointer, ldb: c, beta: 0, c: o, ldc: c)
        if let bo { addRowBias(o, rows: n, columns: c, bias: bo.storage.pointer) }
    }
    return out
}

/// Whether folding pays for attention between `tokens` few tokens and many image tokens of
/// `channels` channels through `heads` heads `width` wide: the folded products (H·T·C a token)
/// against the projections they replace (C·width) and the attention over the projections (T·width).
public func foldedAttentionPays(tokens: Int, heads: Int, width: Int, channels: Int) -> Bool {
    heads * tokens * channels < width * (channels + tokens)
}

/// x[r, :] += bias for each of `rows` rows.
private func addRowBias(_ x: UnsafeMutablePointer<Float>, rows: Int, columns: Int, bias: UnsafePointer<Float>) {
    nonisolated(unsafe) let (p, q) = (x, bias)
    Parallel.forEachChunk(rows, minimumChunk: max(1, 16_384 / max(columns, 1))) { range in
        for r in range {
            let row = p + r * columns
            for j in 0..<columns { row[j] += q[j] }
        }
    }
}

/// Softmax down the columns of `groups` blocks of `rows` rows each, x [groups · rows, columns]: for
/// each block and column, over the block's rows (with `rowBias` [groups · rows] added to each row
/// first). Column ranges are split over the workers; the inner loops run along contiguous columns.
private func softmaxDownRows(
    _ x: UnsafeMutablePointer<Float>, groups: Int, rows: Int, columns: Int, rowBias: UnsafePointer<Float>?
) {
    nonisolated(unsafe) let (p, bias) = (x, rowBias)
    let chunk = 512
    let chunks = (columns + chunk - 1) / chunk
    Parallel.forEachChunk(groups * chunks) { items in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: chunk) { buffer in
            let top = buffer.baseAddress!
            for item in items {
                let (group, j0) = (item / chunks, (item % chunks) * chunk)
                let len = min(chunk, columns - j0)
                let block = p + group * rows * columns + j0
                top.update(repeating: -.infinity, count: len)
                for r in 0..<rows {
                    let row = block + r * columns
                    let add = bias?[group * rows + r] ?? 0
                    for j in 0..<len {
                        row[j] += add
                        top[j] = max(top[j], row[j])
                    }
                }
                for r in 0..<rows {
                    let row = block + r * columns
                    for j in 0..<len { row[j] -= top[j] }
                    _ = VectorMath.expShifted(row, row, len, shift: 0)
                }
                // top becomes the reciprocal of each column's sum.
                top.update(repeating: 0, count: len)
                for r in 0..<rows {
                    let row = block + r * columns
                    for j in 0..<len { top[j] += row[j] }
                }
                for j in 0..<len { top[j] = 1 / top[j] }
                for r in 0..<rows {
                    let row = block + r * columns
                    for j in 0..<len { row[j] *= top[j] }
                }
            }
        }
    }
}
