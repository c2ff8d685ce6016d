// `sam2 track` as a user runs it: the built binary on the fixture clip with the reference session's
// first prompts (a click on object 1 and a box on object 2 at frame 0, forward propagation) — saved
// logits equal the reference's frame by frame, indexed PNGs hold the right ids, --json lines parse —
// the MP4 path end to end, and every bad input giving one line, exit 1 or 2, and no output.

import Foundation
import Testing

@testable import SAM2
@testable import SAM2IO
@testable import SAM2Workflows

@Suite(.serialized) struct TrackCommandTests {
    static let frames = ModelFixtures.url("video/frames").path
    static let clip = ModelFixtures.url("video/clip.mp4").path

    /// The reference session's events (tools/reference/make_video_fixtures.py).
    static func session() throws -> (ReferenceCase, [[String: Any]]) {
        let ref = try ReferenceCase("video/2.1_session.safetensors")
        let session = try JSONSerialization.jsonObject(with: Data(ref.file.metadata["session"]!.utf8)) as! [String: Any]
        return (ref, session["events"] as! [[String: Any]])
    }

    /// The session's first two prompts as a prompts file in `dir`.
    static func writeSessionPrompts(in dir: URL) throws -> URL {
        let (_, events) = try session()
        let entries: [[String: Any]] = events.prefix(2).map { e in
            var entry: [String: Any] = ["frame": e["frame"]!, "object": e["object"]!]
            for key in ["points", "labels", "box"] { if let v = e[key] { entry[key] = v } }
            return entry
        }
        #expect(entries.map { $0["object"] as! Int } == [1, 2] && entries[1]["box"] != nil)
        return try writePrompts(entries, in: dir)
    }

    static func writePrompts(_ entries: Any, in dir: URL, name: String = "prompts.json") throws -> URL {
        let url = dir.appendingPathComponent(name)
        try JSONSerialization.data(withJSONObject: entries).write(to: url)
        return url
    }

    static func track(_ video: String, prompts: URL, output: URL, _ extra: [String] = []) throws -> CLI.Result {
        try CLI.run(
            [
                "track", video, "--checkpoint", CLI.checkpoint, "--config", CLI.config, "--prompts", prompts.path,
                "--output", output.path, "--quiet",
            ] + extra)
    }

    static func jsonLines(_ stdout: String) throws -> [[String: Any]] {
        try stdout.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
    }

    @Test func logitsPNGsAndJSONEqualTheReferenceSession() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let r = try Self.track(
            Self.frames, prompts: try Self.writeSessionPrompts(in: dir), output: out, ["--save-logits", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let (ref, events) = try Self.session()
        // The frames of the first propagation and their reference keys.
        let first = events[..<events.firstIndex { $0["type"] as? String == "propagated" }!].filter {
            $0["type"] as? String == "frame"
        }
        let lines = try Self.jsonLines(r.stdout)
        #expect(lines.map { $0["frame"] as? Int } == first.map { $0["frame"] as? Int })
        var worst = (logits: 0.0, iou: 1.0)
        var shown = Set<UInt8>()
        for (line, event) in zip(lines, first) {
            let frame = event["frame"] as! Int
            let name = TrackingOutput.frameName(frame)
            let saved = try [1, 2].map { try NPY.read(out.appendingPathComponent("\($0)/\(name).npy")) }
            #expect(saved.allSatisfy { $0.shape == [48, 64] })
            let ours = Tensor(shape: [2, 48, 64], scalars: saved.flatMap(\.values))
            let expected = try ref["\(event["key"] as! String).video"]
            let logits = relativeL2(ours, expected)
            let ious = maskIoUs(ours, expected)
            worst = (max(worst.logits, logits), min(worst.iou, ious.min()!))
            #expect(logits <= 1e-3, "frame \(frame): logits \(logits)")
            #expect(ious.allSatisfy { $0 >= 0.995 }, "frame \(frame): IoU \(ious)")
            // JSON: ids in prompt order, areas = pixels with logit > 0, scores = the reference's object scores.
            let objects = line["objects"] as! [[String: Any]]
            #expect(objects.map { $0["id"] as? Int } == [1, 2])
            #expect(objects.map { $0["area"] as? Int } == saved.map { $0.values.filter { $0 > 0 }.count })
            let scores = objects.map { Float($0["score"] as! Double) }
            #expect(maxAbsDifference(scores, try ref["\(event["key"] as! String).scores"].scalars) <= 2e-3)
            // Indexed PNG: object id where its logit > 0, the smaller id on top where both are.
            let png = try ImageIO.readIndexedMask(out.appendingPathComponent("\(name).png"))
            #expect(png.width == 64 && png.height == 48)
            let ids = (0..<(48 * 64)).map { i -> UInt8 in saved[0].values[i] > 0 ? 1 : saved[1].values[i] > 0 ? 2 : 0 }
            #expect(png.values == ids, "frame \(frame): indexed PNG")
            shown.formUnion(png.values)
        }
        #expect(shown == [0, 1, 2])
        print("track CLI: \(lines.count) frames, worst logits \(worst.logits), min IoU \(worst.iou)")
    }

    @Test func videoFileEndToEndPerObjectInReverse() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let prompts = try Self.writeSessionPrompts(in: dir)
        let out = dir.appendingPathComponent("out")
        let r = try Self.track(Self.clip, prompts: prompts, output: out, ["--per-object", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try Self.jsonLines(r.stdout).map { $0["frame"] as? Int } == Array(0..<10))
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("00000.png").path))
        // The H.264 frames differ slightly from the JPEG frames; the masks stay close to the reference's.
        let (ref, events) = try Self.session()
        for event in events.prefix(12) where event["type"] as? String == "frame" {
            let name = TrackingOutput.frameName(event["frame"] as! Int)
            let masks = try [1, 2].map { try ImageIO.readMask(out.appendingPathComponent("\($0)/\(name).png")).values }
            let ious = maskIoUs(
                Tensor(shape: [2, 48, 64], scalars: masks.flatMap { $0.map { Float($0) } }),
                try ref["\(event["key"] as! String).video"])
            #expect(ious.allSatisfy { $0 >= 0.9 }, "\(name): IoU \(ious)")
        }
        // --start-frame / --reverse / --max-frames as propagate_in_video's start_frame_idx / reverse / max_frame_num_to_track.
        let back = dir.appendingPathComponent("back")
        let rb = try Self.track(
            Self.clip, prompts: prompts, output: back,
            ["--start-frame", "6", "--reverse", "--max-frames", "3", "--json"])
        #expect(rb.status == 0, "\(rb.stderr)")
        #expect(try Self.jsonLines(rb.stdout).map { $0["frame"] as? Int } == [6, 5, 4, 3])
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: back.path).sorted() == [
                "00003.png", "00004.png", "00005.png", "00006.png",
            ])
    }

    @Test func helpAndUsage() throws {
        let help = try CLI.run(["track", "--help"])
        #expect(help.status == 0 && help.stdout.contains("usage: sam2 track"))
        #expect(try CLI.run(["--help"]).stdout.contains("track"))
    }

    /// Bad inputs: (video, prompts entries or raw text, extra arguments, status, message). VIDEO names
    /// are resolved in `badInputsLeaveNothingBehind`.
    static let badInputs: [(String, String, [String], Int32, String)] = [
        ("EMPTY", "OK", [], 1, "no JPEG frames"),
        ("GAP", "OK", [], 1, "frame 2 is missing"),
        ("MIXED", "OK", [], 1, "all frames must have one size"),
        ("TEXT", "OK", [], 1, "cannot open video"),
        ("/nonexistent/clip.mp4", "OK", [], 1, "/nonexistent/clip.mp4"),
        ("AUDIO", "OK", [], 1, "has no video stream"),
        ("NOFRAMES", "OK", [], 1, "has no frames"),
        (
            "FRAMES", #"[{"frame": 10, "object": 1, "points": [[5, 5]], "labels": [1]}]"#, [], 1,
            "frame 10 does not exist"
        ),
        ("CLIP", #"[{"frame": -1, "object": 1, "points": [[5, 5]], "labels": [1]}]"#, [], 1, "frame -1 does not exist"),
        ("FRAMES", #"[{"frame": 0, "object": 300, "points": [[5, 5]], "labels": [1]}]"#, [], 1, "object id 300"),
        ("FRAMES", #"[{"frame": 0, "object": 0, "points": [[5, 5]], "labels": [1]}]"#, [], 1, "object id 0"),
        (
            "FRAMES", #"[{"frame": 0, "object": 1.5, "points": [[5, 5]], "labels": [1]}]"#, [], 1,
            "object id 1.5 is not an integer"
        ),
        ("FRAMES", #"[{"frame": 0, "object": "cat", "points": [[5, 5]], "labels": [1]}]"#, [], 1, "is not an integer"),
        ("FRAMES", #"[{"frame": 0, "points": [[5, 5]], "labels": [1]}]"#, [], 1, "\"object\" is missing"),
        (
            "FRAMES", #"[{"frame": 0, "object": 1, "points": [[5, 5]], "labels": [1], "colour": 2}]"#, [], 1,
            "unknown key \"colour\""
        ),
        ("FRAMES", #"[{"frame": 0, "object": 1, "points": [[5, 5]]}]"#, [], 1, "1 points but 0 labels"),
        ("FRAMES", #"[{"frame": 0, "object": 1, "points": [[5, 5]], "labels": [2]}]"#, [], 1, "label 2 is not 1"),
        (
            "FRAMES", #"[{"frame": 0, "object": 1, "points": [[500, 5]], "labels": [1]}]"#, [], 1,
            "outside the 64×48 frame"
        ),
        ("FRAMES", #"[{"frame": 0, "object": 1, "box": [30, 30, 10, 10]}]"#, [], 1, "x1 < x0"),
        // A finite JSON number past Float's range (seen writing the fuzz target: the box became [-inf, 0, 10, 10]).
        ("FRAMES", #"[{"frame": 0, "object": 1, "box": [-1e39, 0, 10, 10]}]"#, [], 1, "four finite numbers"),
        // A key with a control character is named escaped, on one line (found by fuzzing).
        ("FRAMES", #"[{"frame": 0, "object": 1, "box": [0, 0, 9, 9], "\r": 1}]"#, [], 1, #"unknown key "\r""#),
        ("FRAMES", #"[{"frame": 0, "object": 1}]"#, [], 1, "no prompt"),
        ("FRAMES", #"[{"frame": 0, "object": 1, "mask": "square.png"}]"#, [], 1, "but the video is 64×48"),
        ("FRAMES", #"[{"frame": 0, "object": 1, "mask": "broken.png"}]"#, [], 1, "broken.png"),
        ("FRAMES", #"[{"frame": 0, "object": 1, "mask": "absent.png"}]"#, [], 1, "absent.png"),
        ("FRAMES", "[{\"frame\": 0,", [], 1, "is not valid JSON"),
        ("FRAMES", "[]", [], 1, "non-empty JSON list"),
        ("FRAMES", "OK", ["--start-frame", "10"], 1, "--start-frame 10 does not exist"),
        ("FRAMES", "OK", ["--max-frames", "-1"], 2, "--max-frames '-1'"),
        ("FRAMES", "OK", ["--bogus"], 2, "--bogus"),
        ("FRAMES", "OK", ["--threads", "0"], 2, "--threads '0'"),
    ]

    @Test(arguments: badInputs.indices)
    func badInputsLeaveNothingBehind(_ k: Int) throws {
        let (videoName, promptsText, extra, status, message) = Self.badInputs[k]
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        func folder(_ name: String, frames: [Int], odd: Int? = nil) throws -> String {
            let f = dir.appendingPathComponent(name)
            try fm.createDirectory(at: f, withIntermediateDirectories: true)
            for i in frames {
                let source =
                    i == odd
                    ? ModelFixtures.url("images/exif1.jpg").path : "\(Self.frames)/\(TrackingOutput.frameName(i)).jpg"
                try fm.copyItem(
                    atPath: source, toPath: f.appendingPathComponent("\(TrackingOutput.frameName(i)).jpg").path)
            }
            return f.path
        }
        let video: String
        switch videoName {
        case "EMPTY": video = try folder("empty", frames: [])
        case "GAP": video = try folder("gap", frames: [0, 1, 3])
        case "MIXED": video = try folder("mixed", frames: [0, 1, 2], odd: 2)
        case "TEXT":
            video = dir.appendingPathComponent("notes.mp4").path
            try Data("not a video\n".utf8).write(to: URL(fileURLWithPath: video))
        case "AUDIO": video = ModelFixtures.url("video/audio_only.wav").path
        case "NOFRAMES": video = ModelFixtures.url("video/no_frames.mp4").path
        case "FRAMES": video = Self.frames
        case "CLIP": video = Self.clip
        default: video = videoName
        }
        let promptsDir = dir.appendingPathComponent("prompts")
        try fm.createDirectory(at: promptsDir, withIntermediateDirectories: true)
        try fm.copyItem(
            at: ModelFixtures.url("model/images/square.png"), to: promptsDir.appendingPathComponent("square.png"))
        try Data("not a PNG".utf8).write(to: promptsDir.appendingPathComponent("broken.png"))
        let prompts =
            promptsText == "OK"
            ? try Self.writeSessionPrompts(in: promptsDir)
            : promptsDir.appendingPathComponent("prompts.json")
        if promptsText != "OK" { try Data(promptsText.utf8).write(to: prompts) }
        let out = dir.appendingPathComponent("out")
        let r = try Self.track(video, prompts: prompts, output: out, extra)
        #expect(r.status == status, "case \(k): \(r.stderr)")
        #expect(r.stderr.contains(message), "case \(k): \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "case \(k): \(r.stderr)")
        #expect(r.stdout.isEmpty)
        #expect(!fm.fileExists(atPath: out.path), "case \(k): output written")
    }
}
