// Attention with bf16 products against a plain version that rounds q, k, v and the softmax
// probabilities to bf16 and computes the rest in Double, on fresh random inputs: short key ranges
// (scores in one block) and long ones (keys taken a tile at a time with a running softmax), with
// several query blocks per head (key and value tiles packed once). Against fewer than
// attentionBFloat16Keys keys bf16 attention runs in float32.

import Foundation
import SAM2Tensor
import Testing

@Suite struct BFloat16AttentionTests {
    /// softmax(q kᵀ · scale) v per head with q, k, v and the probabilities rounded to bf16.
    static func plain(query: Tensor, key: Tensor, value: Tensor, scale: Double) -> [Float] {
        let (bh, lq, d) = (query.shape[0] * query.shape[1], query.shape[2], query.shape[3])
        let (lk, dv) = (key.shape[2], value.shape[3])
        let q = query.scalars.map(roundedToBFloat16)
        let k = key.scalars.map(roundedToBFloat16)
        let v = value.scalars.map(roundedToBFloat16)
        var out = [Float](repeating: 0, count: bh * lq * dv)
        for head in 0..<bh {
            for i in 0..<lq {
                var logits = [Double](repeating: 0, count: lk)
                for j in 0..<lk {
                    var dot = 0.0
                    for p in 0..<d { dot += Double(q[(head * lq + i) * d + p]) * Double(k[(head * lk + j) * d + p]) }
                    logits[j] = dot * scale
                }
                let m = logits.max()!
                let e = logits.map { Foundation.exp($0 - m) }
                let total = e.reduce(0, +)
                let p = e.map { Double(roundedToBFloat16(Float($0 / total))) }
                for c in 0..<dv {
                    var acc = 0.0
                    for j in 0..<lk { acc += p[j] * Double(v[(head * lk + j) * dv + c]) }
                    out[(head * lq + i) * dv + c] = Float(acc)
                }
            }
        }
        return out
    }

    /// Random q, k, v [B, H, L, D] of shape (b, h, lq, lk, d, dv).
    static func inputs(_ shape: (Int, Int, Int, Int, Int, Int), seed: UInt64) -> (Tensor, Tensor, Tensor) {
        let (b, h, lq, lk, d, dv) = shape
        var rng = SeededGenerator(seed: seed)
        let q = randomTensor([b, h, lq, d], &rng, low: -2, high: 2)
        let k = randomTensor([b, h, lk, d], &rng, low: -2, high: 2)
        return (q, k, randomTensor([b, h, lk, dv], &rng))
    }

    @Test(arguments: [(1, 2, 150, 1100, 16, 24), (1, 1, 200, 2048, 32, 32)])
    func shortKeysMatchRoundedPlainAttention(_ shape: (Int, Int, Int, Int, Int, Int)) {
        let seed = freshSeed()
        let (q, k, v) = Self.inputs(shape, seed: seed)
        let got = scaledDotProductAttention(query: q, key: k, value: v, precision: .bfloat16)
        let expected = Self.plain(query: q, key: k, value: v, scale: 1 / Double(Float(shape.4).squareRoot()))
        // The emulation matches up to f32 accumulation and a rare probability rounded the other way.
        #expect(relativeL2(got.scalars, expected) <= 1e-4, "seed \(seed)")
        let float = Plain.attention(query: q, key: k, value: v, scale: nil)
        #expect(relativeL2(got.scalars, float.scalars) <= 2e-2, "seed \(seed)")
    }

    @Test(arguments: [(2, 3, 50, 70, 16, 24), (1, 2, 300, 196, 48, 48)])
    func fewKeysRunInFloat32(_ shape: (Int, Int, Int, Int, Int, Int)) {
        let seed = freshSeed()
        let (q, k, v) = Self.inputs(shape, seed: seed)
        let got = scaledDotProductAttention(query: q, key: k, value: v, precision: .bfloat16)
        let float = Plain.attention(query: q, key: k, value: v, scale: nil)
        #expect(relativeL2(got.scalars, float.scalars) <= 1e-5, "seed \(seed)")
    }

    @Test func longKeysMatchRoundedPlainAttention() {
        let (b, h, lq, lk, d, dv) = (1, 2, 300, 9000, 16, 8)
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        let q = randomTensor([b, h, lq, d], &rng, low: -2, high: 2)
        let k = randomTensor([b, h, lk, d], &rng, low: -2, high: 2)
        let v = randomTensor([b, h, lk, dv], &rng)
        let got = scaledDotProductAttention(query: q, key: k, value: v, scale: 0.5, precision: .bfloat16)
        // The tiled kernel rounds the unnormalised e^(s − running max) instead of the probabilities:
        // each differs from the emulation's by at most one bf16 rounding (2⁻⁸ relative).
        let expected = Self.plain(query: q, key: k, value: v, scale: 0.5)
        #expect(relativeL2(got.scalars, expected) <= 4e-3, "seed \(seed)")
    }
}
