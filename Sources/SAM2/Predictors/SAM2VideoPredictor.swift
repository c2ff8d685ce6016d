// SAM2VideoPredictor (reference: sam2/sam2_video_predictor.py): prompts (points, boxes, masks) on
// frames for several objects, then propagation through the video frame by frame, each object
// tracked on its own with its memory bank, as the reference's per-object predictor does.

import Foundation
import SAM2Tensor

/// Masks of every object on one frame.
public struct VideoFrameResult: Sendable {
    public var frameIndex: Int
    /// Object ids, in the order they were first prompted.
    public var objectIDs: [Int]
    /// Mask logits at the video's resolution, [objects, H, W] (> 0 is inside).
    public var masks: Tensor
    /// Object-presence logits (> 0: present); nil for an object with no output on this frame.
    public var objectScores: [Float?]

    public init(frameIndex: Int, objectIDs: [Int], masks: Tensor, objectScores: [Float?]) {
        self.frameIndex = frameIndex
        self.objectIDs = objectIDs
        self.masks = masks
        self.objectScores = objectScores
    }
}

public enum VideoPredictorError: Error, CustomStringConvertible, Equatable {
    case noState
    case frameOutOfRange(Int, count: Int)
    case unknownObject(Int, known: [Int])
    case noPrompts
    case noPromptsForObject(Int)
    case pointsWithoutLabels
    case emptyPrompt
    case boxWithOldPoints
    case maskSize(found: [Int])
    case prompt(PredictorError)

    public var description: String {
        switch self {
        case .noState: return "no video is loaded: call initState(video:) first"
        case .frameOutOfRange(let f, let n): return "frame \(f) does not exist: the video has frames 0…\(n - 1)"
        case .unknownObject(let id, let known):
            return "object id \(id) is not tracked (known ids: \(known.map(String.init).joined(separator: ", ")))"
        case .noPrompts: return "no points, boxes or masks were given for any object: add prompts before propagating"
        case .noPromptsForObject(let id):
            return "object id \(id) has no prompt on any frame: add points, a box or a mask for it first"
        case .pointsWithoutLabels: return "points and labels must be given together, one label (0 or 1) per point"
        case .emptyPrompt: return "give at least points or a box"
        case .boxWithOldPoints:
            return "a box must come before any point on its frame: add it with clearOldPoints = true"
        case .maskSize(let s): return "mask prompt has shape \(s): expected a non-empty 2-D mask"
        case .prompt(let e): return e.description
        }
    }
}

public final class SAM2VideoPredictor {
    public let model: SAM2Model
    /// Holes of at most this many low-resolution pixels are filled in every mask (the reference's
    /// video builder sets 8).
    public var fillHoleArea: Int
    /// Keep only the highest-scoring object at each pixel of the output masks.
    public var nonOverlapMasks: Bool
    private var state: VideoState?

    public init(model: SAM2Model, fillHoleArea: Int? = nil, nonOverlapMasks: Bool = false) {
        self.model = model
        self.fillHoleArea = fillHoleArea ?? model.configuration.memory.fillHoleArea
        self.nonOverlapMasks = nonOverlapMasks
    }

    /// One tracked object: its prompts, its outputs (the memory bank) and where it has been tracked
    /// (the reference keeps each of these in a dictionary per object index).
    struct ObjectTrack {
        let id: Int
        /// Clicks and boxes per frame (`point_inputs_per_obj`).
        var pointInputs: [Int: PointInputs] = [:]
        /// Mask prompts per frame (`mask_inputs_per_obj`).
        var maskInputs: [Int: Tensor] = [:]
        /// Outputs that have joined the memory bank (`output_dict_per_obj`).
        var outputs = ObjectMemory()
        /// Outputs of prompts not yet propagated (`temp_output_dict_per_obj`).
        var temporary = ObjectMemory()
        /// Frames tracked, with the direction of that pass (`frames_tracked_per_obj`).
        var framesTracked: [Int: Bool] = [:]
    }

    /// The per-video inference state (`inference_state`).
    struct VideoState {
        let frames: any VideoFrameSource
        /// In the order the objects were first prompted.
        var objects: [ObjectTrack] = []
        var cachedFeatures: (frame: Int, features: FrameFeatures)?

        var objectIDs: [Int] { objects.map(\.id) }
    }

    // MARK: Session

    /// Starts a session on a video's frames (SAM2IO opens JPEG folders and video files:
    /// `initState(video:)`).
    public func initState(frames: any VideoFrameSource) throws {
        state = VideoState(frames: frames)
    }

    public var frameCount: Int { state?.frames.frameCount ?? 0 }
    public var videoSize: (width: Int, height: Int) { (state?.frames.width ?? 0, state?.frames.height ?? 0) }
    public var objectIDs: [Int] { state?.objectIDs ?? [] }

    /// Forgets every object, prompt and result; the video stays loaded.
    public func resetState() {
        guard let frames = state?.frames else { return }
        state = VideoState(frames: frames)
    }

    // MARK: Prompts

    /// Points (labels 1 foreground, 0 background) and/or a box (x0, y0, x1, y1) for `object` on
    /// `frame`, in pixels of the video (or normalised to [0, 1]). Returns every object's masks there.
    @discardableResult
    public func addPoints(
        frame: Int, object: Int, points: [SIMD2<Float>] = [], labels: [Int] = [], box: SIMD4<Float>? = nil,
        clearOldPoints: Bool = true, normalizedCoordinates: Bool = false
    ) throws -> VideoFrameResult {
        var s = try current()
        try check(frame: frame, in: s)
        guard points.count == labels.count else { throw VideoPredictorError.pointsWithoutLabels }
        guard !points.isEmpty || box != nil else { throw VideoPredictorError.emptyPrompt }
        if box != nil && !clearOldPoints { throw VideoPredictorError.boxWithOldPoints }
        try validate(points: points, labels: labels, box: box, in: s, normalized: normalizedCoordinates)
        let obj = objectIndex(object, in: &s)
        // ref: box corners (labels 2, 3) first, then the clicks; scaled to the model's input frame.
        var coords = box.map { [SIMD2($0.x, $0.y), SIMD2($0.z, $0.w)] } ?? []
        coords += points
        var allLabels = (box == nil ? [] : [2, 3]) + labels
        let size = Float(model.configuration.imageSize)
        let scaleX = normalizedCoordinates ? size : size / Float(s.frames.width)
        let scaleY = normalizedCoordinates ? size : size / Float(s.frames.height)
        coords = coords.map { SIMD2($0.x * scaleX, $0.y * scaleY) }
        if !clearOldPoints, let old = s.objects[obj].pointInputs[frame] {
            coords = old.coords + coords
            allLabels = old.labels + allLabels
        }
        let inputs = PointInputs(coords: coords, labels: allLabels)
        s.objects[obj].pointInputs[frame] = inputs
        s.objects[obj].maskInputs[frame] = nil
        let result = try prompt(&s, obj: obj, frame: frame, points: inputs, mask: nil)
        state = s
        return result
    }

    /// A mask (H×W values, nonzero inside; any size) for `object` on `frame`.
    @discardableResult
    public func addMask(frame: Int, object: Int, mask: [UInt8], width: Int, height: Int) throws -> VideoFrameResult {
        var s = try current()
        try check(frame: frame, in: s)
        guard width > 0, height > 0, mask.count == width * height else {
            throw VideoPredictorError.maskSize(found: [height, width])
        }
        let obj = objectIndex(object, in: &s)
        let size = model.configuration.imageSize
        var m = Tensor(shape: [1, 1, height, width], scalars: mask.map { $0 != 0 ? 1 : 0 })
        if height != size || width != size {
            // ref: antialiased bilinear resize to the input size, then ≥ 0.5
            m = interpolateBilinear(m, height: size, width: size, antialias: true)
            m = m.map { $0 >= 0.5 ? 1 : 0 }
        }
        s.objects[obj].maskInputs[frame] = m
        s.objects[obj].pointInputs[frame] = nil
        let result = try prompt(&s, obj: obj, frame: frame, points: nil, mask: m)
        state = s
        return result
    }

    /// Removes `object`'s prompts and conditioning output on `frame`; returns the frame's masks.
    @discardableResult
    public func clearPrompts(frame: Int, object: Int) throws -> VideoFrameResult {
        var s = try current()
        try check(frame: frame, in: s)
        guard let obj = s.objectIDs.firstIndex(of: object) else {
            throw VideoPredictorError.unknownObject(object, known: s.objectIDs)
        }
        clearPrompts(&s, frame: frame, obj: obj)
        let isCond = s.objects.contains { $0.temporary.condFrames[frame] != nil }
        let result = consolidated(s, frame: frame, isCond: isCond)
        state = s
        return result
    }

    /// Stops tracking `object`; returns the remaining ids and the masks of the frames it had prompts on.
    @discardableResult
    public func removeObject(_ object: Int) throws -> (objectIDs: [Int], updatedFrames: [VideoFrameResult]) {
        var s = try current()
        guard let obj = s.objectIDs.firstIndex(of: object) else {
            throw VideoPredictorError.unknownObject(object, known: s.objectIDs)
        }
        if s.objects.count == 1 {
            resetState()
            return ([], [])
        }
        let inputFrames = Set(s.objects[obj].pointInputs.keys).union(s.objects[obj].maskInputs.keys).sorted()
        for frame in inputFrames { clearPrompts(&s, frame: frame, obj: obj) }
        s.objects.remove(at: obj)
        let updated = inputFrames.map { frame in
            consolidated(s, frame: frame, isCond: s.objects.contains { $0.temporary.condFrames[frame] != nil })
        }
        state = s
        return (s.objectIDs, updated)
    }

    /// Frames back that tracking still reads: the memories of the last `numMaskmem` frames (at the
    /// memory stride) and the object pointers of the last `maxObjPtrsInEncoder` frames.
    public var memoryWindow: Int {
        let m = model.configuration.memory
        return max(m.numMaskmem * max(m.memoryTemporalStrideForEval, 1), m.maxObjPtrsInEncoder)
    }

    /// Bytes held by the objects' outputs (memories, low-resolution masks, pointers) and the cached frame.
    public var cachedBytes: Int {
        guard let s = state else { return 0 }
        func bytes(_ frames: [Int: TrackedFrame]) -> Int {
            frames.values.reduce(0) { total, f in
                total + (f.maskmemFeatures?.bits.count ?? 0) * 2 + (f.predMasks.count + f.objPtr.count) * 4
            }
        }
        let outputs = s.objects.reduce(0) { total, o in
            total + bytes(o.outputs.condFrames) + bytes(o.outputs.nonCondFrames) + bytes(o.temporary.condFrames)
                + bytes(o.temporary.nonCondFrames)
        }
        let features = s.cachedFeatures.map { c in
            c.features.highRes.reduce(c.features.vision.count + c.features.position.count) { $0 + $1.count }
        }
        return outputs + (features ?? 0) * 4
    }

    /// Drops every object's tracked (not prompted) outputs of frames before `frame`, which forward
    /// tracking from `frame` on never reads (see `memoryWindow`); prompted frames are kept. A live
    /// stream calls this so that its memory stays flat whatever its length.
    public func forgetFrames(before frame: Int) {
        guard var s = state else { return }
        for i in s.objects.indices {
            s.objects[i].outputs.nonCondFrames = s.objects[i].outputs.nonCondFrames.filter { $0.key >= frame }
            s.objects[i].framesTracked = s.objects[i].framesTracked.filter {
                $0.key >= frame || s.objects[i].outputs.condFrames[$0.key] != nil
            }
        }
        state = s
    }

    // MARK: Propagation

    /// Tracks every object through the video from `start` (default: the first prompted frame),
    /// forward or in reverse, over at most `maxFrames` more frames, calling `body` after each frame.
    public func propagate(
        start: Int? = nil, maxFrames: Int? = nil, reverse: Bool = false,
        _ body: (VideoFrameResult) throws -> Void
    ) throws {
        var s = try current()
        try preflight(&s)
        state = s
        for frame in try propagationOrder(start: start, maxFrames: maxFrames, reverse: reverse) {
            var masks: [Tensor] = []
            var scores: [Float?] = []
            for obj in s.objects.indices {
                if let cond = s.objects[obj].outputs.condFrames[frame] {
                    masks.append(cond.predMasks)
                    scores.append(cond.objectScoreLogit)
                } else {
                    let (out, predMasks) = try runSingleFrame(
                        &s, obj: obj, frame: frame, isInitCondFrame: false, points: nil,
                        mask: nil, reverse: reverse, runMemoryEncoder: true, previous: nil)
                    s.objects[obj].outputs.nonCondFrames[frame] = out
                    masks.append(predMasks)
                    scores.append(out.objectScoreLogit)
                }
                s.objects[obj].framesTracked[frame] = reverse
            }
            state = s
            try body(
                VideoFrameResult(
                    frameIndex: frame, objectIDs: s.objectIDs,
                    masks: videoResolution(Tensor.concatenate(masks, axis: 0), s),
                    objectScores: scores))
        }
    }

    /// The frames `propagate` visits, in order, for the prompts given so far (`start` default: the
    /// first frame with a prompt; at most `maxFrames` frames after it; none in reverse from frame 0).
    public func propagationOrder(start: Int? = nil, maxFrames: Int? = nil, reverse: Bool = false) throws -> [Int] {
        let s = try current()
        let n = s.frames.frameCount
        let prompted = s.objects.flatMap { Array($0.outputs.condFrames.keys) + Array($0.temporary.condFrames.keys) }
        guard let first = start ?? prompted.min() else { throw VideoPredictorError.noPrompts }
        try check(frame: first, in: s)
        let limit = maxFrames ?? n
        if reverse {
            let end = max(first - limit, 0)
            return first > 0 ? Array(stride(from: first, through: end, by: -1)) : []
        }
        return Array(first...min(first + limit, n - 1))
    }

    // MARK: Internals

    private func current() throws -> VideoState {
        guard let s = state else { throw VideoPredictorError.noState }
        return s
    }

    private func check(frame: Int, in s: VideoState) throws {
        guard frame >= 0 && frame < s.frames.frameCount else {
            throw VideoPredictorError.frameOutOfRange(frame, count: s.frames.frameCount)
        }
    }

    private func validate(points: [SIMD2<Float>], labels: [Int], box: SIMD4<Float>?, in s: VideoState, normalized: Bool)
        throws
    {
        let (w, h) = (s.frames.width, s.frames.height)
        let (maxX, maxY): (Float, Float) = normalized ? (1, 1) : (Float(w), Float(h))
        do {
            try PredictorError.check(
                points: points, labels: labels, boxes: box.map { [$0] } ?? [], maxX: maxX, maxY: maxY, width: w,
                height: h)
        } catch let e as PredictorError {
            throw VideoPredictorError.prompt(e)
        }
    }

    /// `_obj_id_to_idx`: the index of an object id, adding the object when it is new.
    private func objectIndex(_ id: Int, in s: inout VideoState) -> Int {
        if let i = s.objectIDs.firstIndex(of: id) { return i }
        s.objects.append(ObjectTrack(id: id))
        return s.objects.count - 1
    }

    /// The shared part of `add_new_points_or_box` / `add_new_mask`: one inference on the prompted frame.
    private func prompt(_ s: inout VideoState, obj: Int, frame: Int, points: PointInputs?, mask: Tensor?) throws
        -> VideoFrameResult
    {
        let isInitCondFrame = s.objects[obj].framesTracked[frame] == nil
        let reverse = isInitCondFrame ? false : s.objects[obj].framesTracked[frame]!
        let isCond = isInitCondFrame
        var previous: Tensor?
        if points != nil {
            let temp =
                isCond ? s.objects[obj].temporary.condFrames[frame] : s.objects[obj].temporary.nonCondFrames[frame]
            if let prev = temp ?? s.objects[obj].outputs.condFrames[frame]
                ?? s.objects[obj].outputs.nonCondFrames[frame]
            {
                previous = prev.predMasks.clamped(min: -32, max: 32)
            }
        }
        let (out, _) = try runSingleFrame(
            &s, obj: obj, frame: frame, isInitCondFrame: isInitCondFrame, points: points, mask: mask,
            reverse: reverse, runMemoryEncoder: false, previous: previous)
        if isCond {
            s.objects[obj].temporary.condFrames[frame] = out
        } else {
            s.objects[obj].temporary.nonCondFrames[frame] = out
        }
        return consolidated(s, frame: frame, isCond: isCond)
    }

    /// `_run_single_frame_inference`: a tracking step; the stored output (memory rounded to bfloat16,
    /// holes filled) and the filled low-resolution masks.
    private func runSingleFrame(
        _ s: inout VideoState, obj: Int, frame: Int, isInitCondFrame: Bool, points: PointInputs?,
        mask: Tensor?, reverse: Bool, runMemoryEncoder: Bool, previous: Tensor?
    ) throws -> (TrackedFrame, Tensor) {
        let features = try frameFeatures(&s, frame)
        let step = model.trackStep(
            frame: frame, isInitCondFrame: isInitCondFrame, features: features, points: points, mask: mask,
            memory: s.objects[obj].outputs, numFrames: s.frames.trackedLength, reverse: reverse,
            runMemoryEncoder: runMemoryEncoder, previousMaskLogits: previous)
        let predMasks = fillHoleArea > 0 ? fillHoles(step.lowResMasks, maxArea: fillHoleArea) : step.lowResMasks
        let out = TrackedFrame(
            maskmemFeatures: step.maskmemFeatures.map(BFloat16Tensor.init(rounding:)), predMasks: predMasks,
            objPtr: step.objPtr, objectScoreLogit: step.objectScoreLogit)
        return (out, predMasks)
    }

    /// `_get_image_feature`: the frame's backbone features, the last frame's kept in a cache.
    private func frameFeatures(_ s: inout VideoState, _ frame: Int) throws -> FrameFeatures {
        if let cached = s.cachedFeatures, cached.frame == frame { return cached.features }
        let c = model.configuration
        let input = videoFrameInput(try s.frames.frame(frame), size: c.imageSize, mean: c.pixelMean, std: c.pixelStd)
        let features = model.frameFeatures(input)
        s.cachedFeatures = (frame, features)
        return features
    }

    /// `propagate_in_video_preflight`: temporary outputs get their memory and join the bank.
    private func preflight(_ s: inout VideoState) throws {
        guard !s.objectIDs.isEmpty else { throw VideoPredictorError.noPrompts }
        let size = model.configuration.imageSize
        for obj in s.objects.indices {
            for isCond in [false, true] {
                let temp = isCond ? s.objects[obj].temporary.condFrames : s.objects[obj].temporary.nonCondFrames
                for (frame, var out) in temp.sorted(by: { $0.key < $1.key }) {
                    if out.maskmemFeatures == nil {
                        let highRes = interpolateBilinear(out.predMasks, height: size, width: size)
                        let features = try frameFeatures(&s, frame)
                        let memory = model.encodeNewMemory(
                            features: features, highResMasks: highRes,
                            objectScoreLogit: out.objectScoreLogit, isMaskFromPoints: true)
                        out.maskmemFeatures = BFloat16Tensor(rounding: memory)
                    }
                    if isCond {
                        s.objects[obj].outputs.condFrames[frame] = out
                    } else {
                        s.objects[obj].outputs.nonCondFrames[frame] = out
                    }
                }
                if isCond {
                    s.objects[obj].temporary.condFrames = [:]
                } else {
                    s.objects[obj].temporary.nonCondFrames = [:]
                }
            }
            guard !s.objects[obj].outputs.condFrames.isEmpty else {
                throw VideoPredictorError.noPromptsForObject(s.objectIDs[obj])
            }
            for frame in s.objects[obj].outputs.condFrames.keys { s.objects[obj].outputs.nonCondFrames[frame] = nil }
        }
    }

    /// `clear_all_prompts_in_frame` without the output.
    private func clearPrompts(_ s: inout VideoState, frame: Int, obj: Int) {
        s.objects[obj].pointInputs[frame] = nil
        s.objects[obj].maskInputs[frame] = nil
        s.objects[obj].temporary.condFrames[frame] = nil
        s.objects[obj].temporary.nonCondFrames[frame] = nil
        if let out = s.objects[obj].outputs.condFrames.removeValue(forKey: frame) {
            s.objects[obj].outputs.nonCondFrames[frame] = out
            s.objects[obj].framesTracked[frame] = nil
        }
    }

    /// `_consolidate_temp_output_across_obj` at video resolution + `_get_orig_video_res_output`.
    private func consolidated(_ s: VideoState, frame: Int, isCond: Bool) -> VideoFrameResult {
        let (w, h) = (s.frames.width, s.frames.height)
        var masks: [Tensor] = []
        var scores: [Float?] = []
        for obj in s.objects.indices {
            let temp =
                isCond ? s.objects[obj].temporary.condFrames[frame] : s.objects[obj].temporary.nonCondFrames[frame]
            if let out = temp ?? s.objects[obj].outputs.condFrames[frame] ?? s.objects[obj].outputs.nonCondFrames[frame]
            {
                masks.append(interpolateBilinear(out.predMasks, height: h, width: w))
                scores.append(out.objectScoreLogit)
            } else {
                masks.append(Tensor(shape: [1, 1, h, w], repeating: SAM2Model.noObjectScore))
                scores.append(nil)
            }
        }
        let all = Tensor.concatenate(masks, axis: 0)
        return VideoFrameResult(
            frameIndex: frame, objectIDs: s.objectIDs,
            masks: (nonOverlapMasks ? nonOverlapping(all) : all).reshaped([s.objectIDs.count, h, w]),
            objectScores: scores)
    }

    /// Low-resolution masks [N, 1, s, s] → video resolution [N, H, W] (+ non-overlap constraint).
    private func videoResolution(_ masks: Tensor, _ s: VideoState) -> Tensor {
        let (w, h) = (s.frames.width, s.frames.height)
        var out = masks.dim(2) == h && masks.dim(3) == w ? masks : interpolateBilinear(masks, height: h, width: w)
        if nonOverlapMasks { out = nonOverlapping(out) }
        return out.reshaped([masks.shape[0], h, w])
    }
}

/// `_apply_non_overlapping_constraints`: at each pixel only the highest-scoring object keeps its
/// score; the others are clamped to at most −10. [N, 1, H, W].
func nonOverlapping(_ masks: Tensor) -> Tensor {
    let n = masks.shape[0]
    if n == 1 { return masks }
    let plane = masks.count / n
    var v = masks.scalars
    for p in 0..<plane {
        var best = 0
        for i in 1..<n where v[i * plane + p] > v[best * plane + p] { best = i }
        for i in 0..<n where i != best { v[i * plane + p] = min(v[i * plane + p], -10) }
    }
    return Tensor(shape: masks.shape, scalars: v)
}
