// Hole filling and speck removal of the predictor's postprocessing (the reference's
// `max_hole_area` / `max_sprinkle_area`, which it runs only with its CUDA extension): background
// components of at most maxHoleArea pixels become foreground, foreground components of at most
// maxSprinkleArea pixels become background, with 8-connectivity, both judged on the mask as it was.

import Testing

@testable import SAM2
@testable import SAM2IO
@testable import SAM2Workflows

struct PostprocessTests {
    /// Rows of '#' (foreground logit +5) and '.' (background −5) → [1, 1, H, W].
    static func logits(_ rows: [String]) -> Tensor {
        let values = rows.flatMap { $0.map { $0 == "#" ? Float(5) : -5 } }
        return Tensor(shape: [1, 1, rows.count, rows[0].count], scalars: values)
    }

    static func render(_ t: Tensor, width: Int) -> [String] {
        let v = t.scalars.map { $0 > 0 ? "#" : "." }
        return stride(from: 0, to: v.count, by: width).map { v[$0..<($0 + width)].joined() }
    }

    static let mask = [
        "##########",
        "#.##...###",  // a 1-pixel hole, and a 3-pixel hole joined to ...
        "####...###",  // ... a larger one (6 pixels in all)
        "##########",
        "..........",
        ".#......#.",  // two 1-pixel specks; the right one touches a diagonal neighbour
        ".......#..",
        "..........",
    ]

    func run(hole: Int, sprinkle: Int) -> [String] {
        let t = SAM2Transforms(
            resolution: 8, maskThreshold: 0, maxHoleArea: hole, maxSprinkleArea: sprinkle,
            mean: [0, 0, 0], std: [1, 1, 1])
        // Postprocess to the same size: the bilinear resize is then the identity.
        return Self.render(t.postprocessMasks(Self.logits(Self.mask), originalHeight: 8, originalWidth: 10), width: 10)
    }

    @Test func nothingChangesWhenDisabled() {
        #expect(run(hole: 0, sprinkle: 0) == Self.mask)
    }

    @Test func smallHolesAreFilled() {
        let out = run(hole: 5, sprinkle: 0)
        #expect(out[1] == "####...###")  // the 1-pixel hole is filled, the 6-pixel one stays
        #expect(Array(out[4...]) == Array(Self.mask[4...]))
        // The background outside touches the border but is one big component: untouched.
        #expect(run(hole: 6, sprinkle: 0)[1] == "##########")
    }

    @Test func specksAreRemovedWithEightConnectivity() {
        let out = run(hole: 0, sprinkle: 1)
        #expect(out[5] == "........#.")  // the lone speck goes; the diagonal pair (2 pixels) stays
        #expect(out[6] == ".......#..")
        let both = run(hole: 0, sprinkle: 2)
        #expect(both[5] == ".........." && both[6] == "..........")
        #expect(Array(both[0...3]) == Array(Self.mask[0...3]))
    }

    @Test func connectedComponentAreas() {
        let mask = "#.#" + ".#." + "#.."  // an X of 4 pixels through diagonals, and nothing else
        let areas = SAM2.connectedComponentAreas(mask.map { $0 == "#" }, height: 3, width: 3)
        #expect(areas == [4, 0, 4, 0, 4, 0, 4, 0, 0])
    }
}
