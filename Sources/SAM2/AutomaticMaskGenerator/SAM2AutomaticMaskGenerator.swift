// SAM2AutomaticMaskGenerator (reference: sam2/automatic_mask_generator.py): masks for a whole image
// from a grid of point prompts, per crop of the image, filtered by predicted IoU, stability and
// crop edges, de-duplicated by box NMS within and across crops, in the reference's record order.

import SAM2Tensor

/// How records carry their mask.
public enum AutomaticMaskOutputMode: String, Sendable, CaseIterable {
    case binaryMask = "binary_mask"
    case uncompressedRLE = "uncompressed_rle"
    case cocoRLE = "coco_rle"
}

/// A record's mask in the chosen output mode.
public enum AutomaticMaskSegmentation: Sendable, Equatable {
    /// Row-major, height·width values, 1 inside.
    case binary([UInt8])
    case uncompressedRLE(UncompressedRLE)
    /// pycocotools' compressed counts string.
    case cocoRLE(String)
}

/// One mask of `SAM2AutomaticMaskGenerator.generate`, with the reference's record fields.
public struct AutomaticMask: Sendable {
    public var segmentation: AutomaticMaskSegmentation
    /// The mask whatever the output mode.
    public var rle: UncompressedRLE
    public var area: Int
    /// [x, y, width, height] with width = last inside column − first (the reference's `bbox`).
    public var bbox: [Int]
    public var predictedIoU: Float
    /// The grid point (image pixels) that prompted the mask.
    public var pointCoords: SIMD2<Float>
    public var stabilityScore: Float
    /// [x, y, width, height] of the crop the mask was found in.
    public var cropBox: [Int]
}

public enum AutomaticMaskGeneratorError: Error, CustomStringConvertible, Equatable {
    case invalidOption(name: String, value: String, expected: String)
    /// `isCancelled` said so.
    case cancelled

    public var description: String {
        switch self {
        case .invalidOption(let name, let value, let expected):
            return "automatic mask generator: \(name) = \(value) is invalid: expected \(expected)"
        case .cancelled:
            return "automatic mask generation was cancelled"
        }
    }
}

public final class SAM2AutomaticMaskGenerator {
    /// The reference's constructor arguments, with its defaults.
    public struct Options: Sendable, Equatable {
        /// Bounds past which a run would take hours or exhaust memory (the reference has none):
        /// 256² = 65,536 points per crop, 1,024 points per decoder pass (each takes tens of MB),
        /// 4 crop layers (1 + 4 + 16 + 64 + 256 crops).
        public static let maxPointsPerSide = 256
        public static let maxPointsPerBatch = 1024
        public static let maxCropNLayers = 4

        /// Points per side of the grid (layer i: ⌊n / cropNPointsDownscaleFactor^i⌋); nil with `pointGrids`.
        public var pointsPerSide: Int? = 32
        public var pointsPerBatch = 64
        public var predIoUThresh = 0.8
        public var stabilityScoreThresh = 0.95
        public var stabilityScoreOffset = 1.0
        public var maskThreshold = 0.0
        public var boxNMSThresh = 0.7
        public var cropNLayers = 0
        public var cropNMSThresh = 0.7
        public var cropOverlapRatio = 512.0 / 1500.0
        public var cropNPointsDownscaleFactor = 1
        /// Explicit grids in [0, 1]², one per crop layer; exclusive with `pointsPerSide`.
        public var pointGrids: [[SIMD2<Double>]]? = nil
        /// Hole filling and speck removal (components of at most this many low-resolution pixels) in
        /// the predictor, as the reference's `max_hole_area` / `max_sprinkle_area`.
        public var minMaskRegionArea = 0
        public var outputMode = AutomaticMaskOutputMode.binaryMask
        public var useM2M = false
        public var multimaskOutput = true

        public init() {}
    }

    public let model: SAM2Model
    public let options: Options
    private let grids: [[SIMD2<Double>]]

    public init(model: SAM2Model, options: Options = Options()) throws {
        try Self.validate(options)
        self.model = model
        self.options = options
        if let n = options.pointsPerSide {
            grids = PointGrids.layerGrids(
                pointsPerSide: n, cropLayers: options.cropNLayers, downscaleFactor: options.cropNPointsDownscaleFactor)
        } else {
            grids = options.pointGrids ?? []
        }
    }

    private static func validate(_ o: Options) throws {
        func fail(_ name: String, _ value: Any, _ expected: String) -> AutomaticMaskGeneratorError {
            .invalidOption(name: name, value: "\(value)", expected: expected)
        }
        if (o.pointsPerSide == nil) == (o.pointGrids == nil) {
            throw fail(
                "pointsPerSide", o.pointsPerSide.map(String.init) ?? "nil",
                "exactly one of pointsPerSide and pointGrids")
        }
        if let n = o.pointsPerSide, !(1...Options.maxPointsPerSide).contains(n) {
            throw fail("pointsPerSide", n, "1…\(Options.maxPointsPerSide) (\(n)² points per crop would not end)")
        }
        if let g = o.pointGrids {
            if g.count < o.cropNLayers + 1 {
                throw fail("pointGrids", "\(g.count) grids", "one grid per crop layer (\(o.cropNLayers + 1))")
            }
            if g.joined().contains(where: { !($0.x >= 0 && $0.x <= 1 && $0.y >= 0 && $0.y <= 1) }) {
                throw fail("pointGrids", "a point outside [0, 1]²", "normalised points in [0, 1]²")
            }
        }
        if !(1...Options.maxPointsPerBatch).contains(o.pointsPerBatch) {
            throw fail("pointsPerBatch", o.pointsPerBatch, "1…\(Options.maxPointsPerBatch)")
        }
        if !(0...Options.maxCropNLayers).contains(o.cropNLayers) {
            throw fail("cropNLayers", o.cropNLayers, "0…\(Options.maxCropNLayers) (layer k has 4^k crops)")
        }
        if o.cropNPointsDownscaleFactor < 1 {
            throw fail("cropNPointsDownscaleFactor", o.cropNPointsDownscaleFactor, "at least 1")
        }
        if o.minMaskRegionArea < 0 { throw fail("minMaskRegionArea", o.minMaskRegionArea, "0 or more") }
        for (name, value) in [
            ("predIoUThresh", o.predIoUThresh), ("stabilityScoreThresh", o.stabilityScoreThresh),
            ("boxNMSThresh", o.boxNMSThresh), ("cropNMSThresh", o.cropNMSThresh),
        ] where !(value >= 0 && value <= 1) {
            throw fail(name, value, "a number in [0, 1]")
        }
        if !(o.cropOverlapRatio >= 0 && o.cropOverlapRatio < 1) {
            throw fail("cropOverlapRatio", o.cropOverlapRatio, "a number in [0, 1)")
        }
        if !o.stabilityScoreOffset.isFinite {
            throw fail("stabilityScoreOffset", o.stabilityScoreOffset, "a finite number")
        }
        if !o.maskThreshold.isFinite { throw fail("maskThreshold", o.maskThreshold, "a finite number") }
    }

    /// The records of every mask found in `image`, in the reference's order. `progress` is called
    /// with the share of the work done (0...1) after each batch of points; when `isCancelled` answers
    /// true there, generation stops with `AutomaticMaskGeneratorError.cancelled`.
    public func generate(
        _ image: RGBImage, progress: ((Double) -> Void)? = nil, isCancelled: (() -> Bool)? = nil
    ) throws -> [AutomaticMask] {
        guard image.width > 0 && image.height > 0 else {
            throw PredictorError.emptyImage(width: image.width, height: image.height)
        }
        let crops = PointGrids.cropBoxes(
            width: image.width, height: image.height, layers: options.cropNLayers,
            overlapRatio: options.cropOverlapRatio)
        let batchesPerCrop = crops.map {
            (grids[$0.layer].count + options.pointsPerBatch - 1) / options.pointsPerBatch + 1
        }
        let totalSteps = Double(batchesPerCrop.reduce(0, +))
        var stepsDone = 0
        let step = {
            stepsDone += 1
            progress?(Double(stepsDone) / totalSteps)
            if isCancelled?() == true { throw AutomaticMaskGeneratorError.cancelled }
        }

        var data = MaskData()
        for crop in crops {
            data.append(try processCrop(image, crop: crop, step: step))
        }
        if crops.count > 1 && !data.isEmpty {
            // ref: prefer masks from smaller crops — score 1 / crop area.
            let scores = data.cropBoxes.map { Float(1) / Float($0.width * $0.height) }
            data.select(BoxOperations.nms(boxes: data.floatBoxes, scores: scores, iouThreshold: options.cropNMSThresh))
        }
        return data.indices.map { i in
            let rle = data.rles[i]
            let segmentation: AutomaticMaskSegmentation
            switch options.outputMode {
            case .binaryMask: segmentation = .binary(rle.mask())
            case .uncompressedRLE: segmentation = .uncompressedRLE(rle)
            case .cocoRLE: segmentation = .cocoRLE(rle.cocoString)
            }
            let b = data.boxes[i]
            return AutomaticMask(
                segmentation: segmentation, rle: rle, area: rle.area, bbox: [b.x, b.y, b.z - b.x, b.w - b.y],
                predictedIoU: data.iouPredictions[i], pointCoords: data.points[i],
                stabilityScore: data.stabilityScores[i], cropBox: data.cropBoxes[i].xywh)
        }
    }

    /// One crop: its embedding, its grid in batches, then box NMS within the crop.
    private func processCrop(_ image: RGBImage, crop: CropBox, step: () throws -> Void) throws -> MaskData {
        let predictor = SAM2ImagePredictor(
            model: model, maskThreshold: Float(options.maskThreshold),
            maxHoleArea: options.minMaskRegionArea, maxSprinkleArea: options.minMaskRegionArea)
        try predictor.setImage(Self.crop(image, crop))
        try step()
        // ref: grid × crop size in float64, then float32 as the prompts' tensor.
        let points = grids[crop.layer].map {
            SIMD2(Float($0.x * Double(crop.width)), Float($0.y * Double(crop.height)))
        }
        var data = MaskData()
        for start in stride(from: 0, to: points.count, by: options.pointsPerBatch) {
            let batch = Array(points[start..<min(start + options.pointsPerBatch, points.count)])
            data.append(
                try processBatch(
                    batch, predictor: predictor, crop: crop, imageWidth: image.width, imageHeight: image.height))
            try step()
        }
        guard !data.isEmpty else { return data }
        data.select(
            BoxOperations.nms(boxes: data.floatBoxes, scores: data.iouPredictions, iouThreshold: options.boxNMSThresh))
        // Back to the image's frame.
        let offset = SIMD2(Float(crop.x0), Float(crop.y0))
        data.points = data.points.map { $0 + offset }
        data.boxes = data.boxes.map { $0 &+ SIMD4(crop.x0, crop.y0, crop.x0, crop.y0) }
        return data
    }

    /// One batch of points: predictions, the IoU and stability filters, boxes, the crop-edge filter
    /// and RLEs. Only masks that pass the IoU filter are brought to the crop's size (the reference
    /// upsamples all of them first; the kept masks and their values are the same).
    private func processBatch(
        _ points: [SIMD2<Float>], predictor: SAM2ImagePredictor, crop: CropBox,
        imageWidth: Int, imageHeight: Int
    ) throws -> MaskData {
        var (lowRes, scores) = try predictInChunks(
            points, maskInputs: nil, multimaskOutput: options.multimaskOutput, predictor: predictor)
        let perPoint = lowRes.shape[1]
        let side = (lowRes.shape[2], lowRes.shape[3])
        lowRes = lowRes.reshaped([points.count * perPoint, side.0, side.1])
        let maskPoints = points.flatMap { Array(repeating: $0, count: perPoint) }
        if options.useM2M {
            (lowRes, scores) = try refineWithM2M(lowRes, points: maskPoints, predictor: predictor)
        }
        var kept = Array(scores.indices)
        if options.predIoUThresh > 0 {
            let threshold = Float(options.predIoUThresh)
            kept = kept.filter { scores[$0] > threshold }
        }
        var data = MaskData()
        // Bring masks to the crop's size a chunk at a time, so that memory stays bounded.
        let chunk = max(1, 16_777_216 / max(crop.width * crop.height, 1))
        for start in stride(from: 0, to: kept.count, by: chunk) {
            let ids = Array(kept[start..<min(start + chunk, kept.count)])
            let selected = Tensor.concatenate(ids.map { lowRes.slice(axis: 0, $0..<($0 + 1)) }, axis: 0)
            let logits = try predictor.upscaleMasks(selected)
            let threshold = options.maskThreshold
            let stability = MaskPlanes.stabilityScores(
                logits, high: Float(threshold + options.stabilityScoreOffset),
                low: Float(threshold - options.stabilityScoreOffset))
            var planes = Array(ids.indices)
            if options.stabilityScoreThresh > 0 {
                let minimum = Float(options.stabilityScoreThresh)
                planes = planes.filter { stability[$0] >= minimum }
            }
            let boxes = MaskPlanes.boxes(logits, indices: planes, threshold: Float(threshold))
            let notNearEdge = planes.indices.filter {
                !BoxOperations.isNearCropEdge(boxes[$0], crop: crop, imageWidth: imageWidth, imageHeight: imageHeight)
            }
            let survivors = notNearEdge.map { planes[$0] }
            data.append(
                MaskData(
                    rles: MaskPlanes.rles(
                        logits, indices: survivors, threshold: Float(threshold), crop: crop,
                        imageHeight: imageHeight, imageWidth: imageWidth),
                    boxes: notNearEdge.map { boxes[$0] },
                    iouPredictions: survivors.map { scores[ids[$0]] },
                    points: survivors.map { maskPoints[ids[$0]] },
                    stabilityScores: survivors.map { stability[$0] },
                    cropBoxes: Array(repeating: crop, count: survivors.count)))
        }
        return data
    }

    /// ref: refine_with_m2m — each mask's point again, with its clamped low-resolution logits as the
    /// mask prompt and a single output, in batches of pointsPerBatch.
    private func refineWithM2M(_ lowRes: Tensor, points: [SIMD2<Float>], predictor: SAM2ImagePredictor) throws -> (
        Tensor, [Float]
    ) {
        let (s0, s1) = (lowRes.shape[1], lowRes.shape[2])
        let clamped = lowRes.clamped(min: -32, max: 32)
        var masks: [Tensor] = []
        var scores: [Float] = []
        for start in stride(from: 0, to: points.count, by: options.pointsPerBatch) {
            let end = min(start + options.pointsPerBatch, points.count)
            let input = clamped.slice(axis: 0, start..<end).reshaped([end - start, 1, s0, s1])
            let (refined, refinedScores) = try predictInChunks(
                Array(points[start..<end]), maskInputs: input, multimaskOutput: false,
                predictor: predictor)
            masks.append(refined.reshaped([end - start, s0, s1]))
            scores += refinedScores
        }
        return (Tensor.concatenate(masks, axis: 0), scores)
    }

    /// Prompts per decoder pass. Each prompt's largest decoder tensors are 32·256·256 floats (8 MB at
    /// 1024): two at a time stay in the allocator's reusable heap, where a whole batch of 64 would map
    /// (and fault in) fresh 0.5 GB tensors on every pass. Prompts are independent, so the masks and
    /// scores do not depend on it; `pointsPerBatch` keeps the reference's batches for everything else.
    private static let decoderChunk = 2

    /// `predictPoints` on `points` in chunks of `decoderChunk`, concatenated.
    private func predictInChunks(
        _ points: [SIMD2<Float>], maskInputs: Tensor?, multimaskOutput: Bool,
        predictor: SAM2ImagePredictor
    ) throws -> (lowResLogits: Tensor, scores: [Float]) {
        var logits: [Tensor] = []
        var scores: [Float] = []
        for start in stride(from: 0, to: points.count, by: Self.decoderChunk) {
            let end = min(start + Self.decoderChunk, points.count)
            let part = try predictor.predictPoints(
                Array(points[start..<end]), maskInputs: maskInputs?.slice(axis: 0, start..<end),
                multimaskOutput: multimaskOutput)
            logits.append(part.lowResLogits)
            scores += part.scores
        }
        return (Tensor.concatenate(logits, axis: 0), scores)
    }

    /// The pixels of `crop` as an image of its own.
    private static func crop(_ image: RGBImage, _ crop: CropBox) -> RGBImage {
        if crop.x0 == 0 && crop.y0 == 0 && crop.width == image.width && crop.height == image.height { return image }
        var pixels = [UInt8]()
        pixels.reserveCapacity(crop.width * crop.height * 3)
        for y in crop.y0..<crop.y1 {
            let row = (y * image.width + crop.x0) * 3
            pixels += image.pixels[row..<(row + crop.width * 3)]
        }
        return RGBImage(width: crop.width, height: crop.height, pixels: pixels)
    }
}
