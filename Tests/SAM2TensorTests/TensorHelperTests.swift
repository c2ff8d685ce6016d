// The small tensor helpers model code uses (map, clamp, repeat along an axis, floor division) against
// plain loops on fresh random inputs.

import Foundation
import SAM2Tensor
import Testing

@Suite struct TensorHelperTests {
    @Test(arguments: [[7], [3, 1 << 15], [2, 3, 5]])
    func mapAndClampMatchPlainLoops(shape: [Int]) {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        let x = randomTensor(shape, &rng, low: -50, high: 50)
        let mapped = x.map { $0 * 20 - 10 }
        let clamped = x.clamped(min: -32, max: 32)
        #expect(mapped.shape == shape && clamped.shape == shape)
        #expect(mapped.scalars == x.scalars.map { $0 * 20 - 10 }, "seed \(seed)")
        #expect(clamped.scalars == x.scalars.map { Swift.min(Swift.max($0, -32), 32) }, "seed \(seed)")
    }

    @Test func repeatedAndExpandedCopySizeOneAxes() {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        let x = randomTensor([2, 1, 3], &rng)
        let r = x.repeated(4, axis: 1)
        #expect(r.shape == [2, 4, 3])
        let v = x.scalars
        var plain: [Float] = []
        for i in 0..<2 {
            for _ in 0..<4 { plain += v[(i * 3)..<(i * 3 + 3)] }
        }
        #expect(r.scalars == plain, "seed \(seed)")
        let batch = randomTensor([1, 5], &rng)
        #expect(
            batch.expanded(to: 3, axis: 0).scalars == Array([batch.scalars, batch.scalars, batch.scalars].joined()))
        let already = randomTensor([3, 5], &rng)
        #expect(already.expanded(to: 3, axis: 0).storage === already.storage)
        #expect(x.repeated(2, axis: -2).shape == [2, 2, 3])
    }

    @Test func floorDivideRoundsTowardMinusInfinityAsPython() {
        for a in -20...20 {
            for b in [-7, -3, -1, 1, 2, 5] {
                #expect(floorDivide(a, b) == Int((Double(a) / Double(b)).rounded(.down)), "\(a) // \(b)")
            }
        }
    }
}
