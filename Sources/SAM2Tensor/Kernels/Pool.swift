// Pool: max pooling on NCHW tensors (nn.MaxPool2d without padding, floor mode) and the 2×2/2 max
// pool on channels-last [B, H, W, C] tensors.

/// x [N, C, H, W] → [N, C, (H−k)/s+1, (W−k)/s+1].
public func maxPool2d(_ x: Tensor, kernel: Int, stride: Int) -> Tensor {
    precondition(
        x.rank == 4 && kernel >= 1 && stride >= 1, "maxPool2d expects [N,C,H,W], kernel, stride ≥ 1; got \(x.shape)")
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    precondition(h >= kernel && w >= kernel, "maxPool2d: kernel \(kernel) larger than \(h)×\(w)")
    let oh = (h - kernel) / stride + 1
    let ow = (w - kernel) / stride + 1
    let out = Tensor(uninitializedShape: [n, c, oh, ow])
    nonisolated(unsafe) let src = x.storage.pointer
    nonisolated(unsafe) let dst = out.storage.pointer
    Parallel.forEachChunk(n * c, minimumChunk: max(1, 16_384 / max(h * w, 1))) { planes in
        for plane in planes {
            let input = src + plane * h * w
            let output = dst + plane * oh * ow
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var best = -Float.infinity
                    for ky in 0..<kernel {
                        let row = input + (oy * stride + ky) * w + ox * stride
                        for kx in 0..<kernel {
                            let v = row[kx]
                            if v > best || v.isNaN { best = v }  // NaN propagates, as in PyTorch
                        }
                    }
                    output[oy * ow + ox] = best
                }
            }
        }
    }
    return out
}

/// x [B, H, W, C] → [B, H/2, W/2, C']: the maximum over each 2×2 window (odd trailing rows/columns
/// dropped) of the channels in `channels` (all by default; C' = channels.count).
public func maxPool2x2NHWC(_ x: Tensor, channels: Range<Int>? = nil) -> Tensor {
    precondition(x.rank == 4, "maxPool2x2NHWC expects [B, H, W, C], got \(x.shape)")
    let (b, h, w, stride) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let range = channels ?? 0..<stride
    precondition(
        range.lowerBound >= 0 && range.upperBound <= stride, "maxPool2x2NHWC: channels \(range) out of \(x.shape)")
    let c = range.count
    let oh = h / 2
    let ow = w / 2
    let out = Tensor(uninitializedShape: [b, oh, ow, c])
    nonisolated(unsafe) let src = x.storage.pointer + range.lowerBound
    nonisolated(unsafe) let dst = out.storage.pointer
    Parallel.forEachChunk(b * oh, minimumChunk: max(1, 16_384 / max(ow * c, 1))) { rows in
        for row in rows {
            let image = row / oh
            let oy = row % oh
            let top = src + ((image * h + 2 * oy) * w) * stride
            let bottom = top + w * stride
            let o = dst + row * ow * c
            for ox in 0..<ow {
                let a = top + 2 * ox * stride
                let bb = bottom + 2 * ox * stride
                let y = o + ox * c
                for ch in 0..<c {
                    y[ch] = max(max(a[ch], a[ch + stride]), max(bb[ch], bb[ch + stride]))
                }
            }
        }
    }
    return out
}
