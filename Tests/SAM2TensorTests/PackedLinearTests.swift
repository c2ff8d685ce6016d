// PackedLinear against plain products on fresh random inputs: bf16 with both operands rounded to
// bf16 in the plain version, int8 with the same per-channel weight and per-row activation
// quantization done by hand and an exact integer product.

import Foundation
import SAM2Tensor
import Testing

@Suite struct PackedLinearTests {
    /// (rows, inputs, outputs, activation): odd sizes, one row, and more rows than one block.
    static let shapes: [(Int, Int, Int, Activation)] = [
        (1, 17, 5, .identity), (7, 64, 33, .relu), (300, 96, 288, .gelu), (2900, 48, 200, .identity),
    ]

    @Test(arguments: 0..<4)
    func bfloat16MatchesRoundedPlainProduct(_ index: Int) {
        let (rows, k, n, activation) = Self.shapes[index]
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        let x = randomTensor([rows, k], &rng, low: -3, high: 3)
        let w = randomTensor([n, k], &rng)
        let b = randomTensor([n], &rng)
        let residual = randomTensor([rows, n], &rng)
        let packed = PackedLinear(w, precision: .bfloat16)
        #expect(packed.dequantized.scalars == w.scalars.map(roundedToBFloat16), "seed \(seed)")
        let out = linear(x, weight: packed, bias: b, activation: activation, residual: residual)
        let xs = x.scalars.map(roundedToBFloat16)
        let ws = w.scalars.map(roundedToBFloat16)
        let plain = Self.plain(rows: rows, n: n, activation: activation, bias: b, residual: residual) { i, j in
            var sum = 0.0
            for p in 0..<k { sum += Double(xs[i * k + p]) * Double(ws[j * k + p]) }
            return sum
        }
        #expect(relativeL2(out.scalars, plain) <= 2e-6, "seed \(seed) shape \(Self.shapes[index])")
    }

    @Test(arguments: 0..<4)
    func int8MatchesQuantizedPlainProduct(_ index: Int) {
        let (rows, k, n, activation) = Self.shapes[index]
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        let x = randomTensor([rows, k], &rng, low: -2, high: 3)
        let w = randomTensor([n, k], &rng)
        let b = randomTensor([n], &rng)
        let packed = PackedLinear(w, precision: .int8)
        let out = linear(x, weight: packed, bias: b, activation: activation)

        // Weights: symmetric per output channel; activations: the row's range (holding 0) onto 0...255.
        let ws = w.scalars
        var qw = [Int32](repeating: 0, count: n * k)
        var sw = [Float](repeating: 1, count: n)
        for j in 0..<n {
            let largest = (0..<k).map { abs(ws[j * k + $0]) }.max()!
            sw[j] = largest / 127
            for p in 0..<k { qw[j * k + p] = Int32((ws[j * k + p] / sw[j]).rounded(.toNearestOrEven)) }
        }
        let dequantizedWeights = (0..<(n * k)).map { Float(qw[$0]) * sw[$0 / k] }
        #expect(packed.dequantized.scalars == dequantizedWeights, "seed \(seed)")
        let xs = x.scalars
        var qx = [Int32](repeating: 0, count: rows * k)
        var sx = [Float](repeating: 1, count: rows)
        var zx = [Int32](repeating: 0, count: rows)
        for i in 0..<rows {
            let row = xs[(i * k)..<((i + 1) * k)]
            let (low, high) = (min(0, row.min()!), max(0, row.max()!))
            sx[i] = (high - low) / 255
            zx[i] = Int32((-low / sx[i]).rounded(.toNearestOrEven))
            for p in 0..<k {
                let q = (xs[i * k + p] * (1 / sx[i])).rounded(.toNearestOrEven) + Float(zx[i])
                qx[i * k + p] = Int32(min(255, max(0, q)))
            }
        }
        let plain = Self.plain(rows: rows, n: n, activation: activation, bias: b, residual: nil) { i, j in
            var acc: Int64 = 0
            for p in 0..<k { acc += Int64(qx[i * k + p] - zx[i]) * Int64(qw[j * k + p]) }
            return Double(sx[i]) * Double(sw[j]) * Double(acc)
        }
        #expect(relativeL2(out.scalars, plain) <= 1e-5, "seed \(seed) shape \(Self.shapes[index])")
        // And the quantization error itself stays small against the float32 product.
        let float = linear(x, weight: w, bias: b, activation: activation)
        #expect(relativeL2(out.scalars, float.scalars) <= 2e-2, "seed \(seed) shape \(Self.shapes[index])")
    }

    /// (rows, inputs, hidden, outputs, activation) for linearPair: one row, a Hiera MLP's widths, and
    /// more rows than one block of hidden values.
    static let pairShapes: [(Int, Int, Int, Int, Activation)] = [
        (1, 17, 5, 9, .relu), (300, 96, 384, 96, .gelu), (700, 48, 1536, 40, .relu),
    ]

    @Test(arguments: 0..<3)
    func bfloat16PairMatchesRoundedPlainProducts(_ index: Int) {
        let (rows, k, hidden, n, activation) = Self.pairShapes[index]
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        let x = randomTensor([rows, k], &rng, low: -3, high: 3)
        let (w1, b1) = (randomTensor([hidden, k], &rng), randomTensor([hidden], &rng))
        let (w2, b2) = (randomTensor([n, hidden], &rng), randomTensor([n], &rng))
        let residual = randomTensor([rows, n], &rng)
        let (first, second) = (PackedLinear(w1, precision: .bfloat16), PackedLinear(w2, precision: .bfloat16))
        let out = linearPair(
            x, first: first, firstBias: b1, activation: activation, second: second, secondBias: b2,
            residual: residual)
        // The same two layers one after the other: the hidden values are rounded once either way.
        let separate = linear(
            linear(x, weight: first, bias: b1, activation: activation), weight: second, bias: b2, residual: residual)
        #expect(relativeL2(out.scalars, separate.scalars) <= 1e-6, "seed \(seed) shape \(Self.pairShapes[index])")
        // And in Double, with both operands of each product and the hidden values rounded to bf16.
        let (xs, w1s) = (x.scalars.map(roundedToBFloat16), w1.scalars.map(roundedToBFloat16))
        let h = Self.plain(rows: rows, n: hidden, activation: activation, bias: b1, residual: nil) { i, j in
            var sum = 0.0
            for p in 0..<k { sum += Double(xs[i * k + p]) * Double(w1s[j * k + p]) }
            return sum
        }.map(roundedToBFloat16)
        let w2s = w2.scalars.map(roundedToBFloat16)
        let plain = Self.plain(rows: rows, n: n, activation: .identity, bias: b2, residual: residual) { i, j in
            var sum = 0.0
            for p in 0..<hidden { sum += Double(h[i * hidden + p]) * Double(w2s[j * hidden + p]) }
            return sum
        }
        #expect(relativeL2(out.scalars, plain) <= 1e-4, "seed \(seed) shape \(Self.pairShapes[index])")
    }

    @Test func float32PairIsTwoPlainLinears() {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        let x = randomTensor([3, 70, 32], &rng)
        let (w1, b1) = (randomTensor([128, 32], &rng), randomTensor([128], &rng))
        let (w2, b2) = (randomTensor([32, 128], &rng), randomTensor([32], &rng))
        let pair = linearPair(
            x, first: PackedLinear(w1, precision: .float32), firstBias: b1, activation: .gelu,
            second: PackedLinear(w2, precision: .float32), secondBias: b2, residual: x)
        let plain = linear(linear(x, weight: w1, bias: b1, activation: .gelu), weight: w2, bias: b2, residual: x)
        #expect(pair.scalars == plain.scalars, "seed \(seed)")
    }

    @Test func float32IsThePlainLinear() {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        let x = randomTensor([5, 3, 40], &rng)
        let w = randomTensor([24, 40], &rng)
        let packed = PackedLinear(w, precision: .float32)
        #expect(packed.byteCount == 24 * 40 * 4)
        #expect(linear(x, weight: packed, bias: nil).scalars == linear(x, weight: w, bias: nil).scalars)
    }

    @Test func reducedWeightsTakeLessMemory() {
        var rng = SeededGenerator(seed: freshSeed())
        let w = randomTensor([384, 1536], &rng)
        #expect(PackedLinear(w, precision: .bfloat16).byteCount <= 384 * 1536 * 2 + 4096)
        #expect(PackedLinear(w, precision: .int8).byteCount <= 384 * 1536 + 4096)
    }

    /// act(product(i, j) + b) + residual in Double, as a [rows, n] array.
    static func plain(
        rows: Int, n: Int, activation: Activation, bias: Tensor, residual: Tensor?, _ product: (Int, Int) -> Double
    ) -> [Float] {
        let (bs, rs) = (bias.scalars, residual?.scalars)
        var out = [Float](repeating: 0, count: rows * n)
        for i in 0..<rows {
            for j in 0..<n {
                var v = product(i, j) + Double(bs[j])
                switch activation {
                case .identity: break
                case .relu: v = max(v, 0)
                case .gelu: v = 0.5 * v * (1 + erf(v / 2.0.squareRoot()))
                }
                out[i * n + j] = Float(v + (rs.map { Double($0[i * n + j]) } ?? 0))
            }
        }
        return out
    }
}
