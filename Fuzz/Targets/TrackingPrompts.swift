// Fuzz target `tracking-prompts`: the bytes as a `sam2 track` prompts file, read against a video of
// 8 frames of 13×9 beside mask files (mask.png at that size, davis.png, wrong.png at another size,
// broken.png); every prompt accepted must be one the tracker can use. Seeds: prompts files written here.

import Foundation
import SAM2Workflows

extension FuzzTarget {
    static let trackingPrompts = FuzzTarget(
        name: "tracking-prompts", summary: "a prompts JSON file for an 8-frame 13×9 video",
        seeds: { _ in
            [
                #"[{"frame": 0, "object": 1, "points": [[3, 4]], "labels": [1]}]"#,
                #"[{"frame": 2, "object": 2, "box": [1, 1, 12.5, 8]}, {"frame": 0, "object": 1, "mask": "mask.png"}]"#,
                #"[{"frame": 7, "object": 3, "points": [[0, 0], [13, 9]], "labels": [0, 1], "box": [0, 0, 13, 9]}]"#,
                #"[{"frame": 1, "object": 1, "mask": "davis.png"}, {"frame": 1, "object": 2, "mask": "wrong.png"}]"#,
                #"[{"frame": 1e2, "object": -1, "points": [[1e39, 2]], "labels": [true]}]"#,
                #"[{"frame": 0, "object": 1, "box": [-1e39, 0, 5, 5]}]"#,
                #"[{"frame": 0, "object": 1, "mask": "broken.png"}]"#,
            ].enumerated().map { ("prompts\($0.offset).json", Data($0.element.utf8)) }
        },
        entry: { data, scratch in
            let fixtures = FuzzFixtures()
            for (name, fixture) in [
                ("mask.png", "mask_gray.png"), ("davis.png", "mask_davis.png"), ("wrong.png", "gray8.png"),
            ] {
                try FileManager.default.copyItem(
                    at: fixtures.url("Tests/SAM2Tests/Fixtures/images/" + fixture),
                    to: scratch.folder.appendingPathComponent(name))
            }
            _ = try scratch.file(Data("not a PNG".utf8), name: "broken.png")
            let (frames, width, height) = (8, 13, 9)
            let prompts = try TrackingPrompts.read(
                scratch.file(data, name: "prompts.json"), frameCount: frames, width: width, height: height)
            for (k, p) in prompts.enumerated() {
                let problem = promptProblem(p, frames: frames, width: width, height: height)
                if let problem { throw FuzzViolation("prompt \(k) was accepted but \(problem)") }
            }
            return "\(prompts.count) prompts"
        })

    /// What makes an accepted prompt unusable by the tracker, or nil.
    static func promptProblem(_ p: TrackingPrompt, frames: Int, width: Int, height: Int) -> String? {
        let (w, h) = (Float(width), Float(height))
        if !(0..<frames).contains(p.frame) { return "frame \(p.frame) is not in 0..<\(frames)" }
        if p.points.count != p.labels.count { return "\(p.points.count) points, \(p.labels.count) labels" }
        if let bad = p.points.first(where: { !($0.x >= 0 && $0.x <= w && $0.y >= 0 && $0.y <= h) }) {
            return "point \(bad) is outside the frame"
        }
        if p.labels.contains(where: { $0 != 0 && $0 != 1 }) { return "labels \(p.labels)" }
        if let b = p.box {
            let corners = [b.x, b.y, b.z, b.w]
            if !corners.allSatisfy(\.isFinite) { return "box \(corners) is not finite" }
            if b.z < b.x || b.w < b.y { return "box \(corners) has x1 < x0 or y1 < y0" }
        }
        if let mask = p.mask, mask.count != width * height { return "mask of \(mask.count) values" }
        if p.points.isEmpty && p.box == nil && p.mask == nil { return "it holds no prompt" }
        return nil
    }
}
