// VideoSession: one open video of the project — its frames (decoded lazily), a SAM2VideoPredictor with
// the objects' prompts and memory, every frame's masks so far (kept in PROJECT/.sam2 by VideoStore) and
// its tracking job (VideoTrackingJob). The predictor is used under `lock` while no job runs, and by the
// job alone while one runs; masks and progress have locks of their own, so that clients read them
// while a job runs.

import Foundation
import SAM2
import SAM2IO
import SAM2Workflows
import Synchronization

final class VideoSession: @unchecked Sendable {
    let id: String
    let name: String
    let frames: any VideoFrameSource
    let framesPerSecond: Double?
    let store: VideoStore
    /// Guards `predictor`, `prompts` and `replayed`, and the changes of `running`.
    private let lock = NSLock()
    private let predictor: SAM2VideoPredictor
    /// Every prompt given, in order: the kept state, replayed into a new predictor after a restart.
    private var prompts: [VideoPrompt]
    private var replayed: Bool
    /// True while a tracking job has the predictor (read without the lock; changed with it held).
    private let running = Atomic<Bool>(false)
    private let masks: Mutex<[Int: FrameMasks]>
    let job = VideoTrackingJob()
    /// Bytes last counted (decoded frames and tracking memory), for the cache.
    private let counted = Atomic<Int>(0)

    /// Opens `frames` with the state kept for the video, if any.
    init(id: String, name: String, frames: any VideoFrameSource, model: SAM2Model, store: VideoStore) throws {
        self.id = id
        self.name = name
        self.frames = frames
        framesPerSecond = (frames as? VideoFileFrames)?.framesPerSecond
        self.store = store
        predictor = SAM2VideoPredictor(model: model)
        try predictor.initState(frames: frames)
        let kept = try store.load(frames: frames.frameCount, width: frames.width, height: frames.height)
        prompts = kept.prompts
        replayed = kept.prompts.isEmpty
        masks = Mutex(kept.masks)
    }

    var info: VideoInfo {
        let (objects, prompts) = lock.withLock { (objectIDs, self.prompts) }
        return VideoInfo(
            id: id, name: name, frames: frames.frameCount, width: frames.width, height: frames.height,
            fps: framesPerSecond, objects: objects, tracked: masks.withLock { $0.keys.sorted() }, prompts: prompts)
    }

    /// Object ids in the order first prompted (`lock` held).
    private var objectIDs: [Int] {
        var ids: [Int] = []
        for p in prompts where !ids.contains(p.object) { ids.append(p.object) }
        return ids
    }

    /// A frame's masks; 404 for a frame without any yet.
    func masks(frame: Int) throws -> FrameMasks {
        guard (0..<frames.frameCount).contains(frame) else {
            throw APIError.notFound("frame \(frame) does not exist: '\(name)' has frames 0…\(frames.frameCount - 1)")
        }
        guard let found = masks.withLock({ $0[frame] }) else {
            throw APIError.notFound("frame \(frame) of '\(name)' has no masks yet: prompt or track it first")
        }
        return found
    }

    /// Every frame with masks, ascending.
    var allMasks: [FrameMasks] { masks.withLock { $0.values.sorted { $0.frame < $1.frame } } }

    /// Bytes held: decoded frames and the tracker's memory (as last counted when no job ran).
    var bytes: Int {
        let cached = (frames as? VideoFileFrames).map { $0.cacheCapacity * $0.width * $0.height * 3 } ?? 0
        if lock.try() {
            defer { lock.unlock() }
            if !running.load(ordering: .acquiring) { counted.store(predictor.cachedBytes, ordering: .relaxed) }
        }
        return cached + counted.load(ordering: .relaxed)
    }

    var isRunning: Bool { running.load(ordering: .acquiring) }

    // MARK: Prompts and objects

    /// Applies a prompt (checked by the predictor) and returns the frame's masks.
    func prompt(_ p: VideoPrompt) throws -> FrameMasks {
        try withPredictor {
            let result = try apply(p)
            prompts.append(p)
            try store.save(keptState)
            return try record(result)
        }
    }

    /// Stops tracking `object`: its prompts and masks are forgotten.
    func removeObject(_ object: Int) throws {
        try withPredictor {
            guard objectIDs.contains(object) else {
                throw APIError.notFound("no object \(object) in video '\(name)' (objects: \(objectIDs))")
            }
            try predictor.removeObject(object)
            prompts.removeAll { $0.object == object }
            try store.save(keptState)
            for var frame in allMasks where frame.objects.contains(where: { $0.id == object }) {
                frame.objects.removeAll { $0.id == object }
                try store.save(frame)
                masks.withLock { $0[frame.frame] = frame.objects.isEmpty ? nil : frame }
            }
        }
    }

    /// Forgets every object, prompt and mask of the video.
    func reset() throws {
        try withPredictor {
            predictor.resetState()
            prompts = []
            masks.withLock { $0 = [:] }
            try store.clear()
        }
    }

    /// Runs `body` with the predictor (kept prompts replayed into it first); 409 while a job tracks.
    private func withPredictor<T>(_ body: () throws -> T) throws -> T {
        try lock.withLock {
            guard !running.load(ordering: .acquiring) else {
                throw APIError(
                    409, "video '\(name)' is being tracked; wait for the job or cancel it (DELETE .../track)")
            }
            if !replayed {
                for p in prompts { _ = try apply(p) }
                replayed = true
            }
            return try body()
        }
    }

    private var keptState: KeptVideoState {
        KeptVideoState(frames: frames.frameCount, width: frames.width, height: frames.height, prompts: prompts)
    }

    private func apply(_ p: VideoPrompt) throws -> VideoFrameResult {
        guard (1...Self.maxObjectID).contains(p.object) else {
            throw APIError.badRequest("object id \(p.object) is not in 1…\(Self.maxObjectID)")
        }
        guard (0..<frames.frameCount).contains(p.frame) else {
            throw APIError.badRequest(
                "frame \(p.frame) does not exist: '\(name)' has frames 0…\(frames.frameCount - 1)")
        }
        let points = try (p.points ?? []).enumerated().map { i, xy -> SIMD2<Float> in
            guard xy.count == 2 else { throw APIError.badRequest("points[\(i)] has \(xy.count) numbers; give [x, y]") }
            return SIMD2(
                try AnnotationServer.coordinate(xy[0], "points[\(i)]"),
                try AnnotationServer.coordinate(xy[1], "points[\(i)]"))
        }
        guard points.count <= AnnotationServer.maxPoints else {
            throw APIError.badRequest("\(points.count) points; at most \(AnnotationServer.maxPoints)")
        }
        let box = try p.box.map { b -> SIMD4<Float> in
            guard b.count == 4 else { throw APIError.badRequest("box has \(b.count) numbers; give [x0, y0, x1, y1]") }
            return SIMD4(try b.map { try AnnotationServer.coordinate($0, "box") })
        }
        return try predictor.addPoints(
            frame: p.frame, object: p.object, points: points,
            labels: p.labels ?? Array(repeating: 1, count: points.count),
            box: box, clearOldPoints: p.clearOldPoints ?? true)
    }

    static let maxObjectID = 1_000_000

    /// Keeps a frame's result (in memory and on disk) and returns it as masks.
    @discardableResult
    private func record(_ result: VideoFrameResult) throws -> FrameMasks {
        let (h, w) = (result.masks.dim(1), result.masks.dim(2))
        let plane = h * w
        let objects = result.masks.withUnsafeBufferPointer { logits in
            result.objectIDs.enumerated().map { k, id -> ObjectMask in
                let rle = UncompressedRLE(
                    plane: UnsafeBufferPointer(rebasing: logits[(k * plane)..<((k + 1) * plane)]), height: h,
                    width: w, threshold: 0)
                let box = rle.boundingBox.map { [$0.x, $0.y, $0.width, $0.height] } ?? [0, 0, 0, 0]
                return ObjectMask(id: id, mask: COCORLE(rle), score: result.objectScores[k], area: rle.area, bbox: box)
            }
        }
        let frame = FrameMasks(frame: result.frameIndex, objects: objects)
        try store.save(frame)
        masks.withLock { $0[frame.frame] = frame }
        return frame
    }

    // MARK: Tracking

    /// Starts tracking in the background (409 when a job runs; 400 for a start frame that does not
    /// exist or a video without prompts): the prompts are applied again to a fresh state, then the frames
    /// tracked; `stopping` is polled after every frame, as is a cancel.
    func startTracking(_ request: TrackRequest, stopping: @escaping @Sendable () -> Bool) throws -> TrackStatus {
        if let n = request.maxFrames, n < 0 { throw APIError.badRequest("max_frames \(n) is negative") }
        if let s = request.start, !(0..<frames.frameCount).contains(s) {
            throw APIError.badRequest(
                "start frame \(s) does not exist: '\(name)' has frames 0…\(frames.frameCount - 1)")
        }
        return try lock.withLock {
            guard !running.load(ordering: .acquiring) else {
                throw APIError(
                    409, "video '\(name)' is being tracked; wait for the job or cancel it (DELETE .../track)")
            }
            guard !prompts.isEmpty else { throw APIError.badRequest(VideoPredictorError.noPrompts.description) }
            let reverse = request.reverse ?? false
            running.store(true, ordering: .releasing)
            replayed = true
            return job.start(start: request.start, reverse: reverse) { [self] in
                defer { lock.withLock { running.store(false, ordering: .releasing) } }
                // Afresh from the prompts, as `sam2 track` with the same prompts: a correction on a tracked
                // frame becomes a prompted frame, and a restarted server tracks as the first did.
                do {
                    predictor.resetState()
                    for p in prompts { _ = try apply(p) }
                } catch {
                    lock.withLock { replayed = false }
                    throw error
                }
                let order = try predictor.propagationOrder(
                    start: request.start, maxFrames: request.maxFrames, reverse: reverse)
                job.planned(start: order.first ?? request.start, total: order.count)
                try predictor.propagate(start: request.start, maxFrames: request.maxFrames, reverse: reverse) {
                    try record($0)
                    try job.frameDone(stopping: stopping)
                }
            }
        }
    }
}
