// Full-size video parity on the eight official configurations, run by
// tools/reference/video_parity_full.py (which writes the clip, the checkpoints and the reference
// session, then sets SAM2_FULL_SIZE_DIR). Prints the worst figures per configuration.

import Foundation
import Testing

@testable import SAM2
@testable import SAM2IO
@testable import SAM2Workflows

struct FullSizeVideoParityTests {
    @Test(
        .enabled(if: FullSizeParityTests.directory != nil, "run by tools/reference/video_parity_full.py"),
        arguments: FullSizeParityTests.configs)
    func configuration(name: String) throws {
        let dir = URL(fileURLWithPath: FullSizeParityTests.directory!).appendingPathComponent(name)
        let model = try SAM2Model.load(checkpoint: dir.appendingPathComponent("video_model.pt"))
        #expect(model.configuration.name == name)
        let predictor = SAM2VideoPredictor(model: model)
        try predictor.initState(video: dir.appendingPathComponent("frames"))
        let figures = try replaySession(
            predictor, reference: try ReferenceCase(url: dir.appendingPathComponent("video_session.safetensors")))
        print("\(name) video: \(figures)")
    }
}
