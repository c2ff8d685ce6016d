// Parity of the video tracker with the reference's SAM2VideoPredictor on the committed clip and
// small checkpoints (tools/reference/make_video_fixtures.py): the same session of prompts
// (click, box, correction on a tracked frame, a mask for a new object after tracking started),
// forward, again forward, and reverse propagation, compared event by event and frame by frame.
// Tolerances (SPEC §4 / the video issue): logits relative L2 ≤ 1e-3, mask IoU ≥ 0.995, scores 2e-3.

import Foundation
import SAM2Checkpoint
import Testing
@testable import SAM2

struct VideoPredictorParityTests {
    @Test(arguments: ["2.1", "2.0"])
    func session(version: String) throws {
        let model = try ModelFixtures.smallModel(version)
        let predictor = SAM2VideoPredictor(model: model)
        try predictor.initState(video: ModelFixtures.url("video/frames"))
        let ref = try ReferenceCase("video/\(version)_session.safetensors")
        let events = try JSONSerialization.jsonObject(with: Data(ref.file.metadata["events"]!.utf8)) as! [[String: Any]]
        var worst = (logits: 0.0, iou: 1.0, scores: Float(0), frames: 0)

        func compare(_ result: VideoFrameResult, _ key: String) throws {
            let video = try ref[key + ".video"]
            let logits = relativeL2(result.masks, video)
            let ious = maskIoUs(result.masks, video)
            let scores = maxAbsDifference(result.objectScores.map { $0 ?? -1024 }, try ref[key + ".scores"].scalars)
            worst = (max(worst.logits, logits), min(worst.iou, ious.min()!), max(worst.scores, scores), worst.frames + 1)
            #expect(logits <= 1e-3, "\(key): logits \(logits)")
            #expect(ious.allSatisfy { $0 >= 0.995 }, "\(key): IoU \(ious)")
            #expect(scores <= 2e-3, "\(key): object scores \(scores)")
        }

        var queue: [(Int, String)] = []
        for event in events {
            let type = event["type"] as! String
            switch type {
            case "points", "box":
                let frame = event["frame"] as! Int, object = event["object"] as! Int
                let points = (event["points"] as? [[Double]] ?? []).map { SIMD2(Float($0[0]), Float($0[1])) }
                let labels = event["labels"] as? [Int] ?? []
                let box = (event["box"] as? [Double]).map { SIMD4(Float($0[0]), Float($0[1]), Float($0[2]), Float($0[3])) }
                let result = try predictor.addPoints(frame: frame, object: object, points: points, labels: labels, box: box,
                                                     clearOldPoints: event["clear_old_points"] as? Bool ?? true)
                try compare(result, event["key"] as! String)
            case "mask":
                let mask = try ref[event["mask"] as! String]
                let result = try predictor.addMask(frame: event["frame"] as! Int, object: event["object"] as! Int,
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
        print("video \(version): \(worst.frames) outputs, worst logits \(worst.logits), min IoU \(worst.iou), max |Δscore| \(worst.scores)")
    }
}
