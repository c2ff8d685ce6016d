// Convolution with a channels-last result (groups 1): the input's patches are gathered into rows
// (im2col, zero padding included) and multiplied by the flattened weight in one `linear`, so a
// strided patch embedding becomes a single large GEMM with no layout change afterwards.

/// x [N, C, H, W], weight [O, C, kh, kw], bias [O] → [N, OH, OW, O] (OH = (H + 2p − kh)/s + 1).
public func conv2dChannelsLast(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int, padding: Int) -> Tensor {
    precondition(
        x.rank == 4 && weight.rank == 4 && weight.shape[1] == x.shape[1],
        "conv2dChannelsLast expects x [N,C,H,W] and weight [O,C,kh,kw], got \(x.shape) and \(weight.shape)")
    precondition(stride >= 1 && padding >= 0, "conv2dChannelsLast: bad stride \(stride) or padding \(padding)")
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (o, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
    let oh = (h + 2 * padding - kh) / stride + 1
    let ow = (w + 2 * padding - kw) / stride + 1
    precondition(oh > 0 && ow > 0, "conv2dChannelsLast: kernel \(kh)×\(kw) larger than padded input \(h)×\(w)")
    let patch = c * kh * kw
    let cols = Tensor(uninitializedShape: [n, oh, ow, patch])
    nonisolated(unsafe) let src = x.storage.pointer
    nonisolated(unsafe) let dst = cols.storage.pointer
    // Row (image, oy, ox) holds x[image, ch, oy·s − p + ky, ox·s − p + kx] in weight order (ch, ky, kx).
    Parallel.forEachChunk(n * oh, minimumChunk: 4) { outputRows in
        for outputRow in outputRows {
            let (image, oy) = (outputRow / oh, outputRow % oh)
            for ox in 0..<ow {
                var p = dst + (outputRow * ow + ox) * patch
                for ch in 0..<c {
                    let plane = src + (image * c + ch) * h * w
                    for ky in 0..<kh {
                        let iy = oy * stride - padding + ky
                        if iy < 0 || iy >= h {
                            p.update(repeating: 0, count: kw)
                        } else {
                            let row = plane + iy * w
                            for kx in 0..<kw {
                                let ix = ox * stride - padding + kx
                                p[kx] = ix >= 0 && ix < w ? row[ix] : 0
                            }
                        }
                        p += kw
                    }
                }
            }
        }
    }
    return linear(cols, weight: weight.reshaped([o, patch]), bias: bias)
}
