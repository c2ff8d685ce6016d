// ImageResize: Pillow's Image.resize(size, Image.BICUBIC) on 8-bit interleaved pixels, reproduced
// bit for bit: separable antialiased cubic (a = −0.5, support 2 scaled when shrinking), coefficients
// normalised then fixed-point with 22 fractional bits, horizontal pass then vertical, clip to 0…255.
// ref: Pillow src/libImaging/Resample.c (precompute_coeffs, normalize_coeffs_8bpc, ImagingResampleInner)

/// Fixed-point coefficients of one axis: output o reads `count[o]` inputs from `first[o]`.
private struct PILCoefficients {
    static let precisionBits = 32 - 8 - 2
    var taps: Int
    var first: [Int]
    var count: [Int]
    var weights: [Int]  // taps per output, fixed point

    init(inSize: Int, outSize: Int) {
        func cubic(_ v: Double) -> Double {
            let a = -0.5
            let x = abs(v)
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        }
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = 2 * filterScale
        taps = Int(support.rounded(.up)) * 2 + 1
        first = [Int](repeating: 0, count: outSize)
        count = [Int](repeating: 0, count: outSize)
        weights = [Int](repeating: 0, count: outSize * taps)
        var k = [Double](repeating: 0, count: taps)
        for o in 0..<outSize {
            let center = (Double(o) + 0.5) * scale
            let lo = max(Int(center - support + 0.5), 0)  // C casts truncate toward zero
            let hi = min(Int(center + support + 0.5), inSize)
            let n = max(hi - lo, 0)
            var total = 0.0
            for x in 0..<n {
                k[x] = cubic((Double(x + lo) - center + 0.5) / filterScale)
                total += k[x]
            }
            for x in 0..<n {
                let v = total != 0 ? k[x] / total : k[x]
                let scaled = v * Double(1 << Self.precisionBits)
                weights[o * taps + x] = Int(v < 0 ? scaled - 0.5 : scaled + 0.5)
            }
            first[o] = lo
            count[o] = n
        }
    }
}

@inline(__always) private func clip8(_ accumulator: Int) -> UInt8 {
    UInt8(clamping: accumulator >> PILCoefficients.precisionBits)
}

/// Resizes `pixels` (height rows of width·channels bytes, channels interleaved) to toWidth×toHeight
/// like Pillow's Image.resize(BICUBIC). Channels are filtered independently (Pillow premultiplies
/// alpha for RGBA in Python before this step; this function does not).
public func resizeBicubicPIL(_ pixels: [UInt8], width: Int, height: Int, channels: Int, toWidth: Int, toHeight: Int)
    -> [UInt8]
{
    precondition(
        width > 0 && height > 0 && channels > 0 && toWidth > 0 && toHeight > 0,
        "resizeBicubicPIL: bad sizes \(width)×\(height)×\(channels) → \(toWidth)×\(toHeight)")
    precondition(
        pixels.count == width * height * channels,
        "resizeBicubicPIL: \(pixels.count) bytes for \(width)×\(height)×\(channels)")
    let vertical = PILCoefficients(inSize: height, outSize: toHeight)
    let rowFirst = vertical.first[0]
    let rowLast = vertical.first[toHeight - 1] + vertical.count[toHeight - 1]
    let half = 1 << (PILCoefficients.precisionBits - 1)

    // Horizontal pass over the source rows the vertical pass needs (all rows when it is skipped).
    var source = pixels
    var sourceWidth = width
    var rowOffset = 0
    if toWidth != width {
        let horizontal = PILCoefficients(inSize: width, outSize: toWidth)
        let rows = toHeight != height ? rowLast - rowFirst : height
        rowOffset = toHeight != height ? rowFirst : 0
        var temp = [UInt8](repeating: 0, count: rows * toWidth * channels)
        let base = rowOffset
        temp.withUnsafeMutableBufferPointer { tb in
            pixels.withUnsafeBufferPointer { pb in
                horizontal.weights.withUnsafeBufferPointer { wb in
                    nonisolated(unsafe) let t = tb.baseAddress!
                    nonisolated(unsafe) let p = pb.baseAddress!
                    nonisolated(unsafe) let kw = wb.baseAddress!
                    Parallel.forEachChunk(rows, minimumChunk: 16) { range in
                        for y in range {
                            let inRow = p + (y + base) * width * channels
                            let outRow = t + y * toWidth * channels
                            for ox in 0..<toWidth {
                                let lo = horizontal.first[ox]
                                let n = horizontal.count[ox]
                                let k = kw + ox * horizontal.taps
                                for ch in 0..<channels {
                                    var acc = half
                                    for x in 0..<n { acc += Int(inRow[(lo + x) * channels + ch]) * k[x] }
                                    outRow[ox * channels + ch] = clip8(acc)
                                }
                            }
                        }
                    }
                }
            }
        }
        source = temp
        sourceWidth = toWidth
    }
    if toHeight == height { return source }

    // Vertical pass.
    let rowBytes = sourceWidth * channels
    var out = [UInt8](repeating: 0, count: toHeight * rowBytes)
    let shift = rowOffset
    out.withUnsafeMutableBufferPointer { ob in
        source.withUnsafeBufferPointer { sb in
            vertical.weights.withUnsafeBufferPointer { wb in
                nonisolated(unsafe) let o = ob.baseAddress!
                nonisolated(unsafe) let s = sb.baseAddress!
                nonisolated(unsafe) let kw = wb.baseAddress!
                Parallel.forEachChunk(toHeight, minimumChunk: 16) { range in
                    var acc = [Int](repeating: 0, count: rowBytes)
                    for oy in range {
                        let lo = vertical.first[oy] - shift
                        let n = vertical.count[oy]
                        let k = kw + oy * vertical.taps
                        for i in 0..<rowBytes { acc[i] = half }
                        for y in 0..<n {
                            let line = s + (lo + y) * rowBytes
                            let ky = k[y]
                            for i in 0..<rowBytes { acc[i] += Int(line[i]) * ky }
                        }
                        let outRow = o + oy * rowBytes
                        for i in 0..<rowBytes { outRow[i] = clip8(acc[i]) }
                    }
                }
            }
        }
    }
    return out
}
