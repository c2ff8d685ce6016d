// The mask decoder's output upscaling and mask product in one pass (sam2/modeling/sam/mask_decoder.py,
// predict_masks): two transposed convolutions with kernel == stride, LayerNorm2d and GELU between
// them, the high-resolution features added, GELU, then each mask token's hypernetwork output times
// the upscaled embedding. A transposed convolution with kernel == stride maps each input pixel to
// its own s×s block, so every row of image tokens yields s·s rows of masks without reading any other
// row: the whole chain runs a tile of token rows at a time in cache instead of writing the 4× and
// 16× maps to memory. Within a tile the pixels stay in the order the products make them (kernel
// phase before position); norm, GELU and the mask product are per pixel, so only the M masks are
// put in image order at the end, and the high-resolution features (with the biases) are laid out in
// the products' order beforehand (`UpscalingAddends`, once per image when the image is shared).

/// Token rows in one tile (one, four or eight measured no faster than two).
private let tileRows = 2

/// What the two transposed convolutions' outputs get added before their norm or GELU — bias plus
/// high-resolution feature — laid out tile by tile in the products' pixel order: for the tile of
/// token rows i0 ..< i0 + r (offset i0·w·C·s·s per map), first [C1, s, s, r, w] and second [C2, s, s,
/// s, s, r, w] (second-convolution phase, then first-convolution phase, then token position).
public struct UpscalingAddends: Sendable {
    /// [1 or B, C1·s²·h·w] and [1 or B, C2·s⁴·h·w]
    public let first: Tensor
    public let second: Tensor
}

/// The addends for a map of h×w tokens from the transposed convolutions' biases b1 [C1], b2 [C2] and,
/// when given, the high-resolution features [1 or B, C1, h·s, w·s] and [1 or B, C2, h·s², w·s²].
public func upscalingAddends(
    firstBias b1: Tensor, secondBias b2: Tensor, residuals: (first: Tensor, second: Tensor)?, height h: Int,
    width w: Int, stride s: Int
) -> UpscalingAddends {
    let (c1, c2) = (b1.count, b2.count)
    let (h1, wd1, h2, wd2) = (h * s, w * s, h * s * s, w * s * s)
    if let r = residuals {
        precondition(
            r.first.rank == 4 && Array(r.first.shape.dropFirst()) == [c1, h1, wd1] && r.second.rank == 4
                && Array(r.second.shape.dropFirst()) == [c2, h2, wd2] && r.first.shape[0] == r.second.shape[0],
            "upscalingAddends: residuals \(r.first.shape) and \(r.second.shape) do not fit a \(h)×\(w) map")
    }
    let batch = residuals?.first.shape[0] ?? 1
    let first = Tensor(uninitializedShape: [batch, c1 * h1 * wd1])
    let second = Tensor(uninitializedShape: [batch, c2 * h2 * wd2])
    let tiles = (h + tileRows - 1) / tileRows
    nonisolated(unsafe) let (fp, sp, b1p, b2p) = (
        first.storage.pointer, second.storage.pointer, b1.storage.pointer, b2.storage.pointer
    )
    nonisolated(unsafe) let r1 = residuals?.first.storage.pointer
    nonisolated(unsafe) let r0 = residuals?.second.storage.pointer
    Parallel.forEachChunk(batch * tiles) { items in
        for item in items {
            let (bi, i0) = (item / tiles, (item % tiles) * tileRows)
            let r = min(tileRows, h - i0)
            var out = fp + bi * c1 * h1 * wd1 + i0 * w * c1 * s * s
            for co in 0..<c1 {
                for a in 0..<s {
                    for b in 0..<s {
                        for row in 0..<r {
                            let line = r1.map { $0 + ((bi * c1 + co) * h1 + (i0 + row) * s + a) * wd1 + b }
                            for j in 0..<w { out[j] = b1p[co] + (line?[j * s] ?? 0) }
                            out += w
                        }
                    }
                }
            }
            out = sp + bi * c2 * h2 * wd2 + i0 * w * c2 * s * s * s * s
            for co in 0..<c2 {
                for a2 in 0..<s {
                    for b2 in 0..<s {
                        for a in 0..<s {
                            for b in 0..<s {
                                for row in 0..<r {
                                    let y = ((i0 + row) * s + a) * s + a2
                                    let line = r0.map { $0 + ((bi * c2 + co) * h2 + y) * wd2 + b * s + b2 }
                                    for j in 0..<w { out[j] = b2p[co] + (line?[j * s * s] ?? 0) }
                                    out += w
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    return UpscalingAddends(first: first, second: second)
}

/// tokens [B, h·w, C] (channels-last image tokens), first transposed convolution weight [C, C1, s, s],
/// LayerNorm2d weight and bias [C1], second transposed convolution weight [C1, C2, s, s], the addends
/// (biases and high-resolution features, `upscalingAddends`, batch 1 or B), hyper [B, M, C2] → masks
/// [B, M, h·s², w·s²]: hyper · gelu(convT2(gelu(norm(convT1(x) + r1))) + r0).
public func upscaledMasks(
    tokens x: Tensor, height h: Int, width w: Int, firstWeight w1: Tensor, normWeight g: Tensor, normBias nb: Tensor,
    eps: Float, secondWeight w2: Tensor, addends: UpscalingAddends, hyper: Tensor
) -> Tensor {
    let (batch, c) = (x.shape[0], x.shape[2])
    let (c1, s, c2, m) = (w1.shape[1], w1.shape[2], w2.shape[1], hyper.shape[1])
    let (h2, wd2) = (h * s * s, w * s * s)
    let shared = addends.first.shape[0] == 1
    precondition(
        x.rank == 3 && x.shape[1] == h * w && w1.shape == [c, c1, s, s] && g.count == c1 && nb.count == c1
            && w2.shape == [c1, c2, s, s] && hyper.shape == [batch, m, c2]
            && [1, batch].contains(addends.first.shape[0])
            && addends.first.shape == [addends.first.shape[0], c1 * h * w * s * s]
            && addends.second.shape == [addends.first.shape[0], c2 * h2 * wd2],
        "upscaledMasks: tokens \(x.shape) (\(h)×\(w)), weights \(w1.shape) \(w2.shape), hyper \(hyper.shape), "
            + "addends \(addends.first.shape) \(addends.second.shape)")
    let out = Tensor(uninitializedShape: [batch, m, h2, wd2])
    if out.count == 0 { return out }
    let tiles = (h + tileRows - 1) / tileRows
    let (rows1, rows2, phases) = (c1 * s * s, c2 * s * s, s * s * s * s)
    nonisolated(unsafe) let (xp, w1p, gp, nbp, w2p, hp, op, a1, a0) = (
        x.storage.pointer, w1.storage.pointer, g.storage.pointer, nb.storage.pointer, w2.storage.pointer,
        hyper.storage.pointer, out.storage.pointer, addends.first.storage.pointer, addends.second.storage.pointer
    )
    Parallel.forEachChunk(batch * tiles) { items in
        // A tile's first map [C1, s·s·R·w], second map [C2, s⁴·R·w] and masks [M, s⁴·R·w].
        let most = tileRows * w
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: (rows1 + c2 * phases + m * phases) * most)
        defer { scratch.deallocate() }
        let (map1, map2, masks) = (scratch, scratch + rows1 * most, scratch + (rows1 + c2 * phases) * most)
        for item in items {
            let (bi, i0) = (item / tiles, (item % tiles) * tileRows)
            let r = min(tileRows, h - i0)
            // Pixels of the tile in each map: tokens, first map, second map.
            let (n0, n1, n2) = (r * w, r * w * s * s, r * w * phases)
            let ab = shared ? 0 : bi
            // map1[(co, a, b), t] = addend + Σ_ci W1[ci, (co, a, b)] · x[bi, i0·w + t, ci], i.e. [C1, n1].
            map1.update(from: a1 + ab * c1 * h * w * s * s + i0 * w * rows1, count: rows1 * n0)
            Gemm.sgemm(
                transA: true, transB: true, m: rows1, n: n0, k: c, alpha: 1, a: w1p, lda: rows1,
                b: xp + (bi * h + i0) * w * c, ldb: c, beta: 1, c: map1, ldc: n0, threads: 1)
            normalizeChannels(map1, into: map1, channels: c1, stride: n1, count: n1, weight: gp, bias: nbp, eps: eps)
            OneDNN.geluInPlace(map1, count: c1 * n1)
            // map2[(co, a2, b2), p] = addend + Σ_c W2[c, (co, a2, b2)] · map1[c, p], i.e. [C2, n2].
            map2.update(from: a0 + ab * c2 * h2 * wd2 + i0 * w * c2 * phases, count: rows2 * n1)
            Gemm.sgemm(
                transA: true, transB: false, m: rows2, n: n1, k: c1, alpha: 1, a: w2p, lda: rows2, b: map1,
                ldb: n1, beta: 1, c: map2, ldc: n1, threads: 1)
            OneDNN.geluInPlace(map2, count: c2 * n2)
            Gemm.sgemm(
                transA: false, transB: false, m: m, n: n2, k: c2, alpha: 1, a: hp + bi * m * c2, lda: c2,
                b: map2, ldb: n2, beta: 0, c: masks, ldc: n2, threads: 1)
            // Into image order: pixel (a2, b2, a, b, row, j) of the tile is mask row ((i0 + row)·s + a)·s + a2,
            // column (j·s + b)·s + b2.
            var src = UnsafePointer(masks)
            for mask in 0..<m {
                let plane = op + (bi * m + mask) * h2 * wd2
                for a2 in 0..<s {
                    for b2 in 0..<s {
                        for a in 0..<s {
                            for b in 0..<s {
                                for row in 0..<r {
                                    let line = plane + (((i0 + row) * s + a) * s + a2) * wd2 + b * s + b2
                                    for j in 0..<w { line[j * s * s] = src[j] }
                                    src += w
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    return out
}
