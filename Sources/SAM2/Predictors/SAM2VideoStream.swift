// SAM2VideoStream: tracking on frames that arrive one at a time (a camera, a pipe), without knowing
// the video's length: push a frame, prompt objects on the latest frame, get every object's masks
// on each new frame. Runs the video predictor's own tracking step, so on the same frames and
// prompts it gives what SAM2VideoPredictor's forward propagation gives.

import Foundation

/// The frames pushed so far; only the last few are kept (tracking needs the current frame).
final class StreamedFrames: VideoFrameSource, @unchecked Sendable {
    private let lock = NSLock()
    private var recent: [Int: RGBImage] = [:]
    private var count = 0
    let width: Int
    let height: Int
    let expectedLength: Int?

    init(width: Int, height: Int, expectedLength: Int?) {
        self.width = width
        self.height = height
        self.expectedLength = expectedLength
    }

    var frameCount: Int { lock.withLock { count } }

    /// Unknown lengths are taken as long videos: the memory then looks back on as many object
    /// pointers as the model allows.
    var trackedLength: Int { expectedLength ?? Int.max / 2 }

    func append(_ image: RGBImage) -> Int {
        lock.withLock {
            recent[count] = image
            recent[count - 3] = nil
            count += 1
            return count - 1
        }
    }

    func frame(_ index: Int) throws -> RGBImage {
        try lock.withLock {
            guard let image = recent[index] else { throw VideoStreamError.frameGone(index) }
            return image
        }
    }
}

public enum VideoStreamError: Error, CustomStringConvertible, Equatable {
    case noFrame
    case frameSize(found: [Int], expected: [Int])
    case frameGone(Int)

    public var description: String {
        switch self {
        case .noFrame: return "no frame has been pushed yet: push a frame before prompting"
        case .frameSize(let found, let expected):
            return "frame is \(found[0])×\(found[1]) but the stream's frames are \(expected[0])×\(expected[1])"
        case .frameGone(let i): return "frame \(i) is no longer kept by the stream: only the latest frames are"
        }
    }
}

public final class SAM2VideoStream {
    private let predictor: SAM2VideoPredictor
    private var frames: StreamedFrames?
    private let expectedLength: Int?

    /// `expectedLength`, when known, makes the results identical to the file-based path for videos
    /// shorter than the model's object-pointer window (16 frames); longer videos need nothing.
    public init(model: SAM2Model, expectedLength: Int? = nil, fillHoleArea: Int? = nil, nonOverlapMasks: Bool = false) {
        predictor = SAM2VideoPredictor(model: model, fillHoleArea: fillHoleArea, nonOverlapMasks: nonOverlapMasks)
        self.expectedLength = expectedLength
    }

    /// Index of the latest frame (nil before the first push).
    public var latestFrame: Int? { frames.map { $0.frameCount - 1 } }

    /// Adds the next frame and tracks every prompted object on it; nil while no object is prompted.
    public func push(_ image: RGBImage) throws -> VideoFrameResult? {
        if frames == nil {
            let source = StreamedFrames(width: image.width, height: image.height, expectedLength: expectedLength)
            try predictor.initState(frames: source)
            frames = source
        }
        let source = frames!
        guard image.width == source.width && image.height == source.height else {
            throw VideoStreamError.frameSize(
                found: [image.width, image.height], expected: [source.width, source.height])
        }
        let index = source.append(image)
        guard !predictor.objectIDs.isEmpty else { return nil }
        var result: VideoFrameResult?
        try predictor.propagate(start: index, maxFrames: 0) { result = $0 }
        // The next frame reads at most `memoryWindow` frames back: older outputs go (flat memory).
        predictor.forgetFrames(before: index + 1 - predictor.memoryWindow)
        return result
    }

    /// Points and/or a box for `object` on the latest frame.
    @discardableResult
    public func addPoints(
        object: Int, points: [SIMD2<Float>] = [], labels: [Int] = [], box: SIMD4<Float>? = nil,
        clearOldPoints: Bool = true
    ) throws -> VideoFrameResult {
        guard let frame = latestFrame else { throw VideoStreamError.noFrame }
        return try predictor.addPoints(
            frame: frame, object: object, points: points, labels: labels, box: box, clearOldPoints: clearOldPoints)
    }

    /// A mask for `object` on the latest frame.
    @discardableResult
    public func addMask(object: Int, mask: [UInt8], width: Int, height: Int) throws -> VideoFrameResult {
        guard let frame = latestFrame else { throw VideoStreamError.noFrame }
        return try predictor.addMask(frame: frame, object: object, mask: mask, width: width, height: height)
    }

    /// Segment and track everything: runs the automatic mask generator on the latest frame and adds
    /// as a new object (ids after the largest so far, in the generator's order) each mask whose IoU with
    /// every object tracked before (their masks in `current`, the latest frame's result) is below
    /// `newObjectIoU` (the generator's own box NMS has kept its masks apart).
    /// Returns the objects added with the generator's masks (H×W, 0/1) and, when any was, every object's
    /// masks on the frame.
    @discardableResult
    public func addAutomaticObjects(
        using generator: SAM2AutomaticMaskGenerator, current: VideoFrameResult?, newObjectIoU: Float = 0.3
    ) throws -> (added: [(id: Int, mask: [UInt8])], result: VideoFrameResult?) {
        guard let frames, let frame = latestFrame else { throw VideoStreamError.noFrame }
        let image = try frames.frame(frame)
        let plane = image.width * image.height
        var tracked: [[UInt8]] = []  // the objects' masks before this run
        if let current {
            current.masks.withUnsafeBufferPointer { logits in
                for k in 0..<current.objectIDs.count {
                    tracked.append((0..<plane).map { logits[k * plane + $0] > 0 ? 1 : 0 })
                }
            }
        }
        var nextID = (predictor.objectIDs.max() ?? 0) + 1
        var added: [(id: Int, mask: [UInt8])] = []
        var result: VideoFrameResult?
        for mask in try generator.generate(image) {
            let values = mask.rle.mask()
            guard tracked.allSatisfy({ Self.iou($0, values) < newObjectIoU }) else { continue }
            result = try addMask(object: nextID, mask: values, width: image.width, height: image.height)
            added.append((nextID, values))
            nextID += 1
        }
        return (added, result)
    }

    /// Intersection over union of two 0/1 masks (0 when both are empty).
    static func iou(_ a: [UInt8], _ b: [UInt8]) -> Float {
        var intersection = 0
        var union = 0
        for (x, y) in zip(a, b) {
            intersection += Int(x & y)
            union += Int(x | y)
        }
        return union == 0 ? 0 : Float(intersection) / Float(union)
    }

    public func removeObject(_ object: Int) throws {
        _ = try predictor.removeObject(object)
    }
}
