// VideoMessages: the JSON bodies of the annotation server's video API (docs/openapi.yaml describes
// the same) and the records kept in PROJECT/.sam2/videos/ — prompts and each frame's masks (COCO RLE).

import Foundation
import SAM2
import SAM2IO
import SAM2Workflows

struct OpenVideoRequest: Decodable {
    var name: String
}

/// One prompt as the API takes it and the kept state stores it: clicks and/or a box for one object
/// on one frame, in pixels of the video.
struct VideoPrompt: Codable, Sendable, Equatable {
    var frame: Int
    var object: Int
    /// Double, so that a value past Float's range (1e39) is "out of range", not a decoding failure.
    var points: [[Double]]?
    var labels: [Int]?
    var box: [Double]?
    /// Replace the object's earlier clicks on the frame (default) or add to them.
    var clearOldPoints: Bool?
}

/// One object's mask on a frame.
struct ObjectMask: Codable, Sendable, Equatable {
    var id: Int
    var mask: COCORLE
    /// The object-presence logit (> 0: present); absent when the object has no output on the frame.
    var score: Float?
    var area: Int
    /// x, y, width, height of the mask's pixels ([0, 0, 0, 0] when empty).
    var bbox: [Int]
}

/// Every object's mask on one frame (`GET /api/videos/{id}/masks?frame=F`, and a file of the kept state).
struct FrameMasks: Codable, Sendable, Equatable {
    var frame: Int
    var objects: [ObjectMask]
}

struct VideoInfo: Encodable {
    var id: String
    var name: String
    var frames: Int
    var width: Int
    var height: Int
    /// Frames per second (absent when the container does not say, and for a folder of frames).
    var fps: Double?
    /// Object ids with prompts, in the order they were first prompted.
    var objects: [Int]
    /// Frames with masks (prompted or tracked), ascending.
    var tracked: [Int]
    var prompts: [VideoPrompt]
}

struct PromptResponse: Encodable {
    var frame: Int
    var object: Int
    var mask: COCORLE
    var score: Float?
    var area: Int
    var bbox: [Int]
    /// Every object's mask on the frame, the prompted one included.
    var objects: [ObjectMask]
}

struct TrackRequest: Decodable {
    /// Frame to start from (default: the first prompted frame).
    var start: Int?
    var reverse: Bool?
    /// At most this many frames after the start frame (default: to the end).
    var maxFrames: Int?
}

/// A video's tracking job: "idle" before any, then "running", "done", "cancelled" or "failed".
struct TrackStatus: Encodable, Sendable {
    var status = "idle"
    var done = 0
    /// Frames the job tracks (0 while it applies the prompts again).
    var total = 0
    /// Frames tracked per second so far.
    var fps = 0.0
    var start: Int?
    var reverse = false
    /// What went wrong ("failed").
    var error: String?
}

struct VideoExportRequest: Decodable {
    /// Any of "davis", "coco", "mp4" (default: all three).
    var formats: [String]?
}
