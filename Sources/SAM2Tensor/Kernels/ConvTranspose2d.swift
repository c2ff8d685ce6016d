// ConvTranspose2d: transposed convolution with kernel == stride (no overlap, no padding), as in
// PyTorch nn.ConvTranspose2d(k, k, stride=k): one GEMM per image followed by a scatter with bias,
// from NCHW input or from channels-last tokens.

/// x [N, Cin, H, W], weight [Cin, Cout, s, s], bias [Cout] → [N, Cout, H·s, W·s], plus `residual`
/// (of the output's shape) when given, added in the same pass.
public func convTranspose2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 2, residual: Tensor? = nil)
    -> Tensor
{
    precondition(
        x.rank == 4 && weight.rank == 4,
        "convTranspose2d expects x [N,Cin,H,W] and weight [Cin,Cout,k,k], got \(x.shape) and \(weight.shape)")
    let (n, cin, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let cout = weight.shape[1]
    let s = stride
    precondition(
        weight.shape[0] == cin && weight.shape[2] == s && weight.shape[3] == s,
        "convTranspose2d: weight \(weight.shape) must be [\(cin), Cout, \(s), \(s)] (kernel == stride)")
    let out = transposedConvOutput(n: n, cout: cout, height: h * s, width: w * s, bias: bias, residual: residual)
    nonisolated(unsafe) let rp = residual?.storage.pointer
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
            Gemm.sgemm(
                transA: true, transB: false, m: rows, n: hw, k: cin, alpha: 1,
                a: weight.storage.pointer, lda: rows, b: x.storage.pointer + image * cin * hw, ldb: hw,
                beta: 0, c: colPointer, ldc: hw)
        }
        let imageOffset = image * cout * hw * s * s
        nonisolated(unsafe) let outImage = dst + imageOffset
        Parallel.forEach(cout) { co in
            let b = bp?[co] ?? 0
            let planeOffset = co * hw * s * s
            let plane = outImage + planeOffset
            // Output rows are written left to right, interleaving the s column phases.
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
    let (n, cin, cout) = (x.shape[0], x.shape[2], weight.shape[1])
    let out = transposedConvOutput(n: n, cout: cout, height: h * s, width: w * s, bias: bias, residual: residual)
    nonisolated(unsafe) let rp = residual?.storage.pointer
    let hw = h * w
    let rows = cout * s * s
    if out.count == 0 { return out }
    // cols[(i, j), (co, a, b)] = Σ_ci x[(i, j), ci] · weight[ci, (co, a, b)]
    let cols = Tensor(uninitializedShape: [hw, rows])
    nonisolated(unsafe) let colPointer = cols.storage.pointer
    nonisolated(unsafe) let dst = out.storage.pointer
    nonisolated(unsafe) let bp = bias?.storage.pointer
    for image in 0..<n {
        Gemm.sgemm(
            transA: false, transB: false, m: hw, n: rows, k: cin, alpha: 1,
            a: x.storage.pointer + image * hw * cin, lda: cin, b: weight.storage.pointer, ldb: rows,
            beta: 0, c: colPointer, ldc: rows)
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
                    for j in 0..<w {
                        let crow = colPointer + (i * w + j) * rows + (co * s + a) * s
                        if let rp {
                            let rrow = rp + imageOffset + planeOffset + rowOffset
                            for bx in 0..<s { orow[j * s + bx] = crow[bx] + b + rrow[j * s + bx] }
                        } else {
                            for bx in 0..<s { orow[j * s + bx] = crow[bx] + b }
                        }
                    }
                }
            }
        }
    }
    withExtendedLifetime(cols) {}
    return out
}

/// The output [N, Cout, H', W'] of a transposed convolution, after checking its bias and residual.
private func transposedConvOutput(n: Int, cout: Int, height: Int, width: Int, bias: Tensor?, residual: Tensor?)
    -> Tensor
{
    if let bias {
        precondition(bias.count == cout, "convTranspose2d: bias \(bias.shape) does not match \(cout) outputs")
    }
    let shape = [n, cout, height, width]
    if let residual {
        precondition(
            residual.shape == shape, "convTranspose2d: residual \(residual.shape) is not the output's \(shape)")
    }
    return Tensor(uninitializedShape: shape)
}
