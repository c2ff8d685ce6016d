// Batched matrix product of row-major tensors, one Gemm.sgemm per batch entry.

/// a [B, M, K] × b [B, K, N] → [B, M, N]; a batch of 1 on either side is shared by all entries.
public func batchedMatmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(
        a.rank == 3 && b.rank == 3 && a.shape[2] == b.shape[1]
            && (a.shape[0] == b.shape[0] || a.shape[0] == 1 || b.shape[0] == 1),
        "batchedMatmul: cannot multiply \(a.shape) by \(b.shape)")
    let batch = max(a.shape[0], b.shape[0])
    let (m, k, n) = (a.shape[1], a.shape[2], b.shape[2])
    let out = Tensor(uninitializedShape: [batch, m, n])
    for i in 0..<batch {
        Gemm.sgemm(
            transA: false, transB: false, m: m, n: n, k: k, alpha: 1,
            a: a.storage.pointer + (a.shape[0] == 1 ? 0 : i * m * k), lda: k,
            b: b.storage.pointer + (b.shape[0] == 1 ? 0 : i * k * n), ldb: n,
            beta: 0, c: out.storage.pointer + i * m * n, ldc: n)
    }
    return out
}
