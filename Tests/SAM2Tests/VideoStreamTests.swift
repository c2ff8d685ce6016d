// Streaming: frames pushed one at a time give what the file-based predictor's forward propagation
// gives on the same frames and prompts — here, the reference's first propagation of the committed
// session (tools/reference/make_video_fixtures.py).

import Foundation
import Testing

@testable import SAM2
@testable import SAM2IO
@testable import SAM2Workflows

struct VideoStreamTests {
    @Test(arguments: ["2.1", "2.0"])
    func streamEqualsReferencePropagation(version: String) throws {
        let model = try ModelFixtures.smallModel(version)
        let ref = try ReferenceCase("video/\(version)_session.safetensors")
        let session = try JSONSerialization.jsonObject(with: Data(ref.file.metadata["session"]!.utf8)) as! [String: Any]
        let events = session["events"] as! [[String: Any]]
        let frames = try JPEGFolderFrames(folder: ModelFixtures.url("video/frames"))
        let stream = SAM2VideoStream(model: model, expectedLength: frames.frameCount)
        #expect(try stream.push(frames.frame(0)) == nil)
        // The session's first two prompts (frame 0), then the first propagation's frames.
        for event in events.prefix(2) {
            let points = (event["points"] as? [[Double]] ?? []).map { SIMD2(Float($0[0]), Float($0[1])) }
            let box = (event["box"] as? [Double]).map { SIMD4(Float($0[0]), Float($0[1]), Float($0[2]), Float($0[3])) }
            try stream.addPoints(
                object: event["object"] as! Int, points: points, labels: event["labels"] as? [Int] ?? [], box: box)
        }
        let propagated = events.dropFirst(2).prefix { $0["type"] as! String == "frame" }
        for event in propagated.dropFirst() {  // frame 0 is the prompted frame itself
            let frame = event["frame"] as! Int
            let result = try #require(try stream.push(frames.frame(frame)))
            #expect(result.frameIndex == frame)
            let key = event["key"] as! String
            let video = try ref[key + ".video"]
            #expect(relativeL2(result.masks, video) <= 1e-3, "\(key)")
            #expect(maskIoUs(result.masks, video).allSatisfy { $0 >= 0.995 }, "\(key)")
        }
    }

    @Test func wrongFrameSizeAndPromptBeforeFrames() throws {
        let model = try ModelFixtures.smallModel("2.1")
        let stream = SAM2VideoStream(model: model)
        #expect(throws: VideoStreamError.noFrame) {
            try stream.addPoints(object: 1, points: [SIMD2(1, 1)], labels: [1])
        }
        _ = try stream.push(RGBImage(width: 8, height: 6, pixels: [UInt8](repeating: 9, count: 8 * 6 * 3)))
        #expect(throws: VideoStreamError.frameSize(found: [6, 8], expected: [8, 6])) {
            try stream.push(RGBImage(width: 6, height: 8, pixels: [UInt8](repeating: 9, count: 8 * 6 * 3)))
        }
    }
}
