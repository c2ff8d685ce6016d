// Elementwise: pointwise activations (exact-erf GELU, ReLU, sigmoid), add/mul with suffix
// broadcasting, scaling, clamping and any pointwise map. Large tensors are split in contiguous chunks
// over Parallel workers.

import Foundation

/// Chunk size below which an elementwise kernel stays on the calling thread.
let elementwiseGrain = 1 << 16

/// Applies `body(source, destination, count)` over contiguous chunks of x into a new tensor.
@inline(__always)
func mapChunks(_ x: Tensor, _ body: @Sendable (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void)
    -> Tensor
{
    let out = Tensor(uninitializedShape: x.shape)
    nonisolated(unsafe) let src = x.storage.pointer
    nonisolated(unsafe) let dst = out.storage.pointer
    Parallel.forEachChunk(x.count, minimumChunk: elementwiseGrain) { range in
        body(src + range.lowerBound, dst + range.lowerBound, range.count)
    }
    return out
}

/// GELU, exact form: x · ½ · (1 + erf(x / √2)) (oneDNN's gelu_erf, per chunk).
public func gelu(_ x: Tensor) -> Tensor {
    mapChunks(x) { src, dst, count in
        dst.update(from: src, count: count)
        OneDNN.geluInPlace(dst, count: count)
    }
}

/// max(x, 0).
public func relu(_ x: Tensor) -> Tensor {
    mapChunks(x) { src, dst, count in
        for i in 0..<count { dst[i] = max(src[i], 0) }
    }
}

/// 1 / (1 + e^(−x)).
public func sigmoid(_ x: Tensor) -> Tensor {
    mapChunks(x) { src, dst, count in
        for i in 0..<count { dst[i] = 1 / (1 + exp(-src[i])) }
    }
}

/// a · s.
public func scale(_ a: Tensor, _ s: Float) -> Tensor {
    mapChunks(a) { src, dst, count in
        for i in 0..<count { dst[i] = src[i] * s }
    }
}

/// a + b; b has a's shape or a suffix of it (broadcast over a's leading dimensions).
public func add(_ a: Tensor, _ b: Tensor) -> Tensor {
    broadcastBinary(a, b, "add") { x, y, z, n in for i in 0..<n { z[i] = x[i] + y[i] } }
}

/// a · b elementwise; same broadcasting rule as `add`.
public func mul(_ a: Tensor, _ b: Tensor) -> Tensor {
    broadcastBinary(a, b, "mul") { x, y, z, n in for i in 0..<n { z[i] = x[i] * y[i] } }
}

private func broadcastBinary(
    _ a: Tensor, _ b: Tensor, _ name: String,
    _ op: @Sendable (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void
) -> Tensor {
    precondition(
        b.rank <= a.rank && Array(a.shape.suffix(b.rank)) == b.shape,
        "\(name): shape \(b.shape) is not a suffix of \(a.shape)")
    let out = Tensor(uninitializedShape: a.shape)
    let inner = b.count
    if a.count == 0 || inner == 0 { return out }
    nonisolated(unsafe) let x = a.storage.pointer
    nonisolated(unsafe) let y = b.storage.pointer
    nonisolated(unsafe) let z = out.storage.pointer
    if inner == a.count {
        Parallel.forEachChunk(a.count, minimumChunk: elementwiseGrain) { range in
            op(x + range.lowerBound, y + range.lowerBound, z + range.lowerBound, range.count)
        }
    } else {
        let outer = a.count / inner
        Parallel.forEachChunk(outer, minimumChunk: max(1, elementwiseGrain / inner)) { range in
            for o in range { op(x + o * inner, y, z + o * inner, inner) }
        }
    }
    return out
}

extension Tensor {
    /// `f` applied to every element (a new tensor of the same shape).
    public func map(_ f: @Sendable (Float) -> Float) -> Tensor {
        mapChunks(self) { src, dst, count in
            for i in 0..<count { dst[i] = f(src[i]) }
        }
    }

    /// Every element clamped to [lo, hi] (`torch.clamp`).
    public func clamped(min lo: Float, max hi: Float) -> Tensor {
        map { Swift.min(Swift.max($0, lo), hi) }
    }
}
