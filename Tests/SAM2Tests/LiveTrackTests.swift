// `sam2 track -` and other live sources (issue 14): the fixture clip piped in equals the folder path
// and the reference; SIGTERM on a slow pipe stops cleanly after the frame in flight; --auto tracks what
// the automatic mask generator finds on frame 0; a stream that breaks off or turns to garbage fails in
// one line after the frames before it, which stay complete.

import Foundation
import Testing

@testable import SAM2
@testable import SAM2IO
@testable import SAM2Workflows

@Suite(.serialized) struct LiveTrackTests {
    static let model = ["--checkpoint", CLI.checkpoint, "--config", CLI.config, "--quiet"]

    /// The fixture's JPEG frames concatenated, as `cat frames/*.jpg` gives them (MJPEG on a pipe).
    static func concatenatedFrames(in dir: URL, repeat times: Int = 1, tail: Data = Data()) throws -> URL {
        let frames = try FileManager.default.contentsOfDirectory(atPath: TrackCommandTests.frames).sorted()
        var stream = Data()
        for _ in 0..<times {
            for name in frames {
                stream += try Data(contentsOf: URL(fileURLWithPath: TrackCommandTests.frames + "/" + name))
            }
        }
        let url = dir.appendingPathComponent("stream.mjpeg")
        try (stream + tail).write(to: url)
        return url
    }

    static func logits(_ out: URL, objects: [Int], frame: Int) throws -> Tensor {
        let name = TrackingOutput.frameName(frame)
        let saved = try objects.map { try NPY.read(out.appendingPathComponent("\($0)/\(name).npy")) }
        return Tensor(shape: [objects.count] + saved[0].shape, scalars: saved.flatMap(\.values))
    }

    @Test func pipedClipEqualsTheFolderAndTheReference() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let prompts = try TrackCommandTests.writeSessionPrompts(in: dir)
        let stream = try Self.concatenatedFrames(in: dir)
        let folder = dir.appendingPathComponent("folder")
        let piped = dir.appendingPathComponent("piped")
        let common = ["--prompts", prompts.path, "--per-object", "--save-logits", "--json"] + Self.model
        let r1 = try CLI.run(["track", TrackCommandTests.frames, "--output", folder.path] + common)
        // The clip's length given (--frames 10): under 16 frames the model's pointer encoding depends on it.
        let r2 = try CLI.run(["track", "-", "--frames", "10", "--output", piped.path] + common, stdin: stream.path)
        #expect(r1.status == 0 && r2.status == 0, "\(r1.stderr) \(r2.stderr)")
        let lines = try TrackCommandTests.jsonLines(r2.stdout)
        #expect(lines.count == 11 && (lines.last!["summary"] as? [String: Any])?["frames"] as? Int == 10)
        let (ref, events) = try TrackCommandTests.session()
        let first = events[..<events.firstIndex { $0["type"] as? String == "propagated" }!].filter {
            $0["type"] as? String == "frame"
        }
        for event in first {
            let frame = event["frame"] as! Int
            let ours = try Self.logits(piped, objects: [1, 2], frame: frame)
            #expect(relativeL2(ours, try Self.logits(folder, objects: [1, 2], frame: frame)) <= 1e-5, "frame \(frame)")
            let expected = try ref["\(event["key"] as! String).video"]
            #expect(relativeL2(ours, expected) <= 1e-3 && maskIoUs(ours, expected).allSatisfy { $0 >= 0.995 })
        }
    }

    /// SIGTERM while a slow writer feeds the pipe: the frame in flight is finished, every PNG written is
    /// complete, the summary says stopped, exit 0; no temporary file is left.
    @Test func sigtermOnASlowPipeStopsCleanly() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let prompts = try TrackCommandTests.writeSessionPrompts(in: dir)
        let out = dir.appendingPathComponent("out")
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = ["track", "-", "--prompts", prompts.path, "--output", out.path, "--json"] + Self.model
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let frames = try FileManager.default.contentsOfDirectory(atPath: TrackCommandTests.frames).sorted()
        for name in frames.prefix(6) {
            input.fileHandleForWriting.write(
                try Data(contentsOf: URL(fileURLWithPath: TrackCommandTests.frames + "/" + name)))
            Thread.sleep(forTimeInterval: 0.3)
        }
        // Mid-stream: once the first frame is out (a loaded machine may take longer than the writes).
        var head = Data()
        while !head.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            head += chunk
        }
        process.terminate()  // SIGTERM; the pipe stays open, as a camera's would
        let text = String(decoding: head + output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try? input.fileHandleForWriting.close()
        #expect(process.terminationStatus == 0)
        let lines = try TrackCommandTests.jsonLines(text)
        let summary = lines.last!["summary"] as! [String: Any]
        #expect(summary["stopped"] as? Bool == true && (summary["frames"] as! Int) < 10)
        let written = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        #expect(written.count == lines.count - 1 && written.allSatisfy { !$0.hasPrefix(".") }, "\(written)")
        for name in written {
            let png = try ImageIO.readIndexedMask(out.appendingPathComponent(name))
            #expect(png.width == 64 && png.height == 48)
        }
    }

    /// --auto: as many objects as `sam2 auto` finds on frame 0 with the same options, and on frame 0
    /// each object's mask is the generator's.
    @Test func autoTracksWhatTheGeneratorFindsOnTheFirstFrame() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // The small random model's masks are few and alike: no thresholds, no box NMS, a 2×2 grid.
        let options = [
            "--points-per-side", "2", "--pred-iou-thresh", "0", "--stability-score-thresh", "0", "--box-nms-thresh",
            "1",
        ]
        let first = TrackCommandTests.frames + "/00000.jpg"
        let auto = try CLI.run(["auto", first, "--output-mode", "binary", "--json"] + options + Self.model)
        #expect(auto.status == 0, "\(auto.stderr)")
        let masks = (try TrackCommandTests.jsonLines(auto.stdout)[0]["masks"] as! [[String: Any]]).map {
            ($0["segmentation"] as! [[Int]]).joined().map { UInt8($0) }
        }
        #expect(masks.count > 1)
        let out = dir.appendingPathComponent("out")
        let r = try CLI.run(
            ["track", "-", "--auto", "--per-object", "--output", out.path, "--json"] + options + Self.model,
            stdin: try Self.concatenatedFrames(in: dir).path)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = try TrackCommandTests.jsonLines(r.stdout)
        #expect((lines[0]["objects"] as! [[String: Any]]).map { $0["id"] as! Int } == Array(1...masks.count))
        for (k, mask) in masks.enumerated() {
            let png = try ImageIO.readMask(out.appendingPathComponent("\(k + 1)/00000.png"))
            #expect(png.values == mask, "object \(k + 1)")
        }
    }

    /// --render: the video with the masks drawn over it, one frame per tracked frame, each frame the
    /// overlay of the frame's masks (up to the encoder's loss); from a folder and from a pipe.
    @Test func renderWritesTheOverlayVideo() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let prompts = try TrackCommandTests.writeSessionPrompts(in: dir)
        for (name, source, stdin) in [
            ("folder", TrackCommandTests.frames, "/dev/null"), ("pipe", "-", try Self.concatenatedFrames(in: dir).path),
        ] {
            let out = dir.appendingPathComponent(name)
            let video = dir.appendingPathComponent("\(name).mp4")
            let r = try CLI.run(
                [
                    "track", source, "--prompts", prompts.path, "--output", out.path, "--per-object", "--render",
                    video.path,
                ]
                    + Self.model, stdin: stdin)
            #expect(r.status == 0, "\(name): \(r.stderr)")
            let rendered = try VideoFileFrames(url: video)
            #expect(rendered.frameCount == 10 && rendered.width == 64 && rendered.height == 48, "\(name)")
            let frames = try JPEGFolderFrames(folder: URL(fileURLWithPath: TrackCommandTests.frames))
            for k in [0, 5, 9] {
                let masks = try [1, 2].map {
                    try ImageIO.readMask(out.appendingPathComponent("\($0)/\(TrackingOutput.frameName(k)).png")).values
                }
                let plain = try frames.frame(k)
                let expected = MaskRendering.overlay(plain, masks: masks)
                let got = try rendered.frame(k)
                func meanError(_ image: RGBImage) -> Double {
                    Double(zip(got.pixels, image.pixels).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) })
                        / Double(got.pixels.count)
                }
                // H.264 4:2:0 on a 64×48 frame of 1-pixel coloured outlines loses a lot; the frame without
                // its masks is still further away.
                #expect(
                    meanError(expected) < 20 && meanError(expected) < 0.8 * meanError(plain),
                    "\(name) frame \(k): \(meanError(expected)) to the overlay, \(meanError(plain)) to the frame")
            }
        }
    }

    /// A stream that turns to garbage, or breaks off mid-frame, after five good frames.
    @Test(arguments: ["garbage", "truncated"])
    func brokenStreamsFailInOneLineAfterCompleteFrames(_ kind: String) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let prompts = try TrackCommandTests.writeSessionPrompts(in: dir)
        let names = try FileManager.default.contentsOfDirectory(atPath: TrackCommandTests.frames).sorted()
        var stream = Data()
        for name in names.prefix(5) {
            stream += try Data(contentsOf: URL(fileURLWithPath: TrackCommandTests.frames + "/" + name))
        }
        let sixth = try Data(contentsOf: URL(fileURLWithPath: TrackCommandTests.frames + "/" + names[5]))
        var bytes = SystemRandomNumberGenerator()
        stream +=
            kind == "garbage"
            ? sixth.prefix(sixth.count / 2) + Data((0..<4096).map { _ in UInt8.random(in: 0...255, using: &bytes) })
            : sixth.prefix(sixth.count / 2)
        let file = dir.appendingPathComponent("broken.mjpeg")
        try stream.write(to: file)
        let out = dir.appendingPathComponent("out")
        let r = try CLI.run(
            ["track", "-", "--prompts", prompts.path, "--output", out.path, "--json"] + Self.model, stdin: file.path)
        #expect(r.status == 1 && r.stderr.split(separator: "\n").count == 1, "\(kind): \(r.status) \(r.stderr)")
        let written = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        #expect(written == (0..<5).map { TrackingOutput.frameName($0) + ".png" }, "\(kind): \(written)")
        for name in written { _ = try ImageIO.readIndexedMask(out.appendingPathComponent(name)) }
    }
}
