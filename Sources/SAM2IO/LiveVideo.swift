// LiveVideo: frames of a live source as they arrive — standard input ("-": concatenated JPEGs, y4m,
// any container libavformat probes), a URL libavformat opens (rtsp://, http://, udp://, …), or a capture
// device (/dev/video0 through libavdevice's v4l2 input) — decoded in order, once, without knowing the
// length. Data that does not decode is an error here (a stream that breaks off or turns to garbage),
// unlike a file's damage, which VideoFileFrames skips.

import CFFmpeg
import Foundation
import SAM2

/// A stop request for a live source, given to it when it is opened: `fire` (any thread, even before or
/// during the open) makes a blocking open or read return at once.
public final class VideoInterrupt: @unchecked Sendable {
    let flag: UnsafeMutablePointer<Int32>

    public init() {
        flag = .allocate(capacity: 1)
        flag.initialize(to: 0)
    }

    deinit { flag.deallocate() }

    public func fire() { sam2_video_interrupt(flag) }

    public var isFired: Bool { sam2_video_interrupted(flag) != 0 }
}

public final class LiveVideo: @unchecked Sendable {
    /// What was opened: "-" (standard input), a URL or a path.
    public let source: String
    public let limits: ImageLimits
    /// The frame size the source announces before its first frame, when it does.
    public let declaredSize: (width: Int, height: Int)?
    /// Frames decoded so far.
    public private(set) var decoded = 0

    private enum Backend {
        /// Concatenated JPEG files on standard input, split here and decoded as a folder's frames are.
        case jpeg(JPEGStream)
        /// Anything libavformat opens.
        case libav(UnsafeMutablePointer<sam2_video>)
    }

    private let backend: Backend
    /// Kept alive as long as the decoder reads its flag.
    private let interruption: VideoInterrupt
    private var size: (width: Int, height: Int)?

    /// Opens `source`; `inputFormat` forces a libavformat demuxer or device ("video4linux2", "mjpeg",
    /// "yuv4mpegpipe", …); a path under /dev/video is taken as a V4L2 device unless told otherwise.
    /// Standard input is told apart by its first bytes: concatenated JPEGs, or anything libavformat probes.
    public init(
        _ source: String, inputFormat: String? = nil, limits: ImageLimits = ImageLimits(),
        interrupt: VideoInterrupt = VideoInterrupt()
    ) throws {
        self.source = source
        self.limits = limits
        interruption = interrupt
        let name = Self.name(source)
        var video: UnsafeMutablePointer<sam2_video>?
        var message = [CChar](repeating: 0, count: Int(SAM2_AV_ERRBUF_SIZE))
        let status: Int32
        if source == "-" {
            let head = try Self.readHead(interrupt: interrupt, name: name)
            if inputFormat == nil && head.starts(with: [0xFF, 0xD8, 0xFF]) {
                backend = .jpeg(JPEGStream(fd: 0, head: head, interrupt: interrupt))
                declaredSize = nil
                return
            }
            status = sam2_video_open_fd(0, head, Int32(head.count), inputFormat, interrupt.flag, &video, &message)
        } else {
            let format = inputFormat ?? (source.hasPrefix("/dev/video") ? "video4linux2" : nil)
            status = sam2_video_open_input(source, format, 1, interrupt.flag, nil, &video, &message)
        }
        if interrupt.isFired {
            sam2_video_close(video)
            throw VideoError.cannotOpenVideo(path: name, reason: "stopped")
        }
        switch status {
        case 0: backend = .libav(video!)
        case SAM2_AV_NO_VIDEO_STREAM: throw VideoError.noVideoStream(name)
        case SAM2_AV_NO_DECODER: throw VideoError.noDecoder(path: name, codec: cText(message))
        default: throw VideoError.cannotOpenVideo(path: name, reason: cText(message))
        }
        let (w, h) = (Int(video!.pointee.codec.pointee.width), Int(video!.pointee.codec.pointee.height))
        if w > 0 && h > 0 {
            try limits.check(frameWidth: w, height: h, of: name)
            declaredSize = (w, h)
        } else {
            declaredSize = nil
        }
    }

    deinit {
        if case .libav(let decoder) = backend { sam2_video_close(decoder) }
    }

    /// How a source is named in messages ("-" is standard input).
    static func name(_ source: String) -> String { source == "-" ? "standard input" : source }

    /// The first bytes of standard input (up to 16: fewer when it ends first), which tell its format.
    private static func readHead(interrupt: VideoInterrupt, name: String) throws -> [UInt8] {
        var head: [UInt8] = []
        var byte: UInt8 = 0
        while head.count < 16 && !interrupt.isFired {
            var ready = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 100) > 0 else { continue }
            let n = read(0, &byte, 1)
            if n == 1 {
                head.append(byte)
            } else if n == 0 {
                break
            } else if errno != EINTR && errno != EAGAIN {
                throw VideoError.cannotOpenVideo(path: name, reason: String(cString: strerror(errno)))
            }
        }
        guard !head.isEmpty || interrupt.isFired else { throw VideoError.emptyVideo(name) }
        return head
    }

    /// The next frame; nil at the end of the stream or after `interrupt`. Throws when the stream
    /// breaks off mid-frame or holds data that does not decode, or when the frame size changes.
    public func next() throws -> RGBImage? {
        let name = Self.name(source)
        let image: RGBImage
        switch backend {
        case .jpeg(let stream):
            let data: Data?
            do {
                data = try stream.next()
            } catch let failure as JPEGStream.Failure {
                if interruption.isFired { return nil }
                throw VideoError.decodeFailed(path: name, frame: decoded, reason: failure.reason)
            }
            guard let data else { return nil }
            do {
                image = try ImageIO.decodeFrame(data, name: "\(name) frame \(decoded)", limits: limits)
            } catch let error as ImageIOError {
                throw VideoError.decodeFailed(path: name, frame: decoded, reason: "\(error)")
            }
        case .libav(let decoder):
            let frame: (pts: Int64, key: Bool, width: Int, height: Int)?
            do {
                frame = try VideoFileFrames.next(decoder, path: name, index: decoded)
            } catch {
                if interruption.isFired { return nil }
                throw error
            }
            guard let frame, !interruption.isFired else { return nil }
            try limits.check(frameWidth: frame.width, height: frame.height, of: name)
            var pixels = [UInt8](repeating: 0, count: frame.width * frame.height * 3)
            var message = [CChar](repeating: 0, count: Int(SAM2_AV_ERRBUF_SIZE))
            guard sam2_video_rgb(decoder, &pixels, &message) == 0 else {
                throw VideoError.decodeFailed(path: name, frame: decoded, reason: cText(message))
            }
            image = RGBImage(width: frame.width, height: frame.height, pixels: pixels)
        }
        if let size, size != (image.width, image.height) {
            throw VideoError.videoSizeChanges(
                path: name, frame: decoded, found: (image.width, image.height), expected: size)
        }
        size = (image.width, image.height)
        decoded += 1
        return image
    }

    /// Makes a `next` blocked on the source (a pipe, a socket) return nil at once; safe from any thread.
    public func interrupt() {
        interruption.fire()
    }
}
