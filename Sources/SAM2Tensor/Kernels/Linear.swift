// Linear: y = act(x · Wᵀ + b) + residual over the last dimension (PyTorch nn.Linear layout, weight
// [out, in]). Parallel workers take blocks of rows; each runs a single-threaded sgemm on its block
// and applies bias, activation and residual while the block is still in cache.

/// Activation applied by `linear` after the bias.
public enum Activation: Sendable {
    case identity, relu, gelu
}

/// Output elements per row block (about 1 MiB; at least 512 rows, below which sgemm loses speed),
/// so the epilogue reads the block from cache.
let linearBlockElements = 1 << 18

/// [..., in] → [..., out] with weight [out, in], optional bias [out], activation, and an optional
/// residual of the output's shape added last: act(x · Wᵀ + b) + residual.
public func linear(
    _ x: Tensor, weight: Tensor, bias: Tensor?, activation: Activation = .identity, residual: Tensor? = nil
) -> Tensor {
    precondition(
        x.rank >= 1 && weight.rank == 2,
        "linear expects x [..., in] and weight [out, in], got \(x.shape) and \(weight.shape)")
    let inFeatures = weight.shape[1]
    let outFeatures = weight.shape[0]
    precondition(
        x.shape[x.rank - 1] == inFeatures, "linear: x \(x.shape) does not end in \(inFeatures) (weight \(weight.shape))"
    )
    if let bias {
        precondition(bias.count == outFeatures, "linear: bias \(bias.shape) does not match \(outFeatures) outputs")
    }
    let rows = x.count / max(inFeatures, 1)
    var outShape = x.shape
    outShape[outShape.count - 1] = outFeatures
    if let residual {
        precondition(residual.shape == outShape, "linear: residual \(residual.shape) does not match output \(outShape)")
    }
    let out = Tensor(uninitializedShape: outShape)
    if rows == 0 || outFeatures == 0 { return out }
    nonisolated(unsafe) let y = out.storage.pointer
    nonisolated(unsafe) let xp = x.storage.pointer
    nonisolated(unsafe) let wp = weight.storage.pointer
    nonisolated(unsafe) let bp = bias?.storage.pointer
    nonisolated(unsafe) let rp = residual?.storage.pointer
    let k = max(inFeatures, 1)
    @Sendable func epilogue(_ rows: Range<Int>) {
        linearEpilogue(y, rows: rows, outputs: outFeatures, bias: bp, activation: activation, residual: rp)
    }
    let blockRows = max(512, linearBlockElements / outFeatures)
    if rows < 2 * blockRows {
        // Few rows: one product (split over columns when large), then the epilogue.
        Gemm.sgemm(
            transA: false, transB: true, m: rows, n: outFeatures, k: inFeatures, alpha: 1,
            a: xp, lda: k, b: wp, ldb: k, beta: 0, c: y, ldc: outFeatures)
        if bias != nil || activation != .identity || residual != nil { epilogue(0..<rows) }
        return out
    }
    let blocks = (rows + blockRows - 1) / blockRows
    Parallel.forEachChunk(blocks) { range in
        for block in range {
            let r0 = block * blockRows
            let r1 = min(rows, r0 + blockRows)
            Gemm.sgemm(
                transA: false, transB: true, m: r1 - r0, n: outFeatures, k: inFeatures, alpha: 1,
                a: xp + r0 * k, lda: k, b: wp, ldb: k, beta: 0, c: y + r0 * outFeatures, ldc: outFeatures, threads: 1)
            epilogue(r0..<r1)
        }
    }
    return out
}

/// Bias, activation and residual on rows of a [rows, outputs] product at y, in place.
func linearEpilogue(
    _ y: UnsafeMutablePointer<Float>, rows: Range<Int>, outputs: Int, bias bp: UnsafeMutablePointer<Float>?,
    activation: Activation, residual rp: UnsafeMutablePointer<Float>?
) {
    let block = y + rows.lowerBound * outputs
    let count = rows.count * outputs
    if let bp {
        for r in 0..<rows.count { VectorMath.add(block + r * outputs, bp, outputs) }
    }
    switch activation {
    case .identity: break
    case .relu: for i in 0..<count { block[i] = max(block[i], 0) }
    case .gelu: OneDNN.geluInPlace(block, count: count)
    }
    if let rp { VectorMath.add(block, rp + rows.lowerBound * outputs, count) }
}
