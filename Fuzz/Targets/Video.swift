// Fuzz target `video`: the bytes as a video file (VideoFileFrames: libavformat + libavcodec +
// swscale), its first, last and again first frame decoded. Seeds: the .mp4 fixtures.

import Foundation
import SAM2
import SAM2IO

extension FuzzTarget {
    static let video = FuzzTarget(
        name: "video", summary: "a video file, frames decoded (first, last, first again)", maxLength: 16 << 10,
        timeout: 30,
        seeds: { fixtures in
            try fixtures.files("Tests/SAM2Tests/Fixtures/video", extensions: ["mp4", "wav"], maxBytes: 16 << 10)
                + fixtures.files("Tests/SAM2Tests/Fixtures/video/sizes", extensions: ["mp4"], maxBytes: 16 << 10)
        },
        entry: { data, scratch in
            let video = try VideoFileFrames(url: scratch.file(data, name: "input"))
            try checkFrames(video, [0, video.frameCount - 1, 0])
            return "\(video.frameCount) frames of \(video.width)×\(video.height)"
        })

    /// Decodes `indices` of `source`; each must have the source's size.
    static func checkFrames(_ source: any VideoFrameSource, _ indices: [Int]) throws {
        for index in indices {
            let frame = try source.frame(index)
            guard frame.width == source.width, frame.height == source.height,
                frame.pixels.count == frame.width * frame.height * 3
            else {
                throw FuzzViolation(
                    "frame \(index) is \(frame.width)×\(frame.height), the video \(source.width)×\(source.height)")
            }
        }
    }
}
