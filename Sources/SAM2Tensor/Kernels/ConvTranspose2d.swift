// ConvTranspose2d: transposed convolution with kernel == stride (no overlap, no padding), as in
// PyTorch nn.ConvTranspose2d(k, k, stride=k): one GEMM per image followed by a scatter with bias.

/// x [N, Cin, H, W], weight [Cin, Cout, s, s], bias [Cout] → [N, Cout, H·s, W·s].
public func convTranspose2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 2) -> Tensor {
    precondition(x.rank == 4 && weight.rank == 4, "convTranspose2d expects x [N,Cin,H,W] and weight [Cin,Cout,k,k], got \(x.shape) and \(weight.shape)")
    let (n, cin, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let cout = weight.shape[1]
    let s = stride
    precondition(weight.shape[0] == cin && weight.shape[2] == s && weight.shape[3] == s,
                 "convTranspose2d: weight \(weight.shape) must be [\(cin), Cout, \(s), \(s)] (kernel == stride)")
    if let bias { precondition(bias.count == cout, "convTranspose2d: bias \(bias.shape) does not match \(cout) outputs") }
    let out = Tensor(uninitializedShape: [n, cout, h * s, w * s])
    let hw = h * w
    let rows = cout * s * s
    if out.count == 0 { return out }
    // cols[(co, a, b), (i, j)] = Σ_ci weight[ci, co, a, b] · x[ci, i, j]
    let cols = Tensor(uninitializedShape: [rows, hw])
    nonisolated(unsafe) let colPointer = cols.storage.pointer
    nonisolated(unsafe) let dst = out.storage.pointer
    nonisolated(unsafe) let bp = bias?.storage.pointer
    for image in 0..<n {
        if cin == 0 {
            colPointer.update(repeating: 0, count: rows * hw)
        } else {
            Gemm.sgemm(transA: true, transB: false, m: rows, n: hw, k: cin, alpha: 1,
                       a: weight.storage.pointer, lda: rows, b: x.storage.pointer + image * cin * hw, ldb: hw,
                       beta: 0, c: colPointer, ldc: hw)
        }
        nonisolated(unsafe) let outImage = dst + image * cout * hw * s * s
        Parallel.forEach(cout) { co in
            let b = bp?[co] ?? 0
            let plane = outImage + co * hw * s * s
            for a in 0..<s {
                for bx in 0..<s {
                    let col = colPointer + ((co * s + a) * s + bx) * hw
                    for i in 0..<h {
                        let orow = plane + (i * s + a) * (w * s) + bx
                        let crow = col + i * w
                        for j in 0..<w { orow[j * s] = crow[j] + b }
                    }
                }
            }
        }
    }
    withExtendedLifetime(cols) {}
    return out
}
