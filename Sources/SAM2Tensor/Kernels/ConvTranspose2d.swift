// ConvTranspose2d: transposed convolution with kernel == stride (no overlap, no padding), as in
// PyTorch nn.ConvTranspose2d(k, k, stride=k): one GEMM per image followed by a scatter with bias,
// from NCHW input or from channels-last tokens (the GEMM reads either layout; the scatter is shared).

/// x [N, Cin, H, W], weight [Cin, Cout, s, s], bias [Cout] → [N, Cout, H·s, W·s], plus `residual`
/// (of the output's shape) when given, added in the same pass.
public func convTranspose2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 2, residual: Tensor? = nil)
    -> Tensor
{
    precondition(
        x.rank == 4 && weight.rank == 4,
        "convTranspose2d expects x [N,Cin,H,W] and weight [Cin,Cout,k,k], got \(x.shape) and \(weight.shape)")
    let (cin, h, w) = (x.shape[1], x.shape[2], x.shape[3])
    precondition(
        weight.shape[0] == cin && weight.shape[2] == stride && weight.shape[3] == stride,
        "convTranspose2d: weight \(weight.shape) must be [\(cin), Cout, \(stride), \(stride)] (kernel == stride)")
    return transposedConv(x, tokens: false, height: h, width: w, weight: weight, bias: bias, residual: residual)
}

/// Channels-last x [N, H·W, Cin] (tokens of an H×W map), weight [Cin, Cout, s, s], bias [Cout]
/// → [N, Cout, H·s, W·s] (+ `residual`): the same transposed convolution without moving x to NCHW first.
public func convTranspose2d(
    tokens x: Tensor, height h: Int, width w: Int, weight: Tensor, bias: Tensor?, stride s: Int = 2,
    residual: Tensor? = nil
) -> Tensor {
    precondition(
        x.rank == 3 && weight.rank == 4 && x.shape[1] == h * w && weight.shape[0] == x.shape[2]
            && weight.shape[2] == s && weight.shape[3] == s,
        "convTranspose2d(tokens:): x \(x.shape) and weight \(weight.shape) do not fit a \(h)×\(w) map with kernel = "
            + "stride = \(s)"
    )
    return transposedConv(x, tokens: true, height: h, width: w, weight: weight, bias: bias, residual: residual)
}

/// The kernel of both: per image, cols[(co, a, b), (i, j)] = Σ_ci weight[ci, co, a, b] · x[ci, i, j]
/// (x read as [Cin, H·W] or, for tokens, as its transpose [H·W, Cin]), then each output row is
/// written left to right from two contiguous runs of cols, interleaving the s column phases.
private func transposedConv(
    _ x: Tensor, tokens: Bool, height h: Int, width w: Int, weight: Tensor, bias: Tensor?, residual: Tensor?
) -> Tensor {
    let (n, cin, cout, s) = (x.shape[0], weight.shape[0], weight.shape[1], weight.shape[2])
    if let bias {
        precondition(bias.count == cout, "convTranspose2d: bias \(bias.shape) does not match \(cout) outputs")
    }
    let shape = [n, cout, h * s, w * s]
    if let residual {
        precondition(
            residual.shape == shape, "convTranspose2d: residual \(residual.shape) is not the output's \(shape)")
    }
    let out = Tensor(uninitializedShape: shape)
    let hw = h * w
    let rows = cout * s * s
    if out.count == 0 { return out }
    let cols = Tensor(uninitializedShape: [rows, hw])
    nonisolated(unsafe) let colPointer = cols.storage.pointer
    nonisolated(unsafe) let dst = out.storage.pointer
    nonisolated(unsafe) let bp = bias?.storage.pointer
    nonisolated(unsafe) let rp = residual?.storage.pointer
    for image in 0..<n {
        if cin == 0 {
            colPointer.update(repeating: 0, count: rows * hw)
        } else {
            Gemm.sgemm(
                transA: true, transB: tokens, m: rows, n: hw, k: cin, alpha: 1,
                a: weight.storage.pointer, lda: rows, b: x.storage.pointer + image * cin * hw,
                ldb: tokens ? cin : hw, beta: 0, c: colPointer, ldc: hw)
        }
        let imageOffset = image * cout * hw * s * s
        nonisolated(unsafe) let outImage = dst + imageOffset
        Parallel.forEach(cout) { co in
            let b = bp?[co] ?? 0
            let planeOffset = co * hw * s * s
            let plane = outImage + planeOffset
            for i in 0..<h {
                for a in 0..<s {
                    let rowOffset = (i * s + a) * (w * s)
                    let orow = plane + rowOffset
                    let cols = colPointer + ((co * s + a) * s) * hw + i * w
                    if let rp {
                        let rrow = rp + imageOffset + planeOffset + rowOffset
                        for j in 0..<w {
                            for bx in 0..<s { orow[j * s + bx] = cols[bx * hw + j] + b + rrow[j * s + bx] }
                        }
                    } else {
                        for j in 0..<w {
                            for bx in 0..<s { orow[j * s + bx] = cols[bx * hw + j] + b }
                        }
                    }
                }
            }
        }
    }
    withExtendedLifetime(cols) {}
    return out
}
