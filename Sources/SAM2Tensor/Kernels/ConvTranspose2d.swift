// ConvTranspose2d: transposed convolution with kernel == stride (no overlap, no padding), as in
// PyTorch nn.ConvTranspose2d(k, k, stride=k): one GEMM per image followed by a scatter with bias,
// from NCHW input or from channels-last tokens.

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

/// Channels-last x [N, H·W, Cin] (tokens of an H×W map), weight [Cin, Cout, s, s], bias [Cout]
/// → [N, Cout, H·s, W·s]: the same transposed convolution without moving x to NCHW first.
public func convTranspose2d(tokens x: Tensor, height h: Int, width w: Int, weight: Tensor, bias: Tensor?, stride s: Int = 2) -> Tensor {
    precondition(x.rank == 3 && weight.rank == 4 && x.shape[1] == h * w && weight.shape[0] == x.shape[2]
                 && weight.shape[2] == s && weight.shape[3] == s,
                 "convTranspose2d(tokens:): x \(x.shape) and weight \(weight.shape) do not fit a \(h)×\(w) map with kernel = stride = \(s)")
    let (n, cin, cout) = (x.shape[0], x.shape[2], weight.shape[1])
    if let bias { precondition(bias.count == cout, "convTranspose2d: bias \(bias.shape) does not match \(cout) outputs") }
    let out = Tensor(uninitializedShape: [n, cout, h * s, w * s])
    let hw = h * w
    let rows = cout * s * s
    if out.count == 0 { return out }
    // cols[(i, j), (co, a, b)] = Σ_ci x[(i, j), ci] · weight[ci, (co, a, b)]
    let cols = Tensor(uninitializedShape: [hw, rows])
    nonisolated(unsafe) let colPointer = cols.storage.pointer
    nonisolated(unsafe) let dst = out.storage.pointer
    nonisolated(unsafe) let bp = bias?.storage.pointer
    for image in 0..<n {
        Gemm.sgemm(transA: false, transB: false, m: hw, n: rows, k: cin, alpha: 1,
                   a: x.storage.pointer + image * hw * cin, lda: cin, b: weight.storage.pointer, ldb: rows,
                   beta: 0, c: colPointer, ldc: rows)
        nonisolated(unsafe) let outImage = dst + image * cout * hw * s * s
        Parallel.forEach(cout) { co in
            let b = bp?[co] ?? 0
            let plane = outImage + co * hw * s * s
            for i in 0..<h {
                for a in 0..<s {
                    let orow = plane + (i * s + a) * (w * s)
                    for j in 0..<w {
                        let crow = colPointer + (i * w + j) * rows + (co * s + a) * s
                        for bx in 0..<s { orow[j * s + bx] = crow[bx] + b }
                    }
                }
            }
        }
    }
    withExtendedLifetime(cols) {}
    return out
}
