// Kernel tests: every SAM2Tensor kernel against its plain implementation (PlainKernels.swift) on fresh
// random inputs; the seed is printed on failure.

import Foundation
import SAM2Tensor
import Testing

@Suite struct LinearTests {
    @Test(arguments: [[5, 7, 48], [1, 64], [3, 130]])
    func linearMatchesPlain(shape: [Int]) {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        let x = randomTensor(shape, &rng)
        let w = randomTensor([33, shape.last!], &rng)
        let b = randomTensor([33], &rng)
        expectClose(linear(x, weight: w, bias: b), Plain.linear(x, weight: w, bias: b), 1e-5, "seed \(seed)")
        expectClose(
            linear(x, weight: w, bias: nil), Plain.linear(x, weight: w, bias: nil), 1e-5, "seed \(seed) no bias")
    }
}

@Suite struct ConvTests {
    struct Case: Sendable, CustomStringConvertible {
        var n, c, h, w, o, k, stride, padding, groups: Int
        var description: String { "n\(n) c\(c) \(h)x\(w) o\(o) k\(k) s\(stride) p\(padding) g\(groups)" }
    }

    @Test(arguments: [
        Case(n: 1, c: 3, h: 29, w: 31, o: 8, k: 7, stride: 4, padding: 3, groups: 1),  // patch embedding
        Case(n: 2, c: 6, h: 9, w: 11, o: 5, k: 1, stride: 1, padding: 0, groups: 1),  // 1×1
        Case(n: 1, c: 4, h: 16, w: 15, o: 6, k: 3, stride: 2, padding: 1, groups: 1),  // 3×3 stride 2
        Case(n: 1, c: 8, h: 13, w: 12, o: 8, k: 7, stride: 1, padding: 3, groups: 8),  // depthwise 7×7
        Case(n: 2, c: 6, h: 10, w: 9, o: 6, k: 3, stride: 2, padding: 1, groups: 6),  // depthwise strided
        Case(n: 1, c: 6, h: 8, w: 8, o: 4, k: 3, stride: 1, padding: 1, groups: 2),  // grouped
        // depthwise, kernel wider than input
        Case(n: 1, c: 2, h: 4, w: 3, o: 2, k: 5, stride: 1, padding: 2, groups: 2),
    ])
    func conv2dMatchesPlain(_ t: Case) {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        let x = randomTensor([t.n, t.c, t.h, t.w], &rng)
        let wt = randomTensor([t.o, t.c / t.groups, t.k, t.k], &rng)
        let b = randomTensor([t.o], &rng)
        for bias in [b, nil] as [Tensor?] {
            let got = conv2d(x, weight: wt, bias: bias, stride: t.stride, padding: t.padding, groups: t.groups)
            let want = Plain.conv2d(x, weight: wt, bias: bias, stride: t.stride, padding: t.padding, groups: t.groups)
            expectClose(got, want, 1e-5, "\(t) bias \(bias != nil) seed \(seed)")
        }
    }
}

@Suite struct NormTests {
    @Test func layerNormMatchesPlain() {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        for shape in [[3, 5, 96], [2, 7], [4, 1, 1025]] {
            let x = randomTensor(shape, &rng, low: -3, high: 5)
            let g = randomTensor([shape.last!], &rng)
            let b = randomTensor([shape.last!], &rng)
            expectClose(
                layerNorm(x, weight: g, bias: b, eps: 1e-6), Plain.layerNorm(x, weight: g, bias: b, eps: 1e-6), 1e-5,
                "\(shape) seed \(seed)")
        }
    }

    @Test func layerNorm2dMatchesPlain() {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        for shape in [[2, 16, 9, 31], [1, 3, 20, 20]] {
            let x = randomTensor(shape, &rng, low: -2, high: 4)
            let g = randomTensor([shape[1]], &rng)
            let b = randomTensor([shape[1]], &rng)
            expectClose(
                layerNorm2d(x, weight: g, bias: b, eps: 1e-6), Plain.layerNorm2d(x, weight: g, bias: b, eps: 1e-6),
                1e-5, "\(shape) seed \(seed)")
        }
    }
}

@Suite struct ElementwiseTests {
    @Test func activationsMatchPlain() {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        // Large enough to be split over workers.
        let x = randomTensor([3, 70_001], &rng, low: -8, high: 8)
        expectClose(gelu(x), Plain.map(x) { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }, 1e-6, "gelu seed \(seed)")
        expectClose(relu(x), Plain.map(x) { max($0, 0) }, 0, "relu seed \(seed)")
        expectClose(sigmoid(x), Plain.map(x) { 1 / (1 + Foundation.exp(-$0)) }, 1e-6, "sigmoid seed \(seed)")
        expectClose(scale(x, 0.37), Plain.map(x) { $0 * Double(Float(0.37)) }, 1e-7, "scale seed \(seed)")
    }

    @Test func addAndMulBroadcastOverLeadingDimensions() {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        let a = randomTensor([4, 3, 5, 7], &rng)
        for bShape in [[4, 3, 5, 7], [5, 7], [7], [3, 5, 7]] {
            let b = randomTensor(bShape, &rng)
            expectClose(add(a, b), Plain.broadcast(a, b, +), 1e-7, "add \(bShape) seed \(seed)")
            expectClose(mul(a, b), Plain.broadcast(a, b, *), 1e-7, "mul \(bShape) seed \(seed)")
        }
        let big = randomTensor([300, 1000], &rng)
        let row = randomTensor([1000], &rng)
        expectClose(add(big, row), Plain.broadcast(big, row, +), 1e-7, "add big seed \(seed)")
    }
}

@Suite struct SoftmaxTests {
    @Test func softmaxMatchesPlain() {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        for shape in [[3, 4, 17], [2, 1024], [5, 3], [2, 9, 40]] {
            let x = randomTensor(shape, &rng, low: -30, high: 30)
            expectClose(softmax(x), Plain.softmax(x), 1e-6, "\(shape) seed \(seed)")
        }
    }

    @Test func softmaxOfMinusInfinityIsZero() {
        let x = Tensor(shape: [1, 4], scalars: [0, -.infinity, 1, -.infinity])
        let y = softmax(x).scalars
        #expect(y[1] == 0 && y[3] == 0)
        #expect(abs(y[0] + y[2] - 1) < 1e-6)
    }
}

@Suite struct AttentionTests {
    struct Case: Sendable, CustomStringConvertible {
        var b, h, lq, lk, d, dv: Int
        var description: String { "B\(b) H\(h) Lq\(lq) Lk\(lk) D\(d) Dv\(dv)" }
    }

    @Test(arguments: [
        Case(b: 1, h: 1, lq: 5, lk: 7, d: 8, dv: 8),
        Case(b: 2, h: 3, lq: 130, lk: 70, d: 16, dv: 16),  // Lq over one query block
        Case(b: 1, h: 2, lq: 77, lk: 1100, d: 32, dv: 24),  // several key blocks, ragged, Dv != D
        Case(b: 1, h: 1, lq: 300, lk: 513, d: 64, dv: 64),
        Case(b: 1, h: 1, lq: 1, lk: 1, d: 3, dv: 5),
        Case(b: 2, h: 2, lq: 270, lk: 9300, d: 16, dv: 8),  // long memory: key tiles, ragged last tile
    ])
    func attentionMatchesPlain(_ t: Case) {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        let q = randomTensor([t.b, t.h, t.lq, t.d], &rng, low: -2, high: 2)
        let k = randomTensor([t.b, t.h, t.lk, t.d], &rng, low: -2, high: 2)
        let v = randomTensor([t.b, t.h, t.lk, t.dv], &rng)
        expectClose(
            scaledDotProductAttention(query: q, key: k, value: v),
            Plain.attention(query: q, key: k, value: v, scale: nil), 1e-5, "\(t) seed \(seed)")
        expectClose(
            scaledDotProductAttention(query: q, key: k, value: v, scale: 0.9),
            Plain.attention(query: q, key: k, value: v, scale: 0.9), 1e-5, "\(t) scale 0.9 seed \(seed)")
    }

    @Test(arguments: [1500, 10_000])
    func attentionWithPeakedScoresStaysFinite(keys: Int) {
        // Large logits; over a long memory they force running-max corrections across key tiles.
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        let q = randomTensor([1, 1, 40, 16], &rng, low: -8, high: 8)
        let k = randomTensor([1, 1, keys, 16], &rng, low: -8, high: 8)
        let v = randomTensor([1, 1, keys, 16], &rng)
        let got = scaledDotProductAttention(query: q, key: k, value: v, scale: 1)
        #expect(got.scalars.allSatisfy { $0.isFinite })
        expectClose(got, Plain.attention(query: q, key: k, value: v, scale: 1), 1e-5, "seed \(seed)")
    }
}

@Suite struct PoolTests {
    @Test func maxPool2dMatchesPlain() {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        let x = randomTensor([2, 3, 11, 14], &rng)
        for (k, s) in [(2, 2), (3, 2), (3, 1), (1, 1)] {
            expectClose(
                maxPool2d(x, kernel: k, stride: s), Plain.maxPool2d(x, kernel: k, stride: s), 0,
                "k\(k) s\(s) seed \(seed)")
        }
    }

    @Test func maxPool2x2NHWCMatchesNCHWPool() {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        for shape in [[2, 8, 10, 5], [1, 7, 9, 3]] {
            let x = randomTensor(shape, &rng)
            let want = Plain.maxPool2d(x.permuted([0, 3, 1, 2]), kernel: 2, stride: 2).permuted([0, 2, 3, 1])
            expectClose(maxPool2x2NHWC(x), want, 0, "\(shape) seed \(seed)")
        }
    }
}
