// The README's first library example, with `import SAM2` alone: a model, pixels from the caller's own
// decoder, a click, the automatic mask generator and a stream of frames — no codec, no workflow
// module. (This file imports nothing else of the package, so it compiles only if that API suffices.)

import Foundation
import SAM2
import Testing

struct LibraryUsageTests {
    /// 8-bit RGB pixels as an app's own decoder would hand them over.
    static func pixels(width: Int, height: Int, shift: Int) -> RGBImage {
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let inside = abs(x - width / 2 - shift) < width / 5 && abs(y - height / 2) < height / 4
                rgb[(y * width + x) * 3] = UInt8(x * 255 / (width - 1))
                rgb[(y * width + x) * 3 + 1] = inside ? 240 : 30
                rgb[(y * width + x) * 3 + 2] = UInt8(y * 255 / (height - 1))
            }
        }
        return RGBImage(width: width, height: height, pixels: rgb)
    }

    @Test func segmentsFromPixelsWithTheModelLibraryAlone() throws {
        let config = try SAM2Configuration.named(ModelFixtures.url("model/small_2.1.json").path)
        let model = try SAM2Model.load(checkpoint: ModelFixtures.url("model/small_2.1.pt"), configuration: config)
        let predictor = SAM2ImagePredictor(model: model)
        let image = Self.pixels(width: 96, height: 72, shift: 0)
        try predictor.setImage(image)
        let result = try predictor.predict(points: [SIMD2(48, 36)], labels: [1], multimaskOutput: true)
        #expect(result.masks.shape == [3, 72, 96] && result.scores.count == 3)
        #expect(result.lowResLogits.shape == [3, model.maskInputSize, model.maskInputSize])  // 256 at full size
        let best = result.scores.indices.max { result.scores[$0] < result.scores[$1] }!
        let mask = result.masks.slice(axis: 0, best..<(best + 1)).scalars
        #expect(mask.count == 96 * 72 && mask.allSatisfy { $0 == 0 || $0 == 1 })

        var options = SAM2AutomaticMaskGenerator.Options()
        options.pointsPerSide = 4
        options.predIoUThresh = 0
        options.stabilityScoreThresh = 0
        let everything = try SAM2AutomaticMaskGenerator(model: model, options: options).generate(image)
        #expect(!everything.isEmpty && everything.allSatisfy { $0.rle.width == 96 && $0.rle.height == 72 })

        let stream = SAM2VideoStream(model: model)
        #expect(try stream.push(image) == nil)
        try stream.addPoints(object: 1, points: [SIMD2(48, 36)], labels: [1])
        let next = try stream.push(Self.pixels(width: 96, height: 72, shift: 4))
        #expect(next?.objectIDs == [1] && next?.masks.shape == [1, 72, 96])
    }
}
