// VideoWriter: RGB frames encoded into a video file through libavcodec and libavformat — H.264 (libx264)
// where this system's libavcodec has it, else MPEG-4 Part 2, which every libavcodec can encode — written
// under a temporary name and renamed into place by `finish`, so that an interrupted run leaves no
// half-written video.

import CFFmpeg
import Foundation
import SAM2

public enum VideoWriterError: Error, CustomStringConvertible, Equatable {
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotWrite(let path, let reason): return "cannot write video '\(path)': \(reason)"
        }
    }
}

public final class VideoWriter {
    public let url: URL
    public let width: Int
    public let height: Int
    /// The encoder used ("libx264", or "mpeg4" where there is no H.264 encoder).
    public let codec: String
    private var writer: UnsafeMutablePointer<sam2_video_writer>?
    private let temporary: URL

    /// Starts `url` (.mp4, .mov, .mkv or .webm-less containers by extension; .mp4 otherwise) for frames of
    /// `width`×`height` at `framesPerSecond`.
    public init(url: URL, width: Int, height: Int, framesPerSecond: Double) throws {
        self.url = url
        self.width = width
        self.height = height
        temporary = AtomicFile.temporaryURL(for: url)
        let container: String
        switch url.pathExtension.lowercased() {
        case "mkv": container = "matroska"
        case "mov": container = "mov"
        default: container = "mp4"
        }
        let rate = framesPerSecond.isFinite && framesPerSecond > 0 ? framesPerSecond : 30
        let (num, den) = (Int32((rate * 1000).rounded()), Int32(1000))
        var name: UnsafePointer<CChar>?
        var message = [CChar](repeating: 0, count: Int(SAM2_AV_ERRBUF_SIZE))
        let status = sam2_video_writer_open(
            temporary.path, container, Int32(width), Int32(height), num, den, &name, &writer, &message)
        guard status == 0 else {
            unlink(temporary.path)
            throw VideoWriterError.cannotWrite(path: url.path, reason: cText(message))
        }
        codec = name.map { String(cString: $0) } ?? "?"
    }

    deinit {
        if let writer {
            var message = [CChar](repeating: 0, count: Int(SAM2_AV_ERRBUF_SIZE))
            _ = sam2_video_writer_finish(writer, &message)
            unlink(temporary.path)
        }
    }

    /// Encodes the next frame (of the writer's size).
    public func append(_ image: RGBImage) throws {
        guard let writer else { throw VideoWriterError.cannotWrite(path: url.path, reason: "already finished") }
        guard image.width == width && image.height == height else {
            throw VideoWriterError.cannotWrite(
                path: url.path, reason: "a frame of \(image.width)×\(image.height) in a \(width)×\(height) video")
        }
        var message = [CChar](repeating: 0, count: Int(SAM2_AV_ERRBUF_SIZE))
        guard sam2_video_writer_write(writer, image.pixels, &message) == 0 else {
            throw VideoWriterError.cannotWrite(path: url.path, reason: cText(message))
        }
    }

    /// Flushes the encoder, closes the file and renames it into place.
    public func finish() throws {
        guard let writer else { return }
        self.writer = nil
        var message = [CChar](repeating: 0, count: Int(SAM2_AV_ERRBUF_SIZE))
        guard sam2_video_writer_finish(writer, &message) == 0 else {
            unlink(temporary.path)
            throw VideoWriterError.cannotWrite(path: url.path, reason: cText(message))
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary.path)
            throw VideoWriterError.cannotWrite(path: url.path, reason: reason)
        }
    }
}
