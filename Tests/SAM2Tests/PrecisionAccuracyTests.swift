// Reduced precision against our float32 on the committed small 2.1 fixture: the five fixture images
// and five prompt kinds (the cases of tools/reference/precision_accuracy.py), masks compared by IoU
// (logits > 0 at the image's size), logits by relative L2, scores by absolute difference.
//
// The reference's own bf16 autocast against its fp32 on these same 35 masks (the fixture's weights
// through torch.autocast("cpu", bfloat16)): IoU mean 0.9715, min 0.2277 (landscape, foreground +
// background point: logits within ±1 over the whole image, a near-random mask of the tiny random
// model), logits relative L2 mean 0.1359, |Δscore| max 0.0024. bf16 is held to SPEC §5's rule
// against those figures (mean IoU no lower than 0.002 below them, mean logits error at most 1.25×).
// int8 measured 0.968 mean IoU here when written (SPEC §5 asks 0.97 on the full-size cases, where
// it is measured by the script); it is held to that measurement.

import Foundation
import Testing

@testable import SAM2
@testable import SAM2IO

struct PrecisionAccuracyTests {
    struct Figures {
        var ious: [Double] = []
        var logitErrors: [Double] = []
        var scoreErrors: [Float] = []
        var meanIoU: Double { ious.reduce(0, +) / Double(ious.count) }
        var meanLogitError: Double { logitErrors.reduce(0, +) / Double(logitErrors.count) }
    }

    /// Our fp32 and `precision` on the same cases.
    static func figures(_ precision: Precision) throws -> Figures {
        let config = try SAM2Configuration.named(ModelFixtures.url("model/small_2.1.json").path)
        let url = ModelFixtures.url("model/small_2.1.pt")
        let float = SAM2ImagePredictor(model: try SAM2Model.load(checkpoint: url, configuration: config))
        let reduced = SAM2ImagePredictor(
            model: try SAM2Model.load(checkpoint: url, configuration: config, precision: precision))
        var figures = Figures()
        for image in ["square", "landscape", "portrait", "odd", "large"] {
            let rgb = try ImageIO.readImage(ModelFixtures.url("model/images/\(image).png"))
            try float.setImage(rgb)
            try reduced.setImage(rgb)
            let (w, h) = (Float(rgb.width), Float(rgb.height))
            let fg = SIMD2<Float>(0.45 * w, 0.5 * h)
            let box = SIMD4<Float>(0.2 * w, 0.25 * h, 0.7 * w, 0.8 * h)
            let first = try float.predict(points: [fg], labels: [1], returnLogits: true)
            let best = first.scores.indices.max { first.scores[$0] < first.scores[$1] }!
            let maskInput = first.lowResLogits.slice(axis: 0, best..<(best + 1))
            let cases: [(SAM2ImagePredictor) throws -> SAM2Prediction] = [
                { try $0.predict(points: [fg], labels: [1], returnLogits: true) },
                {
                    try $0.predict(
                        points: [fg, SIMD2(0.7 * w, 0.3 * h)], labels: [1, 0], multimaskOutput: false,
                        returnLogits: true
                    )
                },
                { try $0.predict(box: box, multimaskOutput: false, returnLogits: true) },
                {
                    try $0.predict(
                        points: [SIMD2(0.5 * w, 0.55 * h)], labels: [1], box: box, multimaskOutput: false,
                        returnLogits: true)
                },
                {
                    try $0.predict(
                        points: [fg], labels: [1], maskInput: maskInput, multimaskOutput: false, returnLogits: true)
                },
            ]
            for run in cases {
                let (a, b) = (try run(reduced), try run(float))
                figures.ious += maskIoUs(a.masks, b.masks)
                for i in 0..<a.masks.shape[0] {
                    let range = i..<(i + 1)
                    figures.logitErrors.append(relativeL2(a.masks.slice(axis: 0, range), b.masks.slice(axis: 0, range)))
                }
                figures.scoreErrors += zip(a.scores, b.scores).map { abs($0 - $1) }
            }
        }
        print(
            "\(precision) vs float32 (small 2.1 fixture, \(figures.ious.count) masks): IoU mean "
                + String(
                    format: "%.4f min %.4f, logits rel L2 mean %.4f max %.4f, |Δscore| max %.4f", figures.meanIoU,
                    figures.ious.min()!, figures.meanLogitError, figures.logitErrors.max()!,
                    figures.scoreErrors.max()!))
        return figures
    }

    /// The reference's bf16 autocast against its fp32 on the same masks (see the header).
    static let referenceMeanIoU = 0.9715
    static let referenceMeanLogitError = 0.1359

    @Test func bfloat16() throws {
        let f = try Self.figures(.bfloat16)
        #expect(f.meanIoU >= Self.referenceMeanIoU - 0.002)
        #expect(f.meanLogitError <= 1.25 * Self.referenceMeanLogitError)
        #expect(f.scoreErrors.max()! <= 0.01)
    }

    @Test func int8() throws {
        let f = try Self.figures(.int8)
        #expect(f.meanIoU >= 0.965)
        #expect(f.meanLogitError <= 1.25 * Self.referenceMeanLogitError)
        #expect(f.scoreErrors.max()! <= 0.01)
    }
}
