// Quantize: the conversions of reduced-precision products — float32 rows to bfloat16 (round to
// nearest even, as PyTorch), and float32 rows to u8 with a scale and zero point per row (dynamic
// activation quantization) — plus their plain float32 emulations that tests use as oracles.

/// One float rounded to bfloat16 bits (ties to even; NaN stays NaN).
@inline(__always) func bfloat16Bits(_ value: Float) -> UInt16 {
    let u = value.bitPattern
    if value.isNaN { return UInt16(truncatingIfNeeded: (u >> 16) | 0x40) }
    return UInt16(truncatingIfNeeded: (u &+ 0x7FFF &+ ((u >> 16) & 1)) >> 16)
}

/// rows × columns floats (row stride `stride`) → contiguous bfloat16 rows (VectorMath's kernel);
/// bit for bit `roundRowsToBFloat16`.
func convertToBFloat16(
    _ x: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int, into out: UnsafeMutablePointer<UInt16>
) {
    VectorMath.kernels.round_bfloat16(x, rows, columns, stride, out)
}

/// The plain conversion of `convertToBFloat16`, one element at a time.
func roundRowsToBFloat16(
    _ x: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int, into out: UnsafeMutablePointer<UInt16>
) {
    for r in 0..<rows {
        let (src, dst) = (x + r * stride, out + r * columns)
        for c in 0..<columns { dst[c] = bfloat16Bits(src[c]) }
    }
}

/// Per-row u8 quantization of rows × columns floats: q = clamp(round(x / scale) + zero, 0, 255) with
/// the row's range (widened to hold 0) mapped onto 0...255. Writes scales and zero points per row.
/// VectorMath's kernel; bit for bit `quantizeRowsU8Plain` on finite values.
func quantizeRowsU8(
    _ x: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int, into out: UnsafeMutablePointer<UInt8>,
    scales: UnsafeMutablePointer<Float>, zeroPoints: UnsafeMutablePointer<Int32>
) {
    VectorMath.kernels.quantize_rows_u8(x, rows, columns, stride, out, scales, zeroPoints)
}

/// The plain quantization of `quantizeRowsU8`, one element at a time.
func quantizeRowsU8Plain(
    _ x: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int, into out: UnsafeMutablePointer<UInt8>,
    scales: UnsafeMutablePointer<Float>, zeroPoints: UnsafeMutablePointer<Int32>
) {
    // 1.5 · 2²³: adding it rounds a float of magnitude below 2²² to an integer (nearest, ties to
    // even) held in the low mantissa bits, without a trapping float-to-integer conversion.
    let magic: Float = 12_582_912
    for r in 0..<rows {
        let (src, dst) = (x + r * stride, out + r * columns)
        var (low, high): (Float, Float) = (0, 0)
        for c in 0..<columns {
            low = src[c] < low ? src[c] : low
            high = src[c] > high ? src[c] : high
        }
        let scale = high > low ? (high - low) / 255 : 1
        let zero = min(255, max(0, (-low / scale).rounded(.toNearestOrEven)))
        let inverse = 1 / scale
        for c in 0..<columns {
            let q = ((src[c] * inverse + magic) - magic) + zero
            let clamped = q < 0 ? 0 : q > 255 ? 255 : q
            dst[c] = UInt8(truncatingIfNeeded: (clamped + magic).bitPattern)
        }
        scales[r] = scale
        zeroPoints[r] = Int32(zero)
    }
}

/// The float a bfloat16 rounding gives back (plain emulation for tests).
public func roundedToBFloat16(_ value: Float) -> Float { Float(bitPattern: UInt32(bfloat16Bits(value)) << 16) }
