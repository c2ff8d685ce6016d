// Hiera's windowed blocks run a group of windows at a time (`MultiScaleBlock.windowGroups`): against
// the same block one step at a time over the whole map, on the small 2.1 fixture's weights, in
// float32 and bf16, with the MLP inside the groups and after them, on random maps of each block's
// input size (padded windows and pooling blocks included).

import Foundation
import Testing

@testable import SAM2

struct HieraWindowGroupTests {
    /// side 32: the fixture's own map (blocks 0–3 grouped: two pooling into tiled windows; block 4 is
    /// global, block 5 pools windows that do not tile its map); side 20: padded windows (blocks 0
    /// and 2 grouped, the pooling blocks not).
    @Test(arguments: [Precision.float32, .bfloat16], [(32, 4), (20, 2)])
    func groupsMatchStepByStep(precision: Precision, map: (side: Int, grouped: Int)) throws {
        let config = try SAM2Configuration.named(ModelFixtures.url("model/small_2.1.json").path)
        let model = try SAM2Model.load(
            checkpoint: ModelFixtures.url("model/small_2.1.pt"), configuration: config, precision: precision)
        let trunk = model.imageEncoder.trunk
        let seed = UInt64.random(in: 1...UInt64.max)
        var state = seed
        func random(_ shape: [Int]) -> Tensor {
            let values = (0..<shape.reduce(1, *)).map { _ -> Float in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Float(state >> 40) / Float(1 << 24) * 4 - 2
            }
            return Tensor(shape: shape, scalars: values)
        }
        var x = random([2, map.side, map.side, trunk.blocks[0].dim])
        var grouped = 0
        for (i, block) in trunk.blocks.enumerated() {
            let expected = block.stepByStep(x)
            if block.groupedParts(x) != nil {
                grouped += 1
                for parts in [MultiScaleBlock.GroupedParts.attention, .attentionAndMLP] {
                    let got = block.windowGroups(x, parts)
                    #expect(got.shape == expected.shape, "block \(i) \(parts)")
                    let largest = expected.scalars.map(abs).max() ?? 0
                    let error = zip(got.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? 0
                    #expect(
                        error <= 1e-5 * largest, "block \(i) \(parts) \(precision): max error \(error), seed \(seed)")
                }
            }
            x = expected
        }
        #expect(grouped == map.grouped, "\(grouped) blocks ran in groups")
    }
}
