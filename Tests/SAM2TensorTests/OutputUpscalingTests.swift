// Tests for the mask decoder's fused output upscaling (OutputUpscaling.swift) against the plain chain
// on fresh random inputs: transposed convolution, residual, LayerNorm2d, GELU (exact erf form),
// transposed convolution, residual, GELU, then the hypernetwork product.

import Foundation
import SAM2Tensor
import Testing

@Suite struct OutputUpscalingTests {
    @Test(arguments: [
        (1, 5, 7, 2, true, true), (3, 4, 3, 2, true, false), (2, 3, 4, 2, false, false), (1, 3, 2, 3, true, true),
        (2, 4, 6, 2, true, true),
    ])
    func upscaledMasksMatchPlain(batch: Int, h: Int, w: Int, s: Int, residuals: Bool, sharedResiduals: Bool) {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        let (c, c1, c2, m) = (24, 12, 6, 4)
        let x = randomTensor([batch, c, h, w], &rng, low: -2, high: 2)
        let tokens = x.permuted([0, 2, 3, 1]).reshaped([batch, h * w, c])
        let (w1, b1, g, nb) = (
            randomTensor([c, c1, s, s], &rng), randomTensor([c1], &rng), randomTensor([c1], &rng, low: 0.5, high: 1.5),
            randomTensor([c1], &rng)
        )
        let (w2, b2) = (randomTensor([c1, c2, s, s], &rng), randomTensor([c2], &rng))
        let rb = sharedResiduals ? 1 : batch
        let r1 = randomTensor([rb, c1, h * s, w * s], &rng)
        let r0 = randomTensor([rb, c2, h * s * s, w * s * s], &rng)
        let hyper = randomTensor([batch, m, c2], &rng)

        let erfGELU = { (v: Double) in 0.5 * v * (1 + Foundation.erf(v / 2.0.squareRoot())) }
        let plus = { (a: Tensor, r: Tensor) in
            residuals ? Plain.broadcast(a, r.expanded(to: batch, axis: 0)) { $0 + $1 } : a
        }
        let first = plus(Plain.convTranspose2d(x, weight: w1, bias: b1, stride: s), r1)
        let normed = Plain.map(Plain.layerNorm2d(first, weight: g, bias: nb, eps: 1e-6), erfGELU)
        let upscaled = Plain.map(plus(Plain.convTranspose2d(normed, weight: w2, bias: b2, stride: s), r0), erfGELU)
        let (oh, ow) = (h * s * s, w * s * s)
        let (u, hv) = (upscaled.scalars, hyper.scalars)
        var want = [Float](repeating: 0, count: batch * m * oh * ow)
        for b in 0..<batch {
            for mask in 0..<m {
                for p in 0..<(oh * ow) {
                    var sum = 0.0
                    for ch in 0..<c2 {
                        sum += Double(hv[(b * m + mask) * c2 + ch]) * Double(u[(b * c2 + ch) * oh * ow + p])
                    }
                    want[(b * m + mask) * oh * ow + p] = Float(sum)
                }
            }
        }
        let addends = upscalingAddends(
            firstBias: b1, secondBias: b2, residuals: residuals ? (r1, r0) : nil, height: h, width: w, stride: s)
        let got = upscaledMasks(
            tokens: tokens, height: h, width: w, firstWeight: w1, normWeight: g, normBias: nb, eps: 1e-6,
            secondWeight: w2, addends: addends, hyper: hyper)
        expectClose(got, Tensor(shape: [batch, m, oh, ow], scalars: want), 1e-5, "seed \(seed)")
    }
}
