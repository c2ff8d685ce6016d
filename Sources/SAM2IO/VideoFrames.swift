// Video frames for the tracker from files: a folder of integer-named JPEG frames (`00000.jpg`, …) or a
// video file (VideoFileFrames.swift), decoded lazily one frame at a time (reference: `load_video_frames`
// in sam2/utils/misc.py; the resize and normalisation are SAM2's `videoFrameInput`).

import Foundation
import SAM2
import SAM2Checkpoint

public enum VideoError: Error, CustomStringConvertible, Equatable {
    case notAFolder(String)
    case noFrames(String)
    case badFrameName(folder: String, name: String)
    case missingFrame(folder: String, index: Int, next: Int)
    case mixedSizes(path: String, found: (Int, Int), expected: (Int, Int))
    case unreadableHeader(String)
    case cannotOpenVideo(path: String, reason: String)
    case noVideoStream(String)
    case noDecoder(path: String, codec: String)
    case emptyVideo(String)
    case videoSizeChanges(path: String, frame: Int, found: (Int, Int), expected: (Int, Int))
    case decodeFailed(path: String, frame: Int, reason: String)
    case frameUnavailable(path: String, frame: Int, count: Int)
    case framesTooLarge(path: String, width: Int, height: Int, limits: ImageLimits)

    public var description: String {
        switch self {
        case .notAFolder(let p): return "video '\(p)' is neither a folder of JPEG frames nor a video file"
        case .noFrames(let p): return "no JPEG frames (<index>.jpg) in '\(p)'"
        case .badFrameName(let folder, let name):
            return "frame '\(name.oneLine(limit: 200))' in '\(folder)' is not named by an integer "
                + "(expected e.g. 00000.jpg)"
        case .missingFrame(let folder, let index, let next):
            return "frames in '\(folder)' have a gap: frame \(index) is missing before frame \(next)"
        case .mixedSizes(let path, let found, let expected):
            return
                "frame '\(path)' is \(found.0)×\(found.1) but the first frame is \(expected.0)×\(expected.1): all "
                + "frames must have one size"
        case .unreadableHeader(let p): return "cannot read the size of frame '\(p)' (not a JPEG file?)"
        case .cannotOpenVideo(let p, let reason):
            return "cannot open video '\(p)': \(reason) (expected a folder of JPEG frames or a video file)"
        case .noVideoStream(let p): return "video '\(p)' has no video stream"
        case .noDecoder(let p, let codec):
            return "video '\(p)': no decoder for its \(codec) stream in this system's libavcodec"
        case .emptyVideo(let p): return "video '\(p)' has no frames"
        case .videoSizeChanges(let p, let frame, let found, let expected):
            return
                "video '\(p)': frame \(frame) is \(found.0)×\(found.1) but the first frame is "
                + "\(expected.0)×\(expected.1): all frames must have one size"
        case .decodeFailed(let p, let frame, let reason): return "video '\(p)': cannot decode frame \(frame): \(reason)"
        case .frameUnavailable(let p, let frame, let count):
            return
                "video '\(p)': frame \(frame) of \(count) could not be found again when decoding (unreliable "
                + "timestamps?)"
        case .framesTooLarge(let p, let width, let height, let limits):
            return
                "video '\(p)': its frames are \(width)×\(height) pixels, above the limit of "
                + "\(limits.maxPixels / 1_000_000) megapixels and \(limits.maxDimension) per side (--max-megapixels)"
        }
    }

    public static func == (a: VideoError, b: VideoError) -> Bool { a.description == b.description }
}

/// Opens a video for the tracker: a folder → its JPEG frames, anything else → a video file (keeping
/// decoded frames in up to `cacheBytes`). Frames over `limits` are refused before any is decoded.
public func openVideo(_ url: URL, limits: ImageLimits = ImageLimits(), cacheBytes: Int = 256 << 20) throws
    -> any VideoFrameSource
{
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
        return try JPEGFolderFrames(folder: url, limits: limits)
    }
    return try VideoFileFrames(url: url, cacheBytes: cacheBytes, limits: limits)
}

extension ImageLimits {
    /// Throws `framesTooLarge` for frames of `width`×`height` over the limits.
    func check(frameWidth width: Int, height: Int, of path: String) throws {
        guard width <= maxDimension, height <= maxDimension, width * height <= maxPixels else {
            throw VideoError.framesTooLarge(path: path, width: width, height: height, limits: self)
        }
    }
}

/// A folder of JPEG frames named by consecutive integers, the reference's video input.
public struct JPEGFolderFrames: VideoFrameSource {
    public let folder: URL
    public let paths: [URL]
    public let width: Int
    public let height: Int
    public var frameCount: Int { paths.count }

    /// Lists and checks the frames (names, no gaps, one size — from the JPEG headers only).
    public init(folder: URL, limits: ImageLimits = ImageLimits()) throws {
        self.folder = folder
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw VideoError.notAFolder(folder.path)
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { ["jpg", "jpeg"].contains(($0 as NSString).pathExtension.lowercased()) }
        var indexed: [(Int, String)] = []
        for name in names {
            guard let index = Int((name as NSString).deletingPathExtension), index >= 0 else {
                throw VideoError.badFrameName(folder: folder.path, name: name)
            }
            indexed.append((index, name))
        }
        indexed.sort { $0.0 < $1.0 }
        guard !indexed.isEmpty else { throw VideoError.noFrames(folder.path) }
        for (k, (index, _)) in indexed.enumerated() where index != indexed[0].0 + k {
            throw VideoError.missingFrame(folder: folder.path, index: indexed[0].0 + k, next: index)
        }
        paths = indexed.map { folder.appendingPathComponent($0.1) }
        let sizes = try paths.map { path -> (Int, Int) in
            guard let size = ImageHeader.jpegSize(try ImageIO.readData(path)).map({ ($0.width, $0.height) }) else {
                throw VideoError.unreadableHeader(path.path)
            }
            return size
        }
        (width, height) = sizes[0]
        try limits.check(frameWidth: width, height: height, of: folder.path)
        if let k = sizes.firstIndex(where: { $0 != sizes[0] }) {
            throw VideoError.mixedSizes(path: paths[k].path, found: sizes[k], expected: sizes[0])
        }
    }

    public func frame(_ index: Int) throws -> RGBImage {
        try ImageIO.readFrame(paths[index])
    }
}

extension SAM2VideoPredictor {
    /// Opens a video: a folder of integer-named JPEG frames, or a video file.
    public func initState(video url: URL) throws {
        try initState(frames: openVideo(url))
    }
}
