// Video files (MP4 / H.264 and whatever the system's libavformat + libavcodec decode) as a frame
// source for the tracker. Opening decodes the stream once to count and check its frames, keeping
// only each frame's timestamp and key-frame flag; frames are then decoded again on demand, in
// order, with a small cache, and a request for an earlier frame seeks back to the key frame before
// it (reverse propagation), so memory stays bounded whatever the video's length.

import CFFmpeg
import Foundation
import SAM2

/// The frames of a video file, decoded lazily and converted to 8-bit RGB with libswscale.
public final class VideoFileFrames: VideoFrameSource, @unchecked Sendable {
    public let url: URL
    public let frameCount: Int
    public let width: Int
    public let height: Int
    /// The stream's frame rate (nil when the container does not say).
    public let framesPerSecond: Double?
    /// Frames kept decoded at most.
    public let cacheCapacity: Int

    /// Each frame's timestamp, when every frame has one and they increase (else frames are found by
    /// decoding from the start).
    private let timestamps: [Int64]?
    private let indexOfTimestamp: [Int64: Int]
    /// Indices of the frames the decoder flagged as key frames, ascending.
    private let keyFrames: [Int]
    /// Everything below is touched only with `lock` held (the decoder is not thread-safe).
    private let lock = NSLock()
    private var decoder: UnsafeMutablePointer<sam2_video>?
    /// Index of the frame the decoder will produce next, when known.
    private var position: Int?
    private var cache: [Int: RGBImage] = [:]

    /// Opens `url`, decodes every frame once to count them and check that they share one size.
    /// `cacheCapacity`: frames kept decoded (default: as many as fit in `cacheBytes`, at most 32).
    public init(
        url: URL, cacheCapacity: Int? = nil, cacheBytes: Int = 256 << 20, limits: ImageLimits = ImageLimits()
    ) throws {
        self.url = url
        let decoder = try Self.open(url)
        defer { sam2_video_close(decoder) }
        // The stream's declared size, before a frame is decoded; each decoded frame is checked too.
        try limits.check(
            frameWidth: Int(decoder.pointee.codec.pointee.width), height: Int(decoder.pointee.codec.pointee.height),
            of: url.path)
        var timestamps: [Int64] = []
        var keyFrames: [Int] = []
        var size: (Int, Int)?
        while let frame = try Self.next(decoder, path: url.path, index: timestamps.count) {
            try limits.check(frameWidth: frame.width, height: frame.height, of: url.path)
            if let size, size != (frame.width, frame.height) {
                throw VideoError.videoSizeChanges(
                    path: url.path, frame: timestamps.count, found: (frame.width, frame.height), expected: size)
            }
            size = (frame.width, frame.height)
            if frame.key { keyFrames.append(timestamps.count) }
            timestamps.append(frame.pts)
        }
        guard let size, size.0 > 0, size.1 > 0 else { throw VideoError.emptyVideo(url.path) }
        var num: Int32 = 0
        var den: Int32 = 1
        sam2_video_frame_rate(decoder, &num, &den)
        framesPerSecond = num > 0 ? Double(num) / Double(den) : nil
        (width, height) = size
        frameCount = timestamps.count
        self.cacheCapacity = max(1, cacheCapacity ?? min(32, cacheBytes / (size.0 * size.1 * 3)))
        let reliable = !timestamps.contains(Int64.min) && zip(timestamps, timestamps.dropFirst()).allSatisfy { $0 < $1 }
        self.timestamps = reliable ? timestamps : nil
        indexOfTimestamp = reliable ? Dictionary(uniqueKeysWithValues: timestamps.enumerated().map { ($1, $0) }) : [:]
        self.keyFrames = reliable ? keyFrames : []
    }

    deinit {
        sam2_video_close(decoder)
    }

    public func frame(_ index: Int) throws -> RGBImage {
        precondition(index >= 0 && index < frameCount, "frame \(index) of \(frameCount)")
        lock.lock()
        defer { lock.unlock() }
        if let cached = cache[index] { return cached }
        try reposition(for: index)
        var retried = false
        while true {
            guard let decoder, let frame = try Self.next(decoder, path: url.path, index: position ?? 0) else {
                throw VideoError.frameUnavailable(path: url.path, frame: index, count: frameCount)
            }
            // Which frame this is: by its timestamp, else by counting from the start.
            let found = timestamps == nil ? position : indexOfTimestamp[frame.pts]
            guard let found, found <= index, frame.width == width, frame.height == height else {
                // The seek landed past the frame or on a frame not seen when counting: decode from the start.
                guard !retried else {
                    throw VideoError.frameUnavailable(path: url.path, frame: index, count: frameCount)
                }
                retried = true
                try rewind()
                continue
            }
            position = found + 1
            if found > index - cacheCapacity {
                try store(found, near: index)
            }
            if found == index { return cache[index]! }
        }
    }

    // MARK: Decoding

    /// Puts the decoder where decoding forward reaches `index` soonest.
    private func reposition(for index: Int) throws {
        guard let timestamps else {
            if position.map({ $0 > index }) ?? true { try rewind() }
            return
        }
        // The last key frame at or before `index`; seek there unless decoding on from here is as short.
        let key = keyFrames.last(where: { $0 <= index }) ?? 0
        if let position, decoder != nil, position <= index, position >= key { return }
        if decoder == nil { decoder = try Self.open(url) }
        var message = [CChar](repeating: 0, count: Int(SAM2_AV_ERRBUF_SIZE))
        guard sam2_video_seek(decoder, timestamps[key], &message) == 0 else {
            try rewind()
            return
        }
        position = nil
    }

    /// Reopens the file so that decoding starts again at frame 0.
    private func rewind() throws {
        sam2_video_close(decoder)
        decoder = nil
        decoder = try Self.open(url)
        position = 0
    }

    /// Converts the decoder's current frame to RGB and caches it, evicting the frames farthest from `index`.
    private func store(_ found: Int, near index: Int) throws {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        var message = [CChar](repeating: 0, count: Int(SAM2_AV_ERRBUF_SIZE))
        guard sam2_video_rgb(decoder, &pixels, &message) == 0 else {
            throw VideoError.decodeFailed(path: url.path, frame: found, reason: cText(message))
        }
        cache[found] = RGBImage(width: width, height: height, pixels: pixels)
        while cache.count > cacheCapacity {
            let farthest = cache.keys.max { abs($0 - index) < abs($1 - index) }!
            cache[farthest] = nil
        }
    }

    private static func open(_ url: URL) throws -> UnsafeMutablePointer<sam2_video> {
        var video: UnsafeMutablePointer<sam2_video>?
        var message = [CChar](repeating: 0, count: Int(SAM2_AV_ERRBUF_SIZE))
        let status = sam2_video_open(url.path, &video, &message)
        let text = cText(message)
        switch status {
        case 0: return video!
        case SAM2_AV_NO_VIDEO_STREAM: throw VideoError.noVideoStream(url.path)
        case SAM2_AV_NO_DECODER: throw VideoError.noDecoder(path: url.path, codec: text)
        default: throw VideoError.cannotOpenVideo(path: url.path, reason: text)
        }
    }

    /// The next decoded frame's timestamp, key flag and size; nil at the end of the stream.
    static func next(_ decoder: UnsafeMutablePointer<sam2_video>, path: String, index: Int) throws -> (
        pts: Int64, key: Bool, width: Int, height: Int
    )? {
        var pts: Int64 = 0
        var key: Int32 = 0
        var width: Int32 = 0
        var height: Int32 = 0
        var message = [CChar](repeating: 0, count: Int(SAM2_AV_ERRBUF_SIZE))
        let status = sam2_video_next(decoder, &pts, &key, &width, &height, &message)
        if status < 0 { throw VideoError.decodeFailed(path: path, frame: index, reason: cText(message)) }
        return status == 0 ? nil : (pts, key != 0, Int(width), Int(height))
    }
}
