// Softmax over the last dimension (max-subtracted, like torch.softmax), on VectorMath's exponential.

/// Softmax over the last dimension (max-subtracted, like torch.softmax).
public func softmax(_ x: Tensor) -> Tensor {
    let c = x.shape.last ?? 0
    let out = Tensor(uninitializedShape: x.shape)
    let rows = c == 0 ? 0 : x.count / c
    nonisolated(unsafe) let src = x.storage.pointer
    nonisolated(unsafe) let dst = out.storage.pointer
    Parallel.forEachChunk(rows, minimumChunk: max(1, 16_384 / max(c, 1))) { range in
        for r in range {
            let xr = src + r * c
            let yr = dst + r * c
            let m = VectorMath.maximum(xr, c)
            let sum = VectorMath.expShifted(xr, yr, c, shift: m)
            VectorMath.scale(yr, c, by: 1 / sum)
        }
    }
    return out
}
