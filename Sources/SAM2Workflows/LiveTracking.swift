// LiveTracking: `sam2 track SOURCE` on a live source — frames tracked as they arrive (a reading thread
// decodes ahead; with `realtime`, frames that arrive while the tracker is busy are dropped instead of
// queued), prompts applied when their frame arrives, or every object found by the automatic mask
// generator (on the first frame, and every N frames for new ones); each frame's files written and its
// summary reported at once; a stop request finishes the frame in flight.

import Foundation
import SAM2
import SAM2IO
import Synchronization

public final class LiveTracking {
    public struct Options: Sendable {
        /// Drop frames that arrive while the tracker is busy (a camera), instead of reading them all.
        public var realtime = false
        /// Stop after this many tracked frames.
        public var maxFrames: Int?
        /// The stream's length, when known (a file piped in): the model's object-pointer encoding
        /// depends on it for videos under 16 frames. Unknown: a long video.
        public var expectedLength: Int?
        /// Segment and track everything: the generator's options (nil: prompts from a file).
        public var automatic: SAM2AutomaticMaskGenerator.Options?
        /// Run the generator again every N source frames and add the masks that overlap no object.
        public var automaticEvery: Int?
        /// Below this IoU with every tracked object, a generator's mask is a new object.
        public var newObjectIoU: Float = 0.3

        public init() {}
    }

    /// How a run ended: frames tracked and written, frames dropped, objects, and whether it was stopped.
    public struct Summary: Encodable, Sendable {
        public var frames = 0
        public var dropped = 0
        public var objects = 0
        public var stopped = false

        public init(stopped: Bool = false) { self.stopped = stopped }
    }

    /// Asked from any thread (a signal handler's thread) to finish the frame in flight and stop; give
    /// its `interrupt` to the `LiveVideo` so that a source waiting for data (even while it is being
    /// opened) returns at once.
    public final class Stop: Sendable {
        public let interrupt = VideoInterrupt()

        public init() {}

        public var isRequested: Bool { interrupt.isFired }

        public func request() { interrupt.fire() }
    }

    let model: SAM2Model
    let options: Options
    let prompts: [TrackingPrompt]
    let output: TrackingOutput

    /// `prompts` are applied when their frame (an index of the source's frames) arrives.
    public init(model: SAM2Model, options: Options, prompts: [TrackingPrompt], output: TrackingOutput) {
        self.model = model
        self.options = options
        self.prompts = prompts
        self.output = output
    }

    /// Tracks `source` until it ends, `stop` is requested or `maxFrames` are done; `onFrame` gets each
    /// frame's summary once its files are written. A source that breaks off throws after the frames
    /// before it are complete.
    public func run(
        source: LiveVideo, stop: Stop = Stop(), onFrame: (TrackedFrameSummary) throws -> Void
    ) throws -> Summary {
        let reader = FrameReader(source: source, dropWhenBusy: options.realtime)
        let stream = SAM2VideoStream(model: model, expectedLength: options.expectedLength)
        let generator = try options.automatic.map { try SAM2AutomaticMaskGenerator(model: model, options: $0) }
        var pending = prompts.sorted { $0.frame < $1.frame }[...]
        var summary = Summary()
        var lastAutomatic: Int?
        defer { reader.finish() }
        while !stop.isRequested, options.maxFrames.map({ summary.frames < $0 }) ?? true {
            guard let (index, image, dropped) = try reader.next(stop: stop) else { break }
            summary.dropped = dropped
            var result = try stream.push(image)
            // Prompts of this frame (or of frames dropped before it).
            while let prompt = pending.first, prompt.frame <= index {
                pending.removeFirst()
                result = try apply(prompt, to: stream, image: image)
            }
            if let generator,
                lastAutomatic == nil || options.automaticEvery.map({ index - lastAutomatic! >= $0 }) == true
            {
                lastAutomatic = index
                let found = try stream.addAutomaticObjects(
                    using: generator, current: result, newObjectIoU: options.newObjectIoU)
                if var frame = found.result {
                    // On the frame it was found, a new object's mask is the generator's (logits ±10, as a
                    // mask prompt is scored), not that mask after the model's resampling to 256².
                    let plane = image.width * image.height
                    frame.masks.withUnsafeMutableBufferPointer { logits in
                        for (id, mask) in found.added {
                            guard let k = frame.objectIDs.firstIndex(of: id) else { continue }
                            for i in 0..<plane { logits[k * plane + i] = mask[i] != 0 ? 10 : -10 }
                        }
                    }
                    result = frame
                }
            }
            guard var frame = result else { continue }  // nothing to track yet
            frame.frameIndex = index
            var written = try output.write(frame, image: output.render == nil ? nil : image)
            written.dropped = options.realtime ? dropped : nil
            summary.frames += 1
            summary.objects = frame.objectIDs.count
            try onFrame(written)
        }
        summary.stopped = stop.isRequested
        if !summary.stopped, let error = reader.error { throw error }
        try output.finish()
        return summary
    }

    private func apply(_ p: TrackingPrompt, to stream: SAM2VideoStream, image: RGBImage) throws -> VideoFrameResult {
        if let mask = p.mask {
            guard mask.count == image.width * image.height else {
                throw TrackingPromptError(
                    description: "the mask prompt of object \(p.object) on frame \(p.frame) is not the stream's "
                        + "\(image.width)×\(image.height)")
            }
            return try stream.addMask(object: p.object, mask: mask, width: image.width, height: image.height)
        }
        return try stream.addPoints(object: p.object, points: p.points, labels: p.labels, box: p.box)
    }
}

/// Decodes a live source on its own thread, one frame ahead: without `dropWhenBusy` it waits for the
/// tracker to take each frame; with it, a newer frame replaces one not yet taken (counted as dropped).
final class FrameReader: @unchecked Sendable {
    private let condition = NSCondition()
    private var slot: (index: Int, image: RGBImage)?
    private var done = false
    private var dropped = 0
    private(set) var error: Error?
    private let thread: Thread
    private let source: LiveVideo

    init(source: LiveVideo, dropWhenBusy: Bool) {
        self.source = source
        let box = Box()
        thread = Thread { box.reader?.read(source, dropWhenBusy: dropWhenBusy) }
        box.reader = self
        thread.start()
    }

    private final class Box: @unchecked Sendable { weak var reader: FrameReader? }

    private func read(_ source: LiveVideo, dropWhenBusy: Bool) {
        do {
            while let image = try source.next() {
                let index = source.decoded - 1
                condition.lock()
                while slot != nil && !dropWhenBusy && !done { condition.wait() }
                if done {
                    condition.unlock()
                    return
                }
                if slot != nil { dropped += 1 }
                slot = (index, image)
                condition.broadcast()
                condition.unlock()
            }
        } catch {
            condition.lock()
            self.error = error
            condition.unlock()
        }
        condition.lock()
        done = true
        condition.broadcast()
        condition.unlock()
    }

    /// The next frame and the frames dropped so far; nil at the end of the source or when stopped.
    func next(stop: LiveTracking.Stop) throws -> (Int, RGBImage, Int)? {
        condition.lock()
        defer { condition.unlock() }
        while slot == nil && !done && !stop.isRequested {
            _ = condition.wait(until: Date().addingTimeInterval(0.1))
        }
        guard let frame = slot else { return nil }
        slot = nil
        condition.broadcast()
        return (frame.index, frame.image, dropped)
    }

    /// Lets the reading thread end (a read blocked on the source returns).
    func finish() {
        source.interrupt()
        condition.lock()
        done = true
        condition.broadcast()
        condition.unlock()
    }
}
