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
    // Per row of tokens: the first product's columns [C1·s·s, w], the first map's s rows [C1, s·w·s],
    // the second product's columns [C2·s·s, s·w·s] and the final s·s rows [C2, s·s·w·s·s].
    let (rows1, tile1, rows2, tile2) = (c1 * s * s, s * wd1, c2 * s * s, s * s * wd2)
    nonisolated(unsafe) let (xp, w1p, b1p, gp, nbp, w2p, b2p, hp, op) = (
        x.storage.pointer, w1.storage.pointer, b1.storage.pointer, g.storage.pointer, nb.storage.pointer,
        w2.storage.pointer, b2.storage.pointer, hyper.storage.pointer, out.storage.pointer
    )
    nonisolated(unsafe) let r1 = residuals.map { ($0.first.storage.pointer, $0.first.shape[0] == 1) }
    nonisolated(unsafe) let r0 = residuals.map { ($0.second.storage.pointer, $0.second.shape[0] == 1) }
    Parallel.forEachChunk(batch * h) { items in
        let scratch = UnsafeMutablePointer<Float>.allocate(
            capacity: rows1 * w + c1 * tile1 + rows2 * tile1 + c2 * tile2)
        defer { scratch.deallocate() }
        let (cols1, map1) = (scratch, scratch + rows1 * w)
        let (cols2, map2) = (map1 + c1 * tile1, map1 + c1 * tile1 + rows2 * tile1)
        for item in items {
            let (bi, i) = (item / h, item % h)
            let planes1: UnsafeMutablePointer<Float>? = r1.map { p, shared in p + (shared ? 0 : bi) * c1 * h1 * wd1 }
            let planes0: UnsafeMutablePointer<Float>? = r0.map { p, shared in p + (shared ? 0 : bi) * c2 * h2 * wd2 }
            // cols1[(co, a, b), j] = Σ_ci W1[ci, (co, a, b)] · x[bi, i·w + j, ci]
            Gemm.sgemm(
                transA: true, transB: true, m: rows1, n: w, k: c, alpha: 1, a: w1p, lda: rows1,
                b: xp + (bi * h + i) * w * c, ldb: c, beta: 0, c: cols1, ldc: w, threads: 1)
            // The first map's rows i·s + a: [co, a, j·s + b], bias and residual added.
            for co in 0..<c1 {
                for a in 0..<s {
                    let row = map1 + co * tile1 + a * wd1
                    let src = cols1 + (co * s + a) * s * w
                    scatterRow(
                        row, from: src, phases: s, stride: w, count: w, bias: b1p[co],
                        residual: planes1.map { $0 + (co * h1 + i * s + a) * wd1 } as UnsafeMutablePointer<Float>?)
                }
            }
            normalizeChannels(
                map1, into: map1, channels: c1, stride: tile1, count: tile1, weight: gp, bias: nbp, eps: eps)
            OneDNN.geluInPlace(map1, count: c1 * tile1)
            // cols2[(co, a2, b2), p] = Σ_c W2[c, (co, a2, b2)] · map1[c, p]
            Gemm.sgemm(
                transA: true, transB: false, m: rows2, n: tile1, k: c1, alpha: 1, a: w2p, lda: rows2, b: map1,
                ldb: tile1, beta: 0, c: cols2, ldc: tile1, threads: 1)
            // The final rows (i·s + a)·s + a2: [co, a·s + a2, x1·s + b2].
            for co in 0..<c2 {
                for a in 0..<s {
                    for a2 in 0..<s {
                        let row = map2 + co * tile2 + (a * s + a2) * wd2
                        let src = cols2 + (co * s + a2) * s * tile1 + a * wd1
                        let finalRow = (i * s + a) * s + a2
                        let residual = planes0.map { $0 + (co * h2 + finalRow) * wd2 }
                        scatterRow(
                            row, from: src, phases: s, stride: tile1, count: wd1, bias: b2p[co], residual: residual)
                    }
                }
            }
            OneDNN.geluInPlace(map2, count: c2 * tile2)
            // Rows i·s² ..< (i+1)·s² of each mask: hyper[bi] [M, C2] · map2 [C2, s²·w·s²].
            Gemm.sgemm(
                transA: false, transB: false, m: m, n: tile2, k: c2, alpha: 1, a: hp + bi * m * c2, lda: c2,
                b: map2, ldb: tile2, beta: 0, c: op + bi * m * h2 * wd2 + i * tile2, ldc: h2 * wd2, threads: 1)
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
