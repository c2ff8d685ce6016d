// The mask decoder's output upscaling and mask product in one pass (sam2/modeling/sam/mask_decoder.py,
// predict_masks): two transposed convolutions with kernel == stride, LayerNorm2d and GELU between
// them, the high-resolution features added, GELU, then each mask token's hypernetwork output times
// the upscaled embedding. A transposed convolution with kernel == stride maps each input pixel to
// its own s×s block, so every row of image tokens yields s·s rows of masks without reading any other
// row: the whole chain runs row by row in cache instead of writing the 4× and 16× maps to memory.

/// tokens [B, h·w, C] (channels-last image tokens), first transposed convolution weight [C, C1, s, s]
/// and bias [C1], LayerNorm2d weight and bias [C1], second transposed convolution weight [C1, C2, s, s]
/// and bias [C2], residuals (high-resolution features) [1 or B, C1, h·s, w·s] and [1 or B, C2, h·s², w·s²]
/// when given, hyper [B, M, C2] → masks [B, M, h·s², w·s²]:
/// hyper · gelu(convT2(gelu(norm(convT1(x) + r1))) + r0).
public func upscaledMasks(
    tokens x: Tensor, height h: Int, width w: Int, firstWeight w1: Tensor, firstBias b1: Tensor,
    normWeight g: Tensor, normBias nb: Tensor, eps: Float, secondWeight w2: Tensor, secondBias b2: Tensor,
    residuals: (first: Tensor, second: Tensor)?, hyper: Tensor
) -> Tensor {
    let (batch, c) = (x.shape[0], x.shape[2])
    let (c1, s, c2, m) = (w1.shape[1], w1.shape[2], w2.shape[1], hyper.shape[1])
    let (h1, wd1) = (h * s, w * s)
    let (h2, wd2) = (h1 * s, wd1 * s)
    precondition(
        x.rank == 3 && x.shape[1] == h * w && w1.shape == [c, c1, s, s] && b1.count == c1 && g.count == c1
            && nb.count == c1 && w2.shape == [c1, c2, s, s] && b2.count == c2 && hyper.shape == [batch, m, c2],
        "upscaledMasks: tokens \(x.shape) (\(h)×\(w)), weights \(w1.shape) \(w2.shape), hyper \(hyper.shape)")
    if let r = residuals {
        precondition(
            [1, batch].contains(r.first.shape[0]) && Array(r.first.shape.dropFirst()) == [c1, h1, wd1]
                && [1, batch].contains(r.second.shape[0]) && Array(r.second.shape.dropFirst()) == [c2, h2, wd2],
            "upscaledMasks: residuals \(r.first.shape) and \(r.second.shape) do not fit a \(h)×\(w) map")
    }
    let out = Tensor(uninitializedShape: [batch, m, h2, wd2])
    if out.count == 0 { return out }
    // A tile is up to two rows of tokens (R; one, four or eight measured no faster): the first
    // product's columns [C1·s·s, R·w], the first map's R·s rows [C1, R·s·w·s], the second product's
    // columns [C2·s·s, R·s·w·s] and the final R·s·s rows [C2, R·s·s·w·s·s].
    let tileRows = 2
    let tiles = (h + tileRows - 1) / tileRows
    let (rows1, rows2) = (c1 * s * s, c2 * s * s)
    let (tile1, tile2) = (tileRows * s * wd1, tileRows * s * s * wd2)
    nonisolated(unsafe) let (xp, w1p, b1p, gp, nbp, w2p, b2p, hp, op) = (
        x.storage.pointer, w1.storage.pointer, b1.storage.pointer, g.storage.pointer, nb.storage.pointer,
        w2.storage.pointer, b2.storage.pointer, hyper.storage.pointer, out.storage.pointer
    )
    nonisolated(unsafe) let r1 = residuals.map { ($0.first.storage.pointer, $0.first.shape[0] == 1) }
    nonisolated(unsafe) let r0 = residuals.map { ($0.second.storage.pointer, $0.second.shape[0] == 1) }
    Parallel.forEachChunk(batch * tiles) { items in
        let scratch = UnsafeMutablePointer<Float>.allocate(
            capacity: rows1 * tileRows * w + c1 * tile1 + rows2 * tile1 + c2 * tile2)
        defer { scratch.deallocate() }
        let (cols1, map1) = (scratch, scratch + rows1 * tileRows * w)
        let (cols2, map2) = (map1 + c1 * tile1, map1 + c1 * tile1 + rows2 * tile1)
        for item in items {
            let (bi, i0) = (item / tiles, (item % tiles) * tileRows)
            let r = min(tileRows, h - i0)
            // This tile's sizes: tokens, first-map positions, final positions.
            let (n0, n1, n2) = (r * w, r * s * wd1, r * s * s * wd2)
            let planes1: UnsafeMutablePointer<Float>? = r1.map { p, shared in p + (shared ? 0 : bi) * c1 * h1 * wd1 }
            let planes0: UnsafeMutablePointer<Float>? = r0.map { p, shared in p + (shared ? 0 : bi) * c2 * h2 * wd2 }
            // cols1[(co, a, b), t] = Σ_ci W1[ci, (co, a, b)] · x[bi, i0·w + t, ci]
            Gemm.sgemm(
                transA: true, transB: true, m: rows1, n: n0, k: c, alpha: 1, a: w1p, lda: rows1,
                b: xp + (bi * h + i0) * w * c, ldb: c, beta: 0, c: cols1, ldc: n0, threads: 1)
            // First-map row q = row·s + a of the tile (row i0·s + q of the map): [co, q, j·s + b],
            // bias and residual added.
            for co in 0..<c1 {
                for q in 0..<(r * s) {
                    let (row, a) = (q / s, q % s)
                    let src = cols1 + (co * s + a) * s * n0 + row * w
                    let residual = planes1.map { $0 + (co * h1 + i0 * s + q) * wd1 }
                    scatterRow(
                        map1 + co * n1 + q * wd1, from: src, phases: s, stride: n0, count: w, bias: b1p[co],
                        residual: residual)
                }
            }
            normalizeChannels(map1, into: map1, channels: c1, stride: n1, count: n1, weight: gp, bias: nbp, eps: eps)
            OneDNN.geluInPlace(map1, count: c1 * n1)
            // cols2[(co, a2, b2), p] = Σ_c W2[c, (co, a2, b2)] · map1[c, p]
            Gemm.sgemm(
                transA: true, transB: false, m: rows2, n: n1, k: c1, alpha: 1, a: w2p, lda: rows2, b: map1,
                ldb: n1, beta: 0, c: cols2, ldc: n1, threads: 1)
            // Final row q·s + a2 of the tile: [co, q·s + a2, x1·s + b2].
            for co in 0..<c2 {
                for q in 0..<(r * s) {
                    for a2 in 0..<s {
                        let src = cols2 + (co * s + a2) * s * n1 + q * wd1
                        let residual = planes0.map { $0 + (co * h2 + (i0 * s + q) * s + a2) * wd2 }
                        scatterRow(
                            map2 + co * n2 + (q * s + a2) * wd2, from: src, phases: s, stride: n1, count: wd1,
                            bias: b2p[co], residual: residual)
                    }
                }
            }
            OneDNN.geluInPlace(map2, count: c2 * n2)
            // Rows i0·s² ..< (i0 + r)·s² of each mask: hyper[bi] [M, C2] · map2 [C2, r·s²·w·s²].
            Gemm.sgemm(
                transA: false, transB: false, m: m, n: n2, k: c2, alpha: 1, a: hp + bi * m * c2, lda: c2,
                b: map2, ldb: n2, beta: 0, c: op + bi * m * h2 * wd2 + i0 * s * s * wd2, ldc: h2 * wd2, threads: 1)
        }
    }
    return out
}

/// row[j·s + b] = src[b·stride + j] + bias (+ residual[j·s + b]) for j < count, b < s: the s column
/// phases of a transposed convolution interleaved into one output row.
private func scatterRow(
    _ row: UnsafeMutablePointer<Float>, from src: UnsafePointer<Float>, phases s: Int, stride: Int, count: Int,
    bias: Float, residual: UnsafePointer<Float>?
) {
    if s == 2 {
        // The official configurations: kernel 2, two phases (a loop the compiler vectorises).
        let (even, odd) = (src, src + stride)
        if let residual {
            for j in 0..<count {
                row[2 * j] = even[j] + bias + residual[2 * j]
                row[2 * j + 1] = odd[j] + bias + residual[2 * j + 1]
            }
        } else {
            for j in 0..<count {
                row[2 * j] = even[j] + bias
                row[2 * j + 1] = odd[j] + bias
            }
        }
    } else if let residual {
        for j in 0..<count {
            for b in 0..<s { row[j * s + b] = src[b * stride + j] + bias + residual[j * s + b] }
        }
    } else {
        for j in 0..<count {
            for b in 0..<s { row[j * s + b] = src[b * stride + j] + bias }
        }
    }
}
