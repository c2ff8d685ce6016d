// Full-size parity on the eight official configurations, run by tools/reference/parity_full.py
// (which builds the random checkpoints and the reference outputs, then sets SAM2_FULL_SIZE_DIR).
// Prints one line of worst figures per configuration; fails beyond SPEC §4's tolerances.

import Foundation
import Testing

@testable import SAM2
@testable import SAM2IO
@testable import SAM2Workflows

struct FullSizeParityTests {
    static let directory = ProcessInfo.processInfo.environment["SAM2_FULL_SIZE_DIR"]
    static let configs = (ProcessInfo.processInfo.environment["SAM2_FULL_SIZE_CONFIGS"] ?? "")
        .split(separator: ",").map(String.init)

    @Test(.enabled(if: directory != nil, "run by tools/reference/parity_full.py"), arguments: configs)
    func configuration(name: String) throws {
        let dir = URL(fileURLWithPath: Self.directory!).appendingPathComponent(name)
        let checkpoint = try String(contentsOf: dir.appendingPathComponent("checkpoint"), encoding: .utf8)
        let model = try SAM2Model.load(checkpoint: URL(fileURLWithPath: checkpoint))
        #expect(model.configuration.name == name)
        let predictor = SAM2ImagePredictor(model: model)
        try predictor.setImage(try ImageIO.readImage(dir.appendingPathComponent("image.png")))
        let features = try ReferenceCase(url: dir.appendingPathComponent("image.safetensors"))
        let embedding = relativeL2(predictor.imageEmbedding!, try features["image_embed"])
        var worst = PromptFigures()
        for prompt in ["point", "box", "box_points", "mask_point"] {
            let reference = try ReferenceCase(url: dir.appendingPathComponent("\(prompt).safetensors"))
            worst.takeWorst(
                try comparePrompt(model: model, predictor: predictor, reference: reference, features: features))
        }
        print(
            String(
                format:
                    "%@: embedding %.2e, decoder masks %.2e, logits %.2e, low-res %.2e, min IoU %.5f, max |Δscore| %.2e",
                name, embedding, worst.decoderMasks, worst.logits, worst.lowRes, worst.minimumIoU, Double(worst.scores))
        )
        #expect(embedding <= 1e-4, "image embedding \(embedding)")
        worst.expectWithinTolerances()
    }
}
