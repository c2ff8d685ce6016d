// Parity of the video tracker with the reference's SAM2VideoPredictor on the committed clip and
// small checkpoints (tools/reference/make_video_fixtures.py): the same session of prompts
// (click, box, correction on a tracked frame, a mask for a new object after tracking started),
// forward, again forward, and reverse propagation, compared event by event and frame by frame.
// Tolerances (SPEC §4 / the video issue): logits relative L2 ≤ 1e-3, mask IoU ≥ 0.995, scores 2e-3.

import Foundation
import SAM2Checkpoint
import Testing

@testable import SAM2
@testable import SAM2IO
@testable import SAM2Workflows

struct VideoPredictorParityTests {
    @Test(arguments: ["2.1", "2.0"])
    func session(version: String) throws {
        let predictor = SAM2VideoPredictor(model: try ModelFixtures.smallModel(version))
        try predictor.initState(video: ModelFixtures.url("video/frames"))
        let figures = try replaySession(predictor, reference: try ReferenceCase("video/\(version)_session.safetensors"))
        print("video \(version): \(figures)")
    }
}

/// Worst per-frame, per-object errors of a replayed session.
struct VideoFigures: CustomStringConvertible {
    var outputs = 0
    var logits = 0.0
    var iou = 1.0
    var scores: Float = 0
    var description: String { "\(outputs) outputs, worst logits \(logits), min IoU \(iou), max |Δscore| \(scores)" }
}

/// Replays a reference session (the events in the fixture's metadata) on `predictor`, expecting
/// every output within tolerance: logits relative L2 ≤ 1e-3, mask IoU ≥ 0.995, scores ≤ 2e-3.
func replaySession(_ predictor: SAM2VideoPredictor, reference ref: ReferenceCase) throws -> VideoFigures {
    let session = try JSONSerialization.jsonObject(with: Data(ref.file.metadata["session"]!.utf8)) as! [String: Any]
    let events = session["events"] as! [[String: Any]]
    var worst = VideoFigures()

    func compare(_ result: VideoFrameResult, _ key: String) throws {
        let video = try ref[key + ".video"]
        let logits = relativeL2(result.masks, video)
        let ious = maskIoUs(result.masks, video)
        let scores = maxAbsDifference(result.objectScores.map { $0 ?? -1024 }, try ref[key + ".scores"].scalars)
        worst.outputs += 1
        worst.logits = max(worst.logits, logits)
        worst.iou = min(worst.iou, ious.min()!)
        worst.scores = max(worst.scores, scores)
        #expect(logits <= 1e-3, "\(key): logits \(logits)")
        #expect(ious.allSatisfy { $0 >= 0.995 }, "\(key): IoU \(ious)")
        #expect(scores <= 2e-3, "\(key): object scores \(scores)")
    }

    var queue: [(Int, String)] = []
    for event in events {
        let type = event["type"] as! String
        switch type {
        case "points", "box":
            let points = (event["points"] as? [[Double]] ?? []).map { SIMD2(Float($0[0]), Float($0[1])) }
            let box = (event["box"] as? [Double]).map { SIMD4(Float($0[0]), Float($0[1]), Float($0[2]), Float($0[3])) }
            let result = try predictor.addPoints(
                frame: event["frame"] as! Int, object: event["object"] as! Int, points: points,
                labels: event["labels"] as? [Int] ?? [], box: box,
                clearOldPoints: event["clear_old_points"] as? Bool ?? true)
            try compare(result, event["key"] as! String)
        case "mask":
            let mask = try ref[event["mask"] as! String]
            let result = try predictor.addMask(
                frame: event["frame"] as! Int, object: event["object"] as! Int,
                mask: mask.scalars.map { $0 > 0 ? 1 : 0 }, width: mask.dim(1), height: mask.dim(0))
            try compare(result, event["key"] as! String)
        case "frame":
            queue.append((event["frame"] as! Int, event["key"] as! String))
        case "propagated":
            var seen: [Int] = []
            try predictor.propagate(start: event["start"] as? Int, reverse: event["reverse"] as! Bool) { result in
                seen.append(result.frameIndex)
                guard seen.count <= queue.count else { return }
                let (frame, key) = queue[seen.count - 1]
                #expect(result.frameIndex == frame)
                try compare(result, key)
            }
            #expect(seen == queue.map(\.0))
            queue = []
        default:
            Issue.record("unknown event \(type)")
        }
    }
    return worst
}
