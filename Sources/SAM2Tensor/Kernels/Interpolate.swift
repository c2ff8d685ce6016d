// Interpolate: PyTorch F.interpolate on NCHW float tensors, align_corners=False — bilinear (optionally
// antialiased, as torchvision Resize on tensors), nearest, and bicubic (A = −0.75, clamped borders).
// Each axis is described by taps (input index, weight) per output index, computed in Float like ATen.

import Foundation

/// Taps of one axis: output o reads `size[o]` input indices index[o·stride + j] with weight[o·stride + j].
struct AxisTaps {
    var stride: Int
    var index: [Int]
    var weight: [Float]
    var size: [Int]

    init(outSize: Int, stride: Int) {
        self.stride = stride
        index = [Int](repeating: 0, count: outSize * stride)
        weight = [Float](repeating: 0, count: outSize * stride)
        size = [Int](repeating: stride, count: outSize)
    }

    /// Plain bilinear: source = scale·(o + ½) − ½ clamped at 0; neighbours i0 and min(i0+1, in−1).
    static func linear(inSize: Int, outSize: Int) -> AxisTaps {
        var taps = AxisTaps(outSize: outSize, stride: 2)
        let scale = Float(inSize) / Float(outSize)
        for o in 0..<outSize {
            let source = max(scale * (Float(o) + 0.5) - 0.5, 0)
            let i0 = Int(source)
            let lambda1 = min(max(source - Float(i0), 0), 1)
            taps.index[2 * o] = i0
            taps.index[2 * o + 1] = i0 + (i0 < inSize - 1 ? 1 : 0)
            taps.weight[2 * o] = 1 - lambda1
            taps.weight[2 * o + 1] = lambda1
        }
        return taps
    }

    /// Bicubic convolution (Keys, A = −0.75) on the 4 neighbours, indices clamped to the border.
    static func cubic(inSize: Int, outSize: Int) -> AxisTaps {
        var taps = AxisTaps(outSize: outSize, stride: 4)
        let scale = Float(inSize) / Float(outSize)
        let a: Float = -0.75
        func near(_ x: Float) -> Float { ((a + 2) * x - (a + 3)) * x * x + 1 }  // |x| ≤ 1
        func far(_ x: Float) -> Float { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }  // 1 < |x| < 2
        for o in 0..<outSize {
            let source = scale * (Float(o) + 0.5) - 0.5
            let floorSource = source.rounded(.down)
            let t = source - floorSource
            let i0 = Int(floorSource)
            let w: [Float] = [far(t + 1), near(t), near(1 - t), far(2 - t)]
            for j in 0..<4 {
                taps.index[4 * o + j] = min(max(i0 - 1 + j, 0), inSize - 1)
                taps.weight[4 * o + j] = w[j]
            }
        }
        return taps
    }

    /// Antialiased triangle filter (ATen's upsample_bilinear2d_aa): support 1 scaled by the
    /// downscaling factor, weights normalised over the input pixels inside the image.
    static func antialiasedLinear(inSize: Int, outSize: Int) -> AxisTaps {
        let scale = Float(inSize) / Float(outSize)
        let support: Float = scale >= 1 ? scale : 1
        let maxTaps = Int(support.rounded(.up)) * 2 + 1
        var taps = AxisTaps(outSize: outSize, stride: maxTaps)
        let invScale: Float = scale >= 1 ? 1 / scale : 1
        for o in 0..<outSize {
            let center = Float(Double(scale) * (Double(o) + 0.5))
            let lo = max(Int(Double(center - support) + 0.5), 0)
            let count = min(max(min(Int(Double(center + support) + 0.5), inSize) - lo, 0), maxTaps)
            var total: Float = 0
            for j in 0..<count {
                let x = Float((Double(Float(j + lo) - center) + 0.5) * Double(invScale))
                let w = max(0, 1 - abs(x))
                taps.weight[o * maxTaps + j] = w
                total += w
            }
            for j in 0..<count {
                taps.index[o * maxTaps + j] = lo + j
                if total != 0 { taps.weight[o * maxTaps + j] /= total }
            }
            taps.size[o] = count
        }
        return taps
    }
}

/// out[.., oy, ox] = Σ_i wy_i · (Σ_j wx_j · x[.., iy_i, ix_j]) — ATen's 2-D generic order.
private func interpolate2d(_ x: Tensor, rows: AxisTaps, cols: AxisTaps, height: Int, width: Int) -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let out = Tensor(uninitializedShape: [n, c, height, width])
    nonisolated(unsafe) let src = x.storage.pointer
    nonisolated(unsafe) let dst = out.storage.pointer
    let planes = n * c
    if rows.stride == 2 && cols.stride == 2 && rows.size.allSatisfy({ $0 == 2 }) && cols.size.allSatisfy({ $0 == 2 }) {
        // Plain bilinear, the same products and sums in the same order: each input row used is blended
        // across once (line[i0]·w0 + line[i1]·w1) and kept while the output rows still read it.
        Parallel.forEachChunk(planes * height, minimumChunk: max(1, 4096 / max(width, 1))) { range in
            let across = UnsafeMutablePointer<Float>.allocate(capacity: 2 * width)
            defer { across.deallocate() }
            var held = [-1, -1]  // the (plane · h + input row) blended into each half of `across`
            rows.index.withUnsafeBufferPointer { ri in
                rows.weight.withUnsafeBufferPointer { rw in
                    cols.index.withUnsafeBufferPointer { ci in
                        cols.weight.withUnsafeBufferPointer { cw in
                            /// The half of `across` holding row `key` blended, made if needed in the half that
                            /// does not hold row `other` (the current output row's other tap).
                            func blended(_ key: Int, besides other: Int) -> Int {
                                if let slot = held.firstIndex(of: key) { return slot }
                                let slot = held[0] == other ? 1 : 0
                                let (line, row) = (src + key * w, across + slot * width)
                                for ox in 0..<width {
                                    row[ox] = line[ci[2 * ox]] * cw[2 * ox] + line[ci[2 * ox + 1]] * cw[2 * ox + 1]
                                }
                                held[slot] = key
                                return slot
                            }
                            for item in range {
                                let plane = item / height
                                let oy = item % height
                                let (upper, lower) = (plane * h + ri[2 * oy], plane * h + ri[2 * oy + 1])
                                let first = blended(upper, besides: lower)
                                let second = blended(lower, besides: upper)
                                let (top, bottom) = (across + first * width, across + second * width)
                                let (wt, wb) = (rw[2 * oy], rw[2 * oy + 1])
                                let output = dst + item * width
                                for ox in 0..<width { output[ox] = top[ox] * wt + bottom[ox] * wb }
                            }
                        }
                    }
                }
            }
        }
        return out
    }
    Parallel.forEachChunk(planes * height, minimumChunk: max(1, 4096 / max(width, 1))) { range in
        rows.index.withUnsafeBufferPointer { ri in
            rows.weight.withUnsafeBufferPointer { rw in
                cols.index.withUnsafeBufferPointer { ci in
                    cols.weight.withUnsafeBufferPointer { cw in
                        for item in range {
                            let plane = item / height
                            let oy = item % height
                            let input = src + plane * h * w
                            let output = dst + item * width
                            let rs = rows.stride
                            let cs = cols.stride
                            for ox in 0..<width {
                                var acc: Float = 0
                                for i in 0..<rows.size[oy] {
                                    let line = input + ri[oy * rs + i] * w
                                    var inner = line[ci[ox * cs]] * cw[ox * cs]
                                    for j in 1..<max(cols.size[ox], 1) {
                                        inner += line[ci[ox * cs + j]] * cw[ox * cs + j]
                                    }
                                    acc = i == 0 ? inner * rw[oy * rs] : acc + inner * rw[oy * rs + i]
                                }
                                output[ox] = acc
                            }
                        }
                    }
                }
            }
        }
    }
    return out
}

/// One separable pass along `axis` (2 = height, 3 = width) of an NCHW tensor, as ATen's antialiased
/// kernels do it: out = Σ_j w_j · x[index_j].
private func interpolateAxis(_ x: Tensor, taps: AxisTaps, axis: Int, outSize: Int) -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let oh = axis == 2 ? outSize : h
    let ow = axis == 3 ? outSize : w
    let out = Tensor(uninitializedShape: [n, c, oh, ow])
    nonisolated(unsafe) let src = x.storage.pointer
    nonisolated(unsafe) let dst = out.storage.pointer
    let stride = taps.stride
    Parallel.forEachChunk(n * c * oh, minimumChunk: max(1, 4096 / max(ow, 1))) { range in
        taps.index.withUnsafeBufferPointer { ti in
            taps.weight.withUnsafeBufferPointer { tw in
                for item in range {
                    let plane = item / oh
                    let oy = item % oh
                    let input = src + plane * h * w
                    let output = dst + item * ow
                    if axis == 3 {
                        let line = input + oy * w
                        for ox in 0..<ow {
                            let size = taps.size[ox]
                            if size == 0 {
                                output[ox] = 0
                                continue
                            }
                            var acc = line[ti[ox * stride]] * tw[ox * stride]
                            for j in 1..<size { acc += line[ti[ox * stride + j]] * tw[ox * stride + j] }
                            output[ox] = acc
                        }
                    } else {
                        let size = taps.size[oy]
                        if size == 0 {
                            output.update(repeating: 0, count: ow)
                            continue
                        }
                        let first = input + ti[oy * stride] * w
                        let w0 = tw[oy * stride]
                        for ox in 0..<ow { output[ox] = first[ox] * w0 }
                        for j in 1..<size {
                            let line = input + ti[oy * stride + j] * w
                            let wj = tw[oy * stride + j]
                            for ox in 0..<ow { output[ox] += line[ox] * wj }
                        }
                    }
                }
            }
        }
    }
    return out
}

private func checkResize(_ x: Tensor, _ height: Int, _ width: Int, _ name: String) {
    precondition(x.rank == 4, "\(name) expects [N, C, H, W], got \(x.shape)")
    precondition(
        height > 0 && width > 0 && x.shape[2] > 0 && x.shape[3] > 0,
        "\(name): cannot resize \(x.shape) to \(height)×\(width)")
}

/// F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False, antialias=antialias).
public func interpolateBilinear(_ x: Tensor, height: Int, width: Int, antialias: Bool = false) -> Tensor {
    checkResize(x, height, width, "interpolateBilinear")
    let (h, w) = (x.shape[2], x.shape[3])
    if !antialias {
        return interpolate2d(
            x, rows: .linear(inSize: h, outSize: height), cols: .linear(inSize: w, outSize: width),
            height: height, width: width)
    }
    // Width first, then height; an axis whose size does not change is skipped (identity).
    var y = x
    if width != w {
        y = interpolateAxis(y, taps: .antialiasedLinear(inSize: w, outSize: width), axis: 3, outSize: width)
    }
    if height != h {
        y = interpolateAxis(y, taps: .antialiasedLinear(inSize: h, outSize: height), axis: 2, outSize: height)
    }
    return y
}

/// F.interpolate(x, size=(height, width), mode="nearest"): source index floor(o · in/out), in Float.
public func interpolateNearest(_ x: Tensor, height: Int, width: Int) -> Tensor {
    checkResize(x, height, width, "interpolateNearest")
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    func sourceIndex(_ o: Int, _ inSize: Int, _ outSize: Int) -> Int {
        if outSize == inSize { return o }
        if outSize == 2 * inSize { return o >> 1 }
        let scale = Float(inSize) / Float(outSize)
        return min(Int((Float(o) * scale).rounded(.down)), inSize - 1)
    }
    let rowIndex = (0..<height).map { sourceIndex($0, h, height) }
    let colIndex = (0..<width).map { sourceIndex($0, w, width) }
    let out = Tensor(uninitializedShape: [n, c, height, width])
    nonisolated(unsafe) let src = x.storage.pointer
    nonisolated(unsafe) let dst = out.storage.pointer
    Parallel.forEachChunk(n * c * height, minimumChunk: max(1, 4096 / width)) { range in
        for item in range {
            let plane = item / height
            let oy = item % height
            let line = src + plane * h * w + rowIndex[oy] * w
            let output = dst + item * width
            for ox in 0..<width { output[ox] = line[colIndex[ox]] }
        }
    }
    return out
}

/// F.interpolate(x, size=(height, width), mode="bicubic", align_corners=False) (A = −0.75, no antialias).
public func interpolateBicubic(_ x: Tensor, height: Int, width: Int) -> Tensor {
    checkResize(x, height, width, "interpolateBicubic")
    return interpolate2d(
        x, rows: .cubic(inSize: x.shape[2], outSize: height), cols: .cubic(inSize: x.shape[3], outSize: width),
        height: height, width: width)
}
