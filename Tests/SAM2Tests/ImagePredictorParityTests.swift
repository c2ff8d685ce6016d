// Parity of the image path with the reference on the committed small-configuration fixtures
// (tools/reference/make_model_fixtures.py): each trunk stage, neck level, the image embedding,
// the prompt encoder, the mask decoder, and the predictor's logits, scores and low-res logits,
// for SAM 2.0 and 2.1 heads, five image shapes and every prompt kind. Tolerances: SPEC §4.

import Foundation
import Testing

@testable import SAM2
@testable import SAM2IO
@testable import SAM2Workflows

let moduleTolerance = 1e-4

struct ImagePathParityTests {
    static let images = ["square", "landscape", "portrait", "odd", "large"]

    @Test(arguments: [("2.1", "square"), ("2.1", "odd"), ("2.0", "square")])
    func trunkAndNeck(version: String, image: String) throws {
        let model = try ModelFixtures.smallModel(version)
        let ref = try ReferenceCase("model/\(version)_\(image).safetensors")
        let stages = model.imageEncoder.trunk(try ref["input"])
        for (k, stage) in stages.enumerated() {
            #expect(relativeL2(stage, try ref["trunk_\(k)"]) <= moduleTolerance, "trunk stage \(k)")
        }
        // The neck on the reference's trunk outputs, so that its error is its own.
        let neck = model.imageEncoder.neck(try (0..<4).map { try ref["trunk_\($0)"] })
        for k in 0..<3 {
            #expect(relativeL2(neck[k], try ref["neck_\(k)"]) <= moduleTolerance, "neck level \(k)")
        }
        let pos = model.imageEncoder.positionEncodings(for: [neck[2]])[0]
        #expect(relativeL2(pos.reshaped([1] + pos.shape), try ref["neck_pos_2"]) <= moduleTolerance)
    }

    @Test(arguments: [
        ("2.1", "square"), ("2.1", "landscape"), ("2.1", "portrait"), ("2.1", "odd"), ("2.1", "large"),
        ("2.0", "square"),
    ])
    func imageEmbedding(version: String, image: String) throws {
        let model = try ModelFixtures.smallModel(version)
        let ref = try ReferenceCase("model/\(version)_\(image).safetensors")
        let rgb = try ImageIO.readImage(ModelFixtures.url("model/images/\(image).png"))
        let predictor = SAM2ImagePredictor(model: model)
        if ref.has("input") {
            let input = predictor.transforms.image(rgb)
            #expect(relativeL2(input, try ref["input"]) <= moduleTolerance, "resized, normalised input")
        }
        try predictor.setImage(rgb)
        #expect(relativeL2(predictor.imageEmbedding!, try ref["image_embed"]) <= moduleTolerance, "image embedding")
    }
}

struct PromptParityTests {
    static let cases: [(String, String, String)] =
        [
            "point", "point_single", "points_fg_bg", "box", "box_points", "boxes", "normalized", "mask_point",
            "mask_only",
        ].flatMap {
            [("2.1", "square", $0), ("2.1", "odd", $0)]
        }
        + ["landscape", "portrait", "large"].flatMap { image in
            ["point", "box_points", "mask_point", "mask_only"].map { ("2.1", image, $0) }
        } + ["point", "box_points", "mask_point"].map { ("2.0", "square", $0) }

    @Test(arguments: cases)
    func prompt(version: String, image: String, prompt: String) throws {
        let model = try ModelFixtures.smallModel(version)
        let rgb = try ImageIO.readImage(ModelFixtures.url("model/images/\(image).png"))
        let predictor = SAM2ImagePredictor(model: model)
        try predictor.setImage(rgb)
        let figures = try comparePrompt(
            model: model, predictor: predictor,
            reference: try ReferenceCase("model/\(version)_\(image)_\(prompt).safetensors"),
            features: try ReferenceCase("model/\(version)_\(image).safetensors"))
        figures.expectWithinTolerances()
    }
}
