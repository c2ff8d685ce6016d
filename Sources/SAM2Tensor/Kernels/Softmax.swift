// Softmax over the last dimension (max-subtracted, like torch.softmax), VectorMath's softmax rows.

/// Softmax over the last dimension (max-subtracted, like torch.softmax).
public func softmax(_ x: Tensor) -> Tensor {
    let c = x.shape.last ?? 0
    let out = Tensor(uninitializedShape: x.shape)
    let rows = c == 0 ? 0 : x.count / c
    nonisolated(unsafe) let src = x.storage.pointer
    nonisolated(unsafe) let dst = out.storage.pointer
    Parallel.forEachChunk(rows, minimumChunk: max(1, 16_384 / max(c, 1))) { range in
        let first = range.lowerBound * c
        (dst + first).update(from: src + first, count: range.count * c)
        VectorMath.softmaxRows(dst + first, rows: range.count, columns: c, rounded: nil)
    }
    return out
}
