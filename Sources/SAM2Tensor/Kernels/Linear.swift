// Linear: y = x · Wᵀ + b over the last dimension (PyTorch nn.Linear layout, weight [out, in]),
// one sgemm followed by one bias pass.

/// [..., in] → [..., out] with weight [out, in] and optional bias [out].
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    precondition(x.rank >= 1 && weight.rank == 2, "linear expects x [..., in] and weight [out, in], got \(x.shape) and \(weight.shape)")
    let inFeatures = weight.shape[1]
    let outFeatures = weight.shape[0]
    precondition(x.shape[x.rank - 1] == inFeatures, "linear: x \(x.shape) does not end in \(inFeatures) (weight \(weight.shape))")
    if let bias { precondition(bias.count == outFeatures, "linear: bias \(bias.shape) does not match \(outFeatures) outputs") }
    let rows = x.count / max(inFeatures, 1)
    var outShape = x.shape
    outShape[outShape.count - 1] = outFeatures
    let out = Tensor(uninitializedShape: outShape)
    if rows == 0 || outFeatures == 0 { return out }
    nonisolated(unsafe) let y = out.storage.pointer
    Gemm.sgemm(transA: false, transB: true, m: rows, n: outFeatures, k: inFeatures, alpha: 1,
               a: x.storage.pointer, lda: max(inFeatures, 1), b: weight.storage.pointer, ldb: max(inFeatures, 1),
               beta: 0, c: y, ldc: outFeatures)
    if let bias {
        nonisolated(unsafe) let b = bias.storage.pointer
        Parallel.forEachChunk(rows, minimumChunk: max(1, 32_768 / outFeatures)) { range in
            for r in range {
                let row = y + r * outFeatures
                for j in 0..<outFeatures { row[j] += b[j] }
            }
        }
    }
    return out
}
