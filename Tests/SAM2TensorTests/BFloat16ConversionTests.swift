// The float32 → bfloat16 conversion of activations (oneDNN's reorder for large blocks) against the
// plain element-by-element rounding, on fresh random bit patterns: ties, NaN, ±∞, the largest and
// smallest normal values, strided rows.

import Testing

@testable import SAM2Tensor

struct BFloat16ConversionTests {
    @Test(arguments: [(3, 5, 7), (130, 200, 211), (1, 70_000, 70_000)])
    func reorderEqualsPlainRounding(rows: Int, columns: Int, stride: Int) {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        let x = UnsafeMutablePointer<Float>.allocate(capacity: rows * stride)
        defer { x.deallocate() }
        for i in 0..<(rows * stride) {
            let bits = UInt32(truncatingIfNeeded: rng.next())
            // Any finite normal value (oneDNN may flush denormals, which the plain loop keeps).
            let normal = (bits & 0x807F_FFFF) | ((1 + (bits >> 23) % 254) << 23)
            switch i % 5 {
            case 0: x[i] = Float(bitPattern: (normal & 0xFFFF_0000) | 0x8000)  // a tie
            case 1 where bits % 7 == 0: x[i] = [.nan, .infinity, -.infinity, .greatestFiniteMagnitude][Int(bits >> 30)]
            default: x[i] = Float(bitPattern: normal)
            }
        }
        let (fast, plain) = (
            UnsafeMutablePointer<UInt16>.allocate(capacity: rows * columns),
            UnsafeMutablePointer<UInt16>.allocate(capacity: rows * columns)
        )
        defer {
            fast.deallocate()
            plain.deallocate()
        }
        convertToBFloat16(x, rows: rows, columns: columns, stride: stride, into: fast)
        roundRowsToBFloat16(x, rows: rows, columns: columns, stride: stride, into: plain)
        var mismatches = 0
        for i in 0..<(rows * columns) {
            let (a, b) = (fast[i], plain[i])
            let bothNaN = a & 0x7F80 == 0x7F80 && a & 0x7F != 0 && b & 0x7F80 == 0x7F80 && b & 0x7F != 0
            if a != b && !bothNaN { mismatches += 1 }
        }
        #expect(mismatches == 0, "seed \(seed): \(mismatches) of \(rows * columns) values differ")
    }
}
