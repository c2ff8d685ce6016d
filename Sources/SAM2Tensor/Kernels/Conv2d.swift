// Conv2d: 2-D convolution on NCHW tensors (PyTorch nn.Conv2d layout, weight [O, C/groups, kh, kw]),
// with stride, zero padding and groups. oneDNN's convolution primitive does the work; depthwise
// convolutions (one input channel per group) use a direct loop parallel over channel planes, and
// 1×1 convolutions one GEMM per image.

import CDNNL

/// x [N, C, H, W], weight [O, C/groups, kh, kw], bias [O] → [N, O, (H+2p−kh)/s+1, (W+2p−kw)/s+1].
public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0, groups: Int = 1)
    -> Tensor
{
    precondition(
        x.rank == 4 && weight.rank == 4,
        "conv2d expects x [N,C,H,W] and weight [O,C/g,kh,kw], got \(x.shape) and \(weight.shape)")
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (o, cg, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
    precondition(
        groups >= 1 && c % groups == 0 && o % groups == 0 && cg == c / groups,
        "conv2d: weight \(weight.shape) does not fit \(c) input channels in \(groups) groups")
    precondition(stride >= 1 && padding >= 0, "conv2d: bad stride \(stride) or padding \(padding)")
    if let bias { precondition(bias.count == o, "conv2d: bias \(bias.shape) does not match \(o) outputs") }
    let oh = (h + 2 * padding - kh) / stride + 1
    let ow = (w + 2 * padding - kw) / stride + 1
    precondition(oh > 0 && ow > 0, "conv2d: kernel \(kh)×\(kw) larger than padded input \(h)×\(w)")
    let out = Tensor(uninitializedShape: [n, o, oh, ow])
    if n == 0 || o == 0 { return out }
    if groups == c && o == c {
        depthwiseConv2d(x, weight: weight, bias: bias, stride: stride, padding: padding, out: out)
    } else if kh == 1 && kw == 1 && stride == 1 && padding == 0 && groups == 1 {
        pointwiseConv2d(x, weight: weight, bias: bias, out: out)
    } else {
        OneDNN.convolution(x, weight: weight, bias: bias, stride: stride, padding: padding, groups: groups, out: out)
    }
    return out
}

/// 1×1 convolution: per image, out [O, HW] = weight [O, C] · x [C, HW], then the bias per row.
private func pointwiseConv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, out: Tensor) {
    let (n, c, hw, o) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3], weight.shape[0])
    nonisolated(unsafe) let dst = out.storage.pointer
    for image in 0..<n {
        nonisolated(unsafe) let y = dst + image * o * hw
        if c == 0 {
            y.update(repeating: 0, count: o * hw)
        } else {
            Gemm.sgemm(
                transA: false, transB: false, m: o, n: hw, k: c, alpha: 1, a: weight.storage.pointer, lda: c,
                b: x.storage.pointer + image * c * hw, ldb: hw, beta: 0, c: y, ldc: hw)
        }
        if let bias {
            nonisolated(unsafe) let b = bias.storage.pointer
            Parallel.forEachChunk(o, minimumChunk: max(1, 16_384 / max(hw, 1))) { rows in
                for r in rows {
                    let row = y + r * hw
                    let v = b[r]
                    for i in 0..<hw { row[i] += v }
                }
            }
        }
    }
}

/// Depthwise convolution (groups == C == O): per channel plane, accumulate one kernel tap at a time
/// over a contiguous run of output columns.
private func depthwiseConv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int, padding: Int, out: Tensor) {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (kh, kw) = (weight.shape[2], weight.shape[3])
    let (oh, ow) = (out.shape[2], out.shape[3])
    nonisolated(unsafe) let src = x.storage.pointer
    nonisolated(unsafe) let wt = weight.storage.pointer
    nonisolated(unsafe) let dst = out.storage.pointer
    nonisolated(unsafe) let bp = bias?.storage.pointer
    Parallel.forEach(n * c) { plane in
        let ch = plane % c
        let input = src + plane * h * w
        let output = dst + plane * oh * ow
        let kernel = wt + ch * kh * kw
        output.update(repeating: bp?[ch] ?? 0, count: oh * ow)
        for oy in 0..<oh {
            let orow = output + oy * ow
            for ky in 0..<kh {
                let iy = oy * stride - padding + ky
                if iy < 0 || iy >= h { continue }
                let irow = input + iy * w
                for kx in 0..<kw {
                    let k = kernel[ky * kw + kx]
                    // ox valid when 0 <= ox*stride - padding + kx < w
                    let last = w - 1 + padding - kx
                    if last < 0 { continue }
                    let lo = max(0, (padding - kx + stride - 1) / stride)
                    let hiExclusive = min(ow, last / stride + 1)
                    if lo >= hiExclusive { continue }
                    if stride == 1 {
                        let ip = irow - padding + kx
                        for ox in lo..<hiExclusive { orow[ox] += k * ip[ox] }
                    } else {
                        for ox in lo..<hiExclusive { orow[ox] += k * irow[ox * stride - padding + kx] }
                    }
                }
            }
        }
    }
}

extension OneDNN {
    /// Runs the oneDNN forward convolution on plain NCHW / (g)OIHW memory, writing into `out`.
    /// (Plain layouts measured faster here than letting oneDNN pick blocked ones and reordering.)
    /// Parallel workers take slices of the output channels and run oneDNN single-threaded on one
    /// image at a time (dense memory, so oneDNN picks its JIT kernels): an OpenMP team would keep
    /// spinning after each call and take cores from Parallel's workers.
    static func convolution(
        _ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int, padding: Int, groups: Int, out: Tensor
    ) {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, oh, ow) = (out.shape[1], out.shape[2], out.shape[3])
        let perOutput = weight.shape[1] * weight.shape[2] * weight.shape[3]
        let workers = groups == 1 ? Gemm.defaultThreads(out.count * perOutput) : 1
        nonisolated(unsafe) let (xp, wp, bp, op) = (
            x.storage.pointer, weight.storage.pointer, bias?.storage.pointer, out.storage.pointer
        )
        let kernel = Array(weight.shape[1...])
        Parallel.forEachChunk(o, minimumChunk: 8, workers: workers) { channels in
            let oc = channels.count
            var srcMD = plainDesc([1, c, h, w], dnnl_nchw)
            var dstMD = plainDesc([1, oc, oh, ow], dnnl_nchw)
            var weightMD =
                groups == 1
                ? plainDesc([oc] + kernel, dnnl_oihw) : plainDesc([groups, o / groups] + kernel, dnnl_goihw)
            var biasMD = plainDesc([oc], dnnl_x)
            var desc = dnnl_convolution_desc_t()
            let strides: [Int64] = [Int64(stride), Int64(stride)]
            let pads: [Int64] = [Int64(padding), Int64(padding)]
            let status =
                bp == nil
                ? dnnl_convolution_forward_desc_init(
                    &desc, dnnl_forward_inference, dnnl_convolution_direct,
                    &srcMD, &weightMD, nil, &dstMD, strides, pads, pads)
                : dnnl_convolution_forward_desc_init(
                    &desc, dnnl_forward_inference, dnnl_convolution_direct,
                    &srcMD, &weightMD, &biasMD, &dstMD, strides, pads, pads)
            check(status, "convolution descriptor")
            for image in 0..<n {
                var memories: [(arg: Int32, md: dnnl_memory_desc_t, pointer: UnsafeMutablePointer<Float>)] = [
                    // SRC, WEIGHTS
                    (1, srcMD, xp + image * c * h * w), (33, weightMD, wp + channels.lowerBound * perOutput),
                    (17, dstMD, op + (image * o + channels.lowerBound) * oh * ow),  // DST
                ]
                if let bp { memories.append((41, biasMD, bp + channels.lowerBound)) }  // BIAS
                run(&desc, "convolution", memories)
            }
        }
        withExtendedLifetime((x, weight, bias, out)) {}
    }
}
