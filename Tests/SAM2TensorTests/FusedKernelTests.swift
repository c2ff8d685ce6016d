// Tests for the fused and strided kernel paths against their plain versions on fresh random inputs:
// GELU against the exact erf form, linear with activation and residual (blocked and unblocked),
// Gemm split over workers, attention on token-major and packed-qkv operands, the channels-last
// convolution, permutes done as batched transposes, pooling a channel range, and the fused
// residual add + LayerNorm.

import Foundation
import SAM2Tensor
import Testing

@Suite struct FusedKernelTests {
    @Test func geluIsWithinAMillionthOfExact() {
        // A dense sweep of [-10, 10], random points, and special values, in one tensor (split over workers).
        var points = (0...2_000_000).map { Float(-10 + Double($0) * 1e-5) }
        var rng = SeededGenerator(seed: freshSeed())
        points += (0..<100_000).map { _ in Float.random(in: -6...6, using: &rng) }
        points += [0, -0.0, .leastNonzeroMagnitude, 1e-30, 50, -50, 1e4]
        let got = gelu(Tensor(shape: [points.count], scalars: points)).scalars
        var worst = 0.0
        var at: Float = 0
        for (x, y) in zip(points, got) {
            let v = Double(x)
            let err = abs(Double(y) - 0.5 * v * (1 + Foundation.erf(v / 2.0.squareRoot())))
            if err > worst { (worst, at) = (err, x) }
        }
        #expect(worst < 1e-6, "max |gelu − exact| = \(worst) at \(at)")
    }

    @Test(arguments: [[7, 48], [3000, 40], [1, 2, 5]])
    func linearWithActivationAndResidualMatchesPlain(shape: [Int]) {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        let x = randomTensor(shape, &rng, low: -2, high: 2)
        let w = randomTensor([300, shape.last!], &rng)
        let b = randomTensor([300], &rng)
        let outShape = Array(shape.dropLast()) + [300]
        let residual = randomTensor(outShape, &rng)
        let plain = Plain.linear(x, weight: w, bias: b)
        let erf = { (v: Double) in 0.5 * v * (1 + Foundation.erf(v / 2.0.squareRoot())) }
        expectClose(linear(x, weight: w, bias: b, activation: .gelu), Plain.map(plain, erf), 1e-5, "gelu seed \(seed)")
        expectClose(
            linear(x, weight: w, bias: b, activation: .relu), Plain.map(plain) { max($0, 0) }, 1e-5, "relu seed \(seed)"
        )
        expectClose(
            linear(x, weight: w, bias: nil, activation: .gelu, residual: residual),
            Plain.broadcast(Plain.map(Plain.linear(x, weight: w, bias: nil), erf), residual, +), 1e-5,
            "gelu + residual seed \(seed)")
        expectClose(
            linear(x, weight: w, bias: b, residual: residual), Plain.broadcast(plain, residual, +), 1e-5,
            "residual seed \(seed)")
    }

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func sgemmSplitOverWorkersMatchesPlain(transA: Bool, transB: Bool) {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        // Tall C (rows split) and wide C with few rows (columns split), with padded leading dimensions.
        for (m, n, k) in [(301, 45, 67), (9, 700, 53)] {
            let lda = (transA ? m : k) + 3
            let ldb = (transB ? k : n) + 5
            let ldc = n + 2
            let a = randomTensor([(transA ? k : m) * lda], &rng)
            let b = randomTensor([(transB ? n : k) * ldb], &rng)
            let c0 = randomTensor([m * ldc], &rng)
            var fast = c0.scalars
            var plain = c0.scalars
            Gemm.sgemm(
                transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a.storage.pointer, lda: lda,
                b: b.storage.pointer, ldb: ldb, beta: 0.25, c: &fast, ldc: ldc, threads: 3)
            Gemm.sgemmPlain(
                transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a.storage.pointer, lda: lda,
                b: b.storage.pointer, ldb: ldb, beta: 0.25, c: &plain, ldc: ldc)
            #expect(relativeL2(fast, plain) <= 1e-5, "\(m)×\(n)×\(k) seed \(seed)")
            for i in 0..<m { for j in n..<ldc { #expect(fast[i * ldc + j] == c0.scalars[i * ldc + j]) } }
        }
    }

    @Test(arguments: [(2, 3, 70, 130, 16), (1, 2, 300, 600, 32), (3, 1, 64, 64, 24)])
    func attentionOnStridedOperandsMatchesPlain(b: Int, h: Int, lq: Int, lk: Int, d: Int) {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        // Token-major q [B, Lq, H·D]; packed kv [B, Lk, 2, H, D] as a fused projection would give.
        let q = randomTensor([b, lq, h * d], &rng, low: -2, high: 2)
        let kv = randomTensor([b, lk, 2, h, d], &rng, low: -2, high: 2)
        let headMajor = { (t: Tensor, l: Int) in t.reshaped([b, l, h, d]).permuted([0, 2, 1, 3]) }
        let k = headMajor(kv.slice(axis: 2, 0..<1), lk)
        let v = headMajor(kv.slice(axis: 2, 1..<2), lk)
        let want = Plain.attention(query: headMajor(q, lq), key: k, value: v, scale: nil).permuted([0, 2, 1, 3])
            .reshaped([b, lq, h * d])
        let got = scaledDotProductAttention(
            query: AttentionOperand(tokenMajor: q, heads: h),
            key: AttentionOperand(packed: kv, part: 0), value: AttentionOperand(packed: kv, part: 1))
        expectClose(got, want, 1e-5, "seed \(seed)")
        // Head-major operands through the same entry point.
        let mixed = scaledDotProductAttention(
            query: AttentionOperand(headMajor: headMajor(q, lq)), key: AttentionOperand(headMajor: k),
            value: AttentionOperand(packed: kv, part: 1), scale: 0.7)
        let wantScaled = Plain.attention(query: headMajor(q, lq), key: k, value: v, scale: 0.7).permuted([0, 2, 1, 3])
            .reshaped([b, lq, h * d])
        expectClose(mixed, wantScaled, 1e-5, "head-major seed \(seed)")
    }

    @Test(arguments: [(1, 3, 29, 31, 8, 7, 4, 3), (2, 4, 16, 15, 6, 3, 2, 1), (1, 2, 9, 9, 5, 1, 1, 0)])
    func conv2dChannelsLastMatchesPlain(n: Int, c: Int, h: Int, w: Int, o: Int, k: Int, stride: Int, padding: Int) {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        let x = randomTensor([n, c, h, w], &rng)
        let wt = randomTensor([o, c, k, k], &rng)
        let b = randomTensor([o], &rng)
        for bias in [b, nil] as [Tensor?] {
            let want = Plain.conv2d(x, weight: wt, bias: bias, stride: stride, padding: padding, groups: 1).permuted([
                0, 2, 3, 1,
            ])
            expectClose(
                conv2dChannelsLast(x, weight: wt, bias: bias, stride: stride, padding: padding), want, 1e-5,
                "k\(k) s\(stride) p\(padding) bias \(bias != nil) seed \(seed)")
        }
    }

    @Test(arguments: [
        ([2, 3, 40, 70], [0, 3, 1, 2]), ([2, 33, 5, 7], [0, 2, 3, 1]), ([45, 70], [1, 0]), ([3, 37, 66], [0, 2, 1]),
        ([2, 3, 4, 5], [0, 2, 1, 3]), ([3, 4, 5], [2, 0, 1]),
    ])
    func permutedMatchesIndexByIndex(shape: [Int], order: [Int]) {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        let x = randomTensor(shape, &rng)
        let got = x.permuted(order)
        #expect(got.shape == order.map { shape[$0] })
        // Plain: walk every output index, read the source at the permuted index.
        let xs = x.scalars
        let gs = got.scalars
        var srcStrides = [Int](repeating: 1, count: shape.count)
        for a in stride(from: shape.count - 2, through: 0, by: -1) { srcStrides[a] = srcStrides[a + 1] * shape[a + 1] }
        var index = [Int](repeating: 0, count: shape.count)
        var mismatches = 0
        for flat in 0..<gs.count {
            var rest = flat
            for a in stride(from: shape.count - 1, through: 0, by: -1) {
                index[a] = rest % got.shape[a]
                rest /= got.shape[a]
            }
            let source = zip(order, index).reduce(0) { $0 + srcStrides[$1.0] * $1.1 }
            if gs[flat] != xs[source] { mismatches += 1 }
        }
        #expect(mismatches == 0, "\(shape) \(order) seed \(seed)")
    }

    @Test func maxPoolOfAChannelRangeEqualsPoolOfTheSlice() {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        let x = randomTensor([2, 8, 11, 12], &rng)
        for range in [0..<4, 4..<12, 3..<5] {
            #expect(
                maxPool2x2NHWC(x, channels: range).scalars == maxPool2x2NHWC(x.slice(axis: 3, range)).scalars,
                "\(range) seed \(seed)")
        }
    }

    @Test func addLayerNormMatchesAddThenPlainLayerNorm() {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        for shape in [[3, 5, 96], [4000, 24]] {
            let a = randomTensor(shape, &rng, low: -2, high: 4)
            let b = randomTensor(shape, &rng)
            let g = randomTensor([shape.last!], &rng)
            let beta = randomTensor([shape.last!], &rng)
            let (sum, normalized) = addLayerNorm(a, b, weight: g, bias: beta, eps: 1e-6)
            let plainSum = Plain.broadcast(a, b, +)
            expectClose(sum, plainSum, 1e-7, "sum \(shape) seed \(seed)")
            expectClose(
                normalized, Plain.layerNorm(plainSum, weight: g, bias: beta, eps: 1e-6), 1e-5,
                "norm \(shape) seed \(seed)")
        }
    }
}
