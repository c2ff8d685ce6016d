// Video files through libavformat/libavcodec/libswscale: the committed H.264 clip
// (tools/reference/make_video_file_fixture.py) decodes to the frames PyAV decodes, in any access
// order (forward, reverse with seeks back to key frames, random), and bad files fail with one line.

import Foundation
import Testing

@testable import SAM2
@testable import SAM2IO
@testable import SAM2Workflows

struct VideoFileFramesTests {
    static let clip = ModelFixtures.url("video/clip.mp4")

    /// PyAV's RGB frames of the clip (clip.mp4.rgb: 10 × 48 × 64 × 3 bytes).
    static func referenceFrames() throws -> [[UInt8]] {
        let bytes = [UInt8](try Data(contentsOf: ModelFixtures.url("video/clip.mp4.rgb")))
        let size = 48 * 64 * 3
        return stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<($0 + size)]) }
    }

    @Test func decodesTheFramesPyAVDecodes() throws {
        let video = try VideoFileFrames(url: Self.clip)
        #expect(video.frameCount == 10 && video.width == 64 && video.height == 48)
        let expected = try Self.referenceFrames()
        #expect(expected.count == 10)
        var worst = 0
        var differing = 0
        for i in 0..<video.frameCount {
            let frame = try video.frame(i)
            #expect(frame.width == 64 && frame.height == 48)
            for (a, b) in zip(frame.pixels, expected[i]) where a != b {
                worst = max(worst, abs(Int(a) - Int(b)))
                differing += 1
            }
        }
        print("video file: \(differing) of \(10 * 48 * 64 * 3) samples differ from PyAV's, by at most \(worst)")
        #expect(worst <= 1)
    }

    @Test func anyAccessOrderGivesTheSameFrames() throws {
        let forward = try VideoFileFrames(url: Self.clip)
        let frames = try (0..<10).map { try forward.frame($0) }
        // A fresh source per order, so that each starts with nothing cached; caches of 1 and 3 frames
        // make reverse access seek back to the key frames (0, 4, 8) again and again.
        for capacity in [nil, 1, 3] {
            let reverse = try VideoFileFrames(url: Self.clip, cacheCapacity: capacity)
            for i in (0..<10).reversed() {
                #expect(try reverse.frame(i) == frames[i], "reverse \(i), cache \(String(describing: capacity))")
            }
            let random = try VideoFileFrames(url: Self.clip, cacheCapacity: capacity)
            for i in [7, 2, 9, 0, 5, 4, 8, 1, 3, 6, 6, 0] {
                #expect(try random.frame(i) == frames[i], "random \(i), cache \(String(describing: capacity))")
            }
        }
    }

    @Test func initStatePicksFolderOrFile() throws {
        let predictor = SAM2VideoPredictor(model: try ModelFixtures.smallModel("2.1"))
        try predictor.initState(video: Self.clip)
        #expect(predictor.frameCount == 10 && predictor.videoSize == (64, 48))
        try predictor.initState(video: ModelFixtures.url("video/frames"))
        #expect(predictor.frameCount == 10 && predictor.videoSize == (64, 48))
    }

    @Test func badFilesFailWithOneLineNamingTheFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sam2-video-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = dir.appendingPathComponent("notes.mp4")
        try Data("not a video at all\n".utf8).write(to: text)
        let cases: [(URL, String)] = [
            (dir.appendingPathComponent("missing.mp4"), "cannot open video"),
            (text, "cannot open video"),
            (ModelFixtures.url("video/audio_only.wav"), "has no video stream"),
            (ModelFixtures.url("video/no_frames.mp4"), "has no frames"),
        ]
        for (url, message) in cases {
            do {
                _ = try openVideo(url)
                Issue.record("\(url.lastPathComponent) opened")
            } catch {
                let text = String(describing: error)
                #expect(text.contains(message) && text.contains(url.path) && !text.contains("\n"), "\(text)")
            }
        }
    }

    /// Odd and even frame sizes (tools/reference/make_video_size_fixtures.py): libswscale's SIMD wrote
    /// past the end of packed RGB rows of 600×400 and 2×2 frames, corrupting the heap; every size
    /// decodes to what PyAV decodes (sampled: channel means and, where the codec is bit-exact, nine
    /// pixels per frame).
    @Test func everyFrameSizeDecodesToPyAVsFrames() throws {
        struct Sample: Decodable {
            var mean: [Double]
            var pixels: [[Int]]
        }
        struct Record: Decodable {
            var file: String
            var width: Int
            var height: Int
            var exact: Bool
            var frames: [Sample]
        }
        let dir = ModelFixtures.url("video/sizes")
        let records = try JSONDecoder().decode(
            [Record].self, from: Data(contentsOf: dir.appendingPathComponent("sizes.json")))
        #expect(records.count >= 16)
        for record in records {
            let video = try VideoFileFrames(url: dir.appendingPathComponent(record.file))
            #expect(
                video.width == record.width && video.height == record.height && video.frameCount == record.frames.count,
                "\(record.file)")
            for (i, expected) in record.frames.enumerated() {
                let frame = try video.frame(i)
                for c in 0..<3 {
                    let mean =
                        stride(from: c, to: frame.pixels.count, by: 3).reduce(0.0) { $0 + Double(frame.pixels[$1]) }
                        / Double(frame.width * frame.height)
                    #expect(
                        abs(mean - expected.mean[c]) <= 0.5,
                        "\(record.file) frame \(i) channel \(c): mean \(mean), PyAV \(expected.mean[c])")
                }
                for p in expected.pixels where record.exact {
                    let at = (p[1] * frame.width + p[0]) * 3
                    let found = frame.pixels[at..<(at + 3)].map(Int.init)
                    #expect(
                        zip(found, p[2...]).allSatisfy { abs($0 - $1) <= 1 },
                        "\(record.file) frame \(i) pixel (\(p[0]), \(p[1])): \(found), PyAV \(Array(p[2...]))")
                }
            }
        }
    }
}
