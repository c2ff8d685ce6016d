// CSAM2Kernels' tables — the portable one and, where the CPU runs it, the AVX-512 one — against
// plain Swift versions on fresh random inputs: run lengths around the 16-lane steps, NaN and ±∞
// where the contracts speak of them. Conversions and quantization must agree bit for bit.

import CSAM2Kernels
import Foundation
import Testing

@testable import SAM2Tensor

/// Names of the tables this CPU can run.
let kernelTableNames = ["generic"] + (sam2_kernels_avx512_supported() != 0 ? ["avx512"] : [])

func kernelTable(_ name: String) -> sam2_kernels_table {
    name == "avx512" ? sam2_kernels_avx512 : sam2_kernels_generic
}

/// Run lengths that cover empty runs, tails shorter than a step, whole steps and the unrolled loops.
let kernelLengths = [0, 1, 7, 15, 16, 17, 31, 33, 64, 100, 257, 4099]

struct VectorKernelTests {
    @Test(arguments: kernelTableNames)
    func reductionsMatchPlainSums(table name: String) {
        let k = kernelTable(name)
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        for n in kernelLengths {
            var x = (0..<n).map { _ in Float.random(in: -3..<3, using: &rng) }
            if n > 3 { x[n / 2] = .nan }
            let finite = x.filter { !$0.isNaN }
            #expect(k.maximum(x, n) == (finite.max() ?? -.infinity), "\(name) n=\(n) seed \(seed)")
            let clean = x.map { $0.isNaN ? 0.5 : $0 }
            let total = clean.reduce(0.0) { $0 + Double($1) }
            #expect(abs(Double(k.sum(clean, n)) - total) <= 1e-5 * Double(max(n, 1)), "\(name) n=\(n) seed \(seed)")
            let mean = n > 0 ? Float(total / Double(n)) : 0
            let deviation = clean.reduce(0.0) { $0 + (Double($1) - Double(mean)) * (Double($1) - Double(mean)) }
            #expect(
                abs(Double(k.squared_deviation(clean, n, mean)) - deviation) <= 1e-5 * max(deviation, 1),
                "\(name) n=\(n) seed \(seed)")
            var y = clean
            k.add(&y, clean, n)
            #expect(y == clean.map { $0 + $0 })
            k.scale(&y, n, 0.25)
            #expect(y == clean.map { ($0 + $0) * 0.25 })
        }
    }

    @Test(arguments: kernelTableNames)
    func exponentialWithinAFewUnits(table name: String) {
        let k = kernelTable(name)
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        for n in kernelLengths {
            var x = (0..<n).map { _ in Float.random(in: -100..<3, using: &rng) }
            if n > 2 { x[1] = -.infinity }
            var y = [Float](repeating: .nan, count: n)
            let total = k.exp_shifted(x, &y, n, 2)
            var expected = 0.0
            for i in 0..<n {
                let v = x[i] - 2
                let e = v < -87.3 ? 0 : Foundation.exp(Double(v))
                expected += e
                // A few units of the polynomial, and the rounding of x − shift to float (e^v moves by v·2⁻²⁴).
                let tolerance = e == 0 ? 0 : (4e-7 + 6e-8 * Double(abs(v))) * e
                #expect(abs(Double(y[i]) - e) <= tolerance, "\(name) e^\(v) = \(y[i]), not \(e) (seed \(seed))")
            }
            #expect(abs(Double(total) - expected) <= 1e-6 * max(expected, 1e-30), "\(name) n=\(n) seed \(seed)")
        }
    }

    @Test(arguments: kernelTableNames)
    func softmaxRowsMatchPlainSoftmax(table name: String) {
        let k = kernelTable(name)
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        for columns in kernelLengths where columns > 0 {
            let rows = 6
            var x = (0..<(rows * columns)).map { _ in Float.random(in: -20..<20, using: &rng) }
            // Row 1 holds −∞ (probability 0), row 2 a NaN, row 3 +∞, row 4 is all −∞: rows 2–4 become NaN.
            x[columns] = -.infinity
            x[2 * columns + columns / 2] = .nan
            x[3 * columns + columns / 3] = .infinity
            for j in 0..<columns { x[4 * columns + j] = -.infinity }
            var probabilities = x
            k.softmax_rows(&probabilities, rows, columns, nil)
            var exponentials = x
            var rounded = [UInt16](repeating: 0, count: rows * columns)
            k.softmax_rows(&exponentials, rows, columns, &rounded)
            for r in 0..<rows {
                let row = x[(r * columns)..<((r + 1) * columns)].map(Double.init)
                let nanRow = (r >= 2 && r <= 4) || (r == 1 && columns == 1)
                let m = row.max()!
                let e = row.map { Foundation.exp($0 - m) }
                let s = e.reduce(0, +)
                for j in 0..<columns {
                    let (i, p) = (r * columns + j, nanRow ? .nan : e[j] / s)
                    if nanRow {
                        #expect(probabilities[i].isNaN && exponentials[i].isNaN && rounded[i] & 0x7FC0 == 0x7FC0)
                        continue
                    }
                    let tolerance = e[j] == 0 ? 0 : 8e-7 + 6e-8 * (m - row[j])  // as in exponentialWithinAFewUnits
                    #expect(abs(Double(probabilities[i]) - p) <= tolerance * p + 1e-30, "\(name) seed \(seed)")
                    #expect(abs(Double(exponentials[i]) - e[j]) <= tolerance * e[j], "\(name) seed \(seed)")
                    // The same probabilities as without `rounded`, rounded to bfloat16.
                    #expect(rounded[i] == bfloat16Bits(probabilities[i]), "\(name) seed \(seed)")
                }
            }
        }
    }

    @Test(arguments: kernelTableNames)
    func bfloat16RoundingIsBitExact(table name: String) {
        let k = kernelTable(name)
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        for (rows, columns, stride) in [(3, 5, 7), (130, 200, 211), (1, 70_000, 70_000), (4, 17, 17)] {
            let x = (0..<(rows * stride)).map { i -> Float in
                let bits = UInt32(truncatingIfNeeded: rng.next())
                switch i % 6 {
                case 0: return Float(bitPattern: (bits & 0xFFFF_0000) | 0x8000)  // a tie
                case 1 where bits % 7 == 0:
                    return [.nan, .infinity, -.infinity, .greatestFiniteMagnitude][Int(bits >> 30)]
                case 2: return Float(bitPattern: bits & 0x807F_FFFF)  // denormal or zero
                default: return Float(bitPattern: bits)
                }
            }
            var fast = [UInt16](repeating: 0, count: rows * columns)
            var plain = fast
            k.round_bfloat16(x, rows, columns, stride, &fast)
            roundRowsToBFloat16(x, rows: rows, columns: columns, stride: stride, into: &plain)
            let mismatches = zip(fast, plain).filter { $0 != $1 }.count
            #expect(mismatches == 0, "\(name) seed \(seed): \(mismatches) of \(rows * columns) values differ")
        }
    }

    @Test(arguments: kernelTableNames)
    func quantizationIsBitExact(table name: String) {
        let k = kernelTable(name)
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        for columns in kernelLengths where columns > 0 {
            let (rows, stride) = (5, columns + 3)
            var x = (0..<(rows * stride)).map { _ in Float.random(in: -4..<7, using: &rng) }
            for j in 0..<columns { x[stride + j] = 2.5 }  // a constant positive row
            for j in 0..<columns { x[2 * stride + j] = -abs(x[2 * stride + j]) }  // non-positive
            var (q1, q2) = ([UInt8](repeating: 0, count: rows * columns), [UInt8](repeating: 1, count: rows * columns))
            var (s1, s2) = ([Float](repeating: 0, count: rows), [Float](repeating: 1, count: rows))
            var (z1, z2) = ([Int32](repeating: 0, count: rows), [Int32](repeating: 1, count: rows))
            k.quantize_rows_u8(x, rows, columns, stride, &q1, &s1, &z1)
            quantizeRowsU8Plain(
                x, rows: rows, columns: columns, stride: stride, into: &q2, scales: &s2, zeroPoints: &z2)
            #expect(q1 == q2 && s1 == s2 && z1 == z2, "\(name) columns=\(columns) seed \(seed)")
        }
    }

    @Test(arguments: kernelTableNames)
    func dequantizationMatchesPlainFormula(table name: String) {
        let k = kernelTable(name)
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        for columns in kernelLengths where columns > 0 {
            let rows = 3
            let acc = (0..<(rows * columns)).map { _ in Int32.random(in: -3_000_000...3_000_000, using: &rng) }
            let rowScales = (0..<rows).map { _ in Float.random(in: 0.001..<0.1, using: &rng) }
            let zeros = (0..<rows).map { _ in Int32.random(in: 0...255, using: &rng) }
            let columnScales = (0..<columns).map { _ in Float.random(in: 0.001..<0.1, using: &rng) }
            let sums = (0..<columns).map { _ in Int32.random(in: -20_000...20_000, using: &rng) }
            let bias = (0..<columns).map { _ in Float.random(in: -1..<1, using: &rng) }
            for withBias in [false, true] {
                var y = [Float](repeating: .nan, count: rows * columns)
                k.dequantize_rows(acc, rows, columns, rowScales, zeros, columnScales, sums, withBias ? bias : nil, &y)
                for r in 0..<rows {
                    for j in 0..<columns {
                        var e = rowScales[r] * columnScales[j] * Float(acc[r * columns + j] &- zeros[r] &* sums[j])
                        if withBias { e += bias[j] }
                        #expect(y[r * columns + j] == e, "\(name) seed \(seed)")
                    }
                }
            }
        }
    }

    @Test(arguments: kernelTableNames)
    func layerNormRowsMatchPlainNorm(table name: String) {
        let k = kernelTable(name)
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        for columns in kernelLengths where columns > 0 {
            let rows = 4
            let x = randomTensor([rows, columns], &rng, low: -3, high: 5)
            let addend = randomTensor([rows, columns], &rng)
            let weight = randomTensor([columns], &rng)
            let bias = randomTensor([columns], &rng)
            var y = [Float](repeating: .nan, count: rows * columns)
            var sum = y
            k.layer_norm_rows(x.scalars, nil, nil, rows, columns, weight.scalars, bias.scalars, 1e-6, &y)
            let expected = Plain.layerNorm(x, weight: weight, bias: bias, eps: 1e-6).scalars
            #expect(maxAbsDifference(y, expected) <= 2e-5, "\(name) columns=\(columns) seed \(seed)")
            k.layer_norm_rows(x.scalars, addend.scalars, &sum, rows, columns, weight.scalars, bias.scalars, 1e-6, &y)
            let added = Tensor(shape: [rows, columns], scalars: zip(x.scalars, addend.scalars).map { $0 + $1 })
            #expect(sum == added.scalars)
            let expectedSum = Plain.layerNorm(added, weight: weight, bias: bias, eps: 1e-6).scalars
            #expect(maxAbsDifference(y, expectedSum) <= 2e-5, "\(name) columns=\(columns) seed \(seed)")
        }
    }
}
