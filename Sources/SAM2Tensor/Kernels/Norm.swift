// Norm: layer normalisation over the last dimension (nn.LayerNorm, optionally fused with the
// residual add before it) and over the channels of an NCHW tensor (the "LayerNorm2d" of
// ConvNeXt-style blocks). Biased variance, eps inside the sqrt.

import Foundation

/// x [..., C], weight [C], bias [C] → same shape, normalised over C.
public func layerNorm(_ x: Tensor, weight: Tensor, bias: Tensor, eps: Float) -> Tensor {
    rowLayerNorm(x, nil, weight: weight, bias: bias, eps: eps).normalized
}

/// a + b (same shape) and its layer normalisation over the last dimension, in one pass — the
/// residual-then-norm step of pre-norm transformer blocks.
public func addLayerNorm(_ a: Tensor, _ b: Tensor, weight: Tensor, bias: Tensor, eps: Float) -> (
    sum: Tensor, normalized: Tensor
) {
    precondition(a.shape == b.shape, "addLayerNorm: \(a.shape) and \(b.shape) differ")
    let (sum, normalized) = rowLayerNorm(a, b, weight: weight, bias: bias, eps: eps)
    return (sum!, normalized)
}

/// Rows of x (plus `addend`, when given, stored first as the sum) normalised over the last dimension.
private func rowLayerNorm(_ x: Tensor, _ addend: Tensor?, weight: Tensor, bias: Tensor, eps: Float) -> (
    sum: Tensor?, normalized: Tensor
) {
    let c = x.shape.last ?? 0
    precondition(
        weight.count == c && bias.count == c,
        "layerNorm: weight \(weight.shape) / bias \(bias.shape) do not match last dim of \(x.shape)")
    let out = Tensor(uninitializedShape: x.shape)
    let sum = addend.map { _ in Tensor(uninitializedShape: x.shape) }
    let rows = c == 0 ? 0 : x.count / c
    nonisolated(unsafe) let src = x.storage.pointer
    nonisolated(unsafe) let add = addend?.storage.pointer
    nonisolated(unsafe) let sp = sum?.storage.pointer
    nonisolated(unsafe) let dst = out.storage.pointer
    nonisolated(unsafe) let g = weight.storage.pointer
    nonisolated(unsafe) let b = bias.storage.pointer
    Parallel.forEachChunk(rows, minimumChunk: max(1, 16_384 / max(c, 1))) { range in
        let first = range.lowerBound * c
        VectorMath.kernels.layer_norm_rows(
            src + first, add.map { UnsafePointer($0 + first) }, sp.map { $0 + first }, range.count, c, g, b, eps,
            dst + first)
    }
    withExtendedLifetime((x, addend)) {}
    return (sum, out)
}

/// x [N, C, H, W], weight [C], bias [C] → same shape, each pixel normalised over C.
public func layerNorm2d(_ x: Tensor, weight: Tensor, bias: Tensor, eps: Float) -> Tensor {
    precondition(x.rank == 4, "layerNorm2d expects [N, C, H, W], got \(x.shape)")
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    precondition(
        weight.count == c && bias.count == c,
        "layerNorm2d: weight \(weight.shape) / bias \(bias.shape) do not match \(c) channels")
    let out = Tensor(uninitializedShape: x.shape)
    let hw = h * w
    if out.count == 0 { return out }
    nonisolated(unsafe) let src = x.storage.pointer
    nonisolated(unsafe) let dst = out.storage.pointer
    nonisolated(unsafe) let g = weight.storage.pointer
    nonisolated(unsafe) let b = bias.storage.pointer
    // Work items: (image, run of 256 pixels).
    let run = 256
    let runsPerImage = (hw + run - 1) / run
    Parallel.forEachChunk(n * runsPerImage) { range in
        for item in range {
            let image = item / runsPerImage
            let p0 = (item % runsPerImage) * run
            normalizeChannels(
                src + image * c * hw + p0, into: dst + image * c * hw + p0, channels: c, stride: hw,
                count: min(run, hw - p0), weight: g, bias: b, eps: eps)
        }
    }
    return out
}

/// LayerNorm2d of `count` pixels whose channels lie `stride` apart: y = (x − mean) / √(var + eps) ·
/// weight + bias over the channels of each pixel (y may be x). Statistics are accumulated plane by
/// plane, 256 pixels at a time, so the inner loops run over contiguous pixels.
func normalizeChannels(
    _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, channels c: Int, stride plane: Int, count: Int,
    weight g: UnsafePointer<Float>, bias b: UnsafePointer<Float>, eps: Float
) {
    let run = 256
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * run) { buffer in
        let (m, v) = (buffer.baseAddress!, buffer.baseAddress! + run)
        let invC = 1 / Float(c)
        for p0 in stride(from: 0, to: count, by: run) {
            let len = min(run, count - p0)
            let base = x + p0
            let obase = y + p0
            for p in 0..<len {
                m[p] = 0
                v[p] = 0
            }
            for ch in 0..<c {
                let xp = base + ch * plane
                for p in 0..<len { m[p] += xp[p] }
            }
            for p in 0..<len { m[p] *= invC }
            for ch in 0..<c {
                let xp = base + ch * plane
                for p in 0..<len {
                    let d = xp[p] - m[p]
                    v[p] += d * d
                }
            }
            for p in 0..<len { v[p] = 1 / (v[p] * invC + eps).squareRoot() }
            for ch in 0..<c {
                let xp = base + ch * plane
                let yp = obase + ch * plane
                let gc = g[ch]
                let bc = b[ch]
                for p in 0..<len { yp[p] = (xp[p] - m[p]) * v[p] * gc + bc }
            }
        }
    }
}
