// SAM2ImagePredictor (reference: sam2/sam2_image_predictor.py): computes an image's embedding
// once, then turns point, box and mask prompts into masks at the original size, scores and
// low-resolution logits, with the reference's semantics (box corners before points, a padding
// point, multimask or dynamic single mask, hole filling and speck removal).

import Foundation
import SAM2Tensor

/// Masks for one set of prompts.
public struct SAM2Prediction: Sendable {
    /// [M, H, W] at the original size: 0/1 masks, or logits with `returnLogits`.
    public var masks: Tensor
    /// Predicted IoU of each mask, M values.
    public var scores: [Float]
    /// [M, s, s] low-resolution logits (s = 256 at 1024), clamped to ±32, usable as `maskInput`.
    public var lowResLogits: Tensor
}

/// Point, box and mask prompts for one image in `predictBatch`.
public struct ImagePrompts: Sendable {
    public var points: [SIMD2<Float>]
    public var labels: [Int]
    public var box: SIMD4<Float>?
    public var maskInput: Tensor?

    public init(points: [SIMD2<Float>] = [], labels: [Int] = [], box: SIMD4<Float>? = nil, maskInput: Tensor? = nil) {
        self.points = points
        self.labels = labels
        self.box = box
        self.maskInput = maskInput
    }
}

public enum PredictorError: Error, CustomStringConvertible, Equatable {
    case noImage
    case emptyImage(width: Int, height: Int)
    case nonFiniteCoordinate(String)
    case labelCountMismatch(points: Int, labels: Int)
    case invalidLabel(Int)
    case pointOutsideImage(x: Float, y: Float, width: Int, height: Int)
    case invertedBox(SIMD4<Float>)
    case boxOutsideImage(SIMD4<Float>, width: Int, height: Int)
    case maskInputShape(found: [Int], expected: [Int])
    case promptBatchMismatch(boxes: Int, pointSets: Int)
    case imageIndex(Int, count: Int)

    public var description: String {
        switch self {
        case .noImage: return "no image is set: call setImage (or setImageBatch) before predicting"
        case .emptyImage(let w, let h): return "image of \(w)×\(h) pixels is empty"
        case .nonFiniteCoordinate(let what): return "prompt coordinate is not a finite number: \(what)"
        case .labelCountMismatch(let p, let l): return "\(p) points but \(l) labels: give one label (0 or 1) per point"
        case .invalidLabel(let l): return "point label \(l) is not valid: use 1 (foreground) or 0 (background)"
        case .pointOutsideImage(let x, let y, let w, let h):
            return "point (\(x), \(y)) lies outside the \(w)×\(h) image"
        case .invertedBox(let b):
            return
                "box (\(b.x), \(b.y), \(b.z), \(b.w)) has x1 < x0 or y1 < y0: give x0,y0,x1,y1 with x0 ≤ x1 and y0 ≤ y1"
        case .boxOutsideImage(let b, let w, let h):
            return "box (\(b.x), \(b.y), \(b.z), \(b.w)) lies wholly outside the \(w)×\(h) image"
        case .maskInputShape(let found, let expected):
            return "mask input has shape \(found), expected \(expected) (low-resolution logits)"
        case .promptBatchMismatch(let b, let p): return "\(b) boxes but \(p) point sets: give one point set per box"
        case .imageIndex(let i, let n): return "image index \(i) out of range for a batch of \(n)"
        }
    }
}

extension PredictorError {
    /// Checks one prompt in pixels (or normalised, with `maxX`/`maxY` 1): labels 0 or 1, finite
    /// coordinates inside the image (edges included), boxes not inverted and touching the image.
    static func check(
        points: [SIMD2<Float>], labels: [Int], boxes: [SIMD4<Float>], maxX: Float, maxY: Float, width: Int, height: Int
    ) throws {
        if let bad = labels.first(where: { $0 != 0 && $0 != 1 }) { throw PredictorError.invalidLabel(bad) }
        for p in points {
            guard p.x.isFinite && p.y.isFinite else {
                throw PredictorError.nonFiniteCoordinate("point (\(p.x), \(p.y))")
            }
            guard p.x >= 0 && p.y >= 0 && p.x <= maxX && p.y <= maxY else {
                throw PredictorError.pointOutsideImage(x: p.x, y: p.y, width: width, height: height)
            }
        }
        for b in boxes {
            guard b.x.isFinite && b.y.isFinite && b.z.isFinite && b.w.isFinite else {
                throw PredictorError.nonFiniteCoordinate("box (\(b.x), \(b.y), \(b.z), \(b.w))")
            }
            guard b.z >= b.x && b.w >= b.y else { throw PredictorError.invertedBox(b) }
            guard b.z >= 0 && b.w >= 0 && b.x <= maxX && b.y <= maxY else {
                throw PredictorError.boxOutsideImage(b, width: width, height: height)
            }
        }
    }
}

public final class SAM2ImagePredictor {
    public let model: SAM2Model
    public var maskThreshold: Float
    public var maxHoleArea: Int
    public var maxSprinkleArea: Int
    private var features: ImageFeatures?
    /// The mask decoder's prompt-independent work per image, made on the first prompt without a mask.
    private var preparedImages: [Int: PreparedDecoderImage] = [:]
    private var originalSizes: [(height: Int, width: Int)] = []

    public init(model: SAM2Model, maskThreshold: Float = 0, maxHoleArea: Int = 0, maxSprinkleArea: Int = 0) {
        self.model = model
        self.maskThreshold = maskThreshold
        self.maxHoleArea = maxHoleArea
        self.maxSprinkleArea = maxSprinkleArea
    }

    var transforms: SAM2Transforms {
        let c = model.configuration
        return SAM2Transforms(
            resolution: c.imageSize, maskThreshold: maskThreshold, maxHoleArea: maxHoleArea,
            maxSprinkleArea: maxSprinkleArea, mean: c.pixelMean, std: c.pixelStd)
    }

    /// The embedding of the image set last, [B, C, h, w].
    public var imageEmbedding: Tensor? { features?.imageEmbedding }
    /// Size (height, width) of each image set last.
    public var imageSizes: [(height: Int, width: Int)] { originalSizes }

    /// Bytes held for the image set last: its features and the decoder's work prepared for it.
    public var cachedBytes: Int {
        let featureCount = features.map { f in f.highResFeatures.reduce(f.imageEmbedding.count) { $0 + $1.count } } ?? 0
        let preparedCount = preparedImages.values.reduce(0) { $0 + $1.count }
        return (featureCount + preparedCount) * MemoryLayout<Float>.stride
    }

    public func reset() {
        features = nil
        preparedImages = [:]
        originalSizes = []
    }

    /// Computes the embedding of one image.
    public func setImage(_ image: RGBImage) throws {
        try setImageBatch([image])
    }

    /// Computes the embeddings of several images (one encoder pass each, then kept together).
    public func setImageBatch(_ images: [RGBImage]) throws {
        reset()
        var embeddings: [Tensor] = []
        var highRes: [[Tensor]] = []
        for image in images {
            guard image.width > 0 && image.height > 0 else {
                throw PredictorError.emptyImage(width: image.width, height: image.height)
            }
            let f = model.encodeImage(transforms.image(image))
            embeddings.append(f.imageEmbedding)
            highRes.append(f.highResFeatures)
        }
        let levels = highRes.first?.count ?? 0
        features = ImageFeatures(
            imageEmbedding: Tensor.concatenate(embeddings, axis: 0),
            highResFeatures: (0..<levels).map { l in Tensor.concatenate(highRes.map { $0[l] }, axis: 0) })
        originalSizes = images.map { ($0.height, $0.width) }
    }

    /// Masks for points (with labels 1 foreground / 0 background), an optional box (x0, y0, x1, y1)
    /// and optional low-resolution mask logits, on the image set last.
    public func predict(
        points: [SIMD2<Float>] = [], labels: [Int] = [], box: SIMD4<Float>? = nil, maskInput: Tensor? = nil,
        multimaskOutput: Bool = true, returnLogits: Bool = false, normalizedCoordinates: Bool = false
    ) throws -> SAM2Prediction {
        try predict(
            imageIndex: 0, pointSets: points.isEmpty && labels.isEmpty ? [] : [points], labelSets: [labels],
            boxes: box.map { [$0] } ?? [], maskInput: maskInput, multimaskOutput: multimaskOutput,
            returnLogits: returnLogits, normalizedCoordinates: normalizedCoordinates)[0]
    }

    /// Masks for several boxes at once (one decoder pass): one prediction per box. `points`, when
    /// given, holds one point set per box.
    public func predict(
        boxes: [SIMD4<Float>], points: [[SIMD2<Float>]]? = nil, labels: [[Int]]? = nil, maskInput: Tensor? = nil,
        multimaskOutput: Bool = false, returnLogits: Bool = false, normalizedCoordinates: Bool = false
    ) throws -> [SAM2Prediction] {
        try predict(
            imageIndex: 0, pointSets: points ?? [], labelSets: labels ?? [], boxes: boxes, maskInput: maskInput,
            multimaskOutput: multimaskOutput, returnLogits: returnLogits, normalizedCoordinates: normalizedCoordinates)
    }

    /// One prediction per image of the batch set by `setImageBatch`.
    public func predictBatch(
        _ prompts: [ImagePrompts], multimaskOutput: Bool = true, returnLogits: Bool = false,
        normalizedCoordinates: Bool = false
    ) throws -> [SAM2Prediction] {
        try prompts.enumerated().map { i, p in
            try predict(
                imageIndex: i, pointSets: p.points.isEmpty ? [] : [p.points], labelSets: [p.labels],
                boxes: p.box.map { [$0] } ?? [], maskInput: p.maskInput, multimaskOutput: multimaskOutput,
                returnLogits: returnLogits, normalizedCoordinates: normalizedCoordinates)[0]
        }
    }

    /// One foreground point (pixels) per prompt set, B sets in one decoder pass on the image set last,
    /// as the automatic mask generator batches them: the raw low-resolution logits [B, M, s, s]
    /// (unclamped; clamp them to ±32 to feed them back) and the B·M predicted IoUs. `maskInputs`
    /// [B, 1, s, s] adds a mask prompt to each set. `upscaleMasks` brings the logits to the image's
    /// size, so that masks filtered out by score never need it.
    public func predictPoints(
        _ points: [SIMD2<Float>], maskInputs: Tensor? = nil,
        multimaskOutput: Bool
    ) throws -> (lowResLogits: Tensor, scores: [Float]) {
        guard let features, let size = originalSizes.first else { throw PredictorError.noImage }
        let (h, w, b) = (size.height, size.width, points.count)
        let ones = [[Int]](repeating: [1], count: b)
        try validate(pointSets: points.map { [$0] }, labelSets: ones, boxes: [], height: h, width: w, normalized: false)
        let coords = transforms.coordinates(
            points.flatMap { [$0.x, $0.y] }, normalized: false, originalHeight: h, originalWidth: w)
        let sparse = model.promptEncoder.embedPoints(Tensor(shape: [b, 1, 2], scalars: coords), labels: ones)
        var dense: Tensor?
        if let maskInputs {
            let side = model.promptEncoder.maskInputSize
            guard maskInputs.shape == [b, 1, side, side] else {
                throw PredictorError.maskInputShape(found: maskInputs.shape, expected: [b, 1, side, side])
            }
            dense = model.promptEncoder.embedMask(maskInputs)
        }
        let out = decode(features, imageIndex: 0, sparse: sparse, dense: dense, multimaskOutput: multimaskOutput)
        return (out.masks, out.iouPredictions.scalars)
    }

    /// Low-resolution logits [N, s, s] → logits [N, H, W] at the size of the image set last, with
    /// hole filling and speck removal as `predict` applies them.
    public func upscaleMasks(_ lowResLogits: Tensor) throws -> Tensor {
        guard let size = originalSizes.first else { throw PredictorError.noImage }
        let (n, sh, sw) = (lowResLogits.shape[0], lowResLogits.shape[1], lowResLogits.shape[2])
        return transforms.postprocessMasks(
            lowResLogits.reshaped([n, 1, sh, sw]), originalHeight: size.height, originalWidth: size.width
        )
        .reshaped([n, size.height, size.width])
    }

    /// The reference's `_prep_prompts` + `_predict` for B prompt sets on image `imageIndex`.
    func predict(
        imageIndex: Int, pointSets: [[SIMD2<Float>]], labelSets: [[Int]], boxes: [SIMD4<Float>], maskInput: Tensor?,
        multimaskOutput: Bool, returnLogits: Bool, normalizedCoordinates: Bool
    ) throws -> [SAM2Prediction] {
        guard let features else { throw PredictorError.noImage }
        guard imageIndex < originalSizes.count else {
            throw PredictorError.imageIndex(imageIndex, count: originalSizes.count)
        }
        let (h, w) = originalSizes[imageIndex]
        try validate(
            pointSets: pointSets, labelSets: labelSets, boxes: boxes, height: h, width: w,
            normalized: normalizedCoordinates)
        let t = transforms
        let config = model.configuration
        let batch = max(pointSets.count, boxes.count, maskInput.map { $0.rank == 4 ? $0.shape[0] : 1 } ?? 1, 1)

        // Box corners (labels 2, 3) come before the clicked points.
        var sparse: Tensor?
        if !pointSets.isEmpty || !boxes.isEmpty {
            var coords: [[Float]] = Array(repeating: [], count: batch)
            var labels: [[Int]] = Array(repeating: [], count: batch)
            for i in 0..<batch {
                if !boxes.isEmpty {
                    let b = boxes[boxes.count == 1 ? 0 : i]
                    coords[i] += t.coordinates(
                        [b.x, b.y, b.z, b.w], normalized: normalizedCoordinates, originalHeight: h, originalWidth: w)
                    labels[i] += [2, 3]
                }
                if !pointSets.isEmpty {
                    let p = pointSets[pointSets.count == 1 ? 0 : i]
                    coords[i] += t.coordinates(
                        p.flatMap { [$0.x, $0.y] }, normalized: normalizedCoordinates, originalHeight: h,
                        originalWidth: w)
                    labels[i] += labelSets[labelSets.count == 1 ? 0 : i]
                }
            }
            let n = labels[0].count
            sparse = model.promptEncoder.embedPoints(
                Tensor(shape: [batch, n, 2], scalars: coords.flatMap { $0 }), labels: labels)
        }
        var dense: Tensor?
        if let maskInput {
            let side = model.promptEncoder.maskInputSize
            let m = try normalizedMaskInput(maskInput, side: side)
            dense = model.promptEncoder.embedMask(m).expanded(to: batch, axis: 0)
        }
        let sparseTokens = sparse ?? Tensor(shape: [batch, 0, config.hiddenDim])
        // The decoder's activations take tens of MB a prompt set: large batches go through in parts.
        var predictions: [SAM2Prediction] = []
        predictions.reserveCapacity(batch)
        for start in stride(from: 0, to: batch, by: Self.promptSetsPerPass) {
            let part = start..<min(start + Self.promptSetsPerPass, batch)
            let out = decode(
                features, imageIndex: imageIndex, sparse: sparseTokens.slice(axis: 0, part),
                dense: dense?.slice(axis: 0, part), multimaskOutput: multimaskOutput)
            var masks = t.postprocessMasks(out.masks, originalHeight: h, originalWidth: w)
            let lowRes = out.masks.clamped(min: -32, max: 32)
            if !returnLogits {
                let threshold = maskThreshold
                masks.withUnsafeMutableBufferPointer { buffer in
                    guard let base = buffer.baseAddress else { return }
                    nonisolated(unsafe) let p = base
                    Parallel.forEachChunk(buffer.count, minimumChunk: 1 << 16) { range in
                        for i in range { p[i] = p[i] > threshold ? 1 : 0 }
                    }
                }
            }
            let m = out.masks.shape[1]
            let scores = out.iouPredictions.scalars
            for i in 0..<part.count {
                predictions.append(
                    SAM2Prediction(
                        masks: masks.slice(axis: 0, i..<(i + 1)).reshaped([m, h, w]),
                        scores: Array(scores[(i * m)..<((i + 1) * m)]),
                        lowResLogits: lowRes.slice(axis: 0, i..<(i + 1)).reshaped([
                            m, lowRes.shape[2], lowRes.shape[3],
                        ])))
            }
        }
        return predictions
    }

    /// Prompt sets decoded together at most.
    static let promptSetsPerPass = 16

    /// The mask decoder on image `imageIndex`; without a dense (mask) embedding, on the image's
    /// prepared tokens (made once per image).
    private func decode(
        _ features: ImageFeatures, imageIndex: Int, sparse: Tensor, dense: Tensor?,
        multimaskOutput: Bool
    ) -> MaskDecoderOutput {
        let embedding = features.imageEmbedding.slice(axis: 0, imageIndex..<(imageIndex + 1))
        let highRes =
            features.highResFeatures.isEmpty
            ? nil : features.highResFeatures.map { $0.slice(axis: 0, imageIndex..<(imageIndex + 1)) }
        let pe = model.promptEncoder.densePositionEncoding
        if let dense {
            return model.maskDecoder(
                imageEmbedding: embedding, imagePE: pe, sparse: sparse, dense: dense,
                multimaskOutput: multimaskOutput, highResFeatures: highRes)
        }
        let prepared =
            preparedImages[imageIndex]
            ?? model.maskDecoder.prepared(
                imageEmbedding: embedding, imagePE: pe, dense: model.promptEncoder.noMaskDense(batch: 1),
                highResFeatures: highRes)
        preparedImages[imageIndex] = prepared
        return model.maskDecoder(prepared: prepared, imagePE: pe, sparse: sparse, multimaskOutput: multimaskOutput)
    }

    /// A binary mask (H×W values, nonzero inside) as a mask prompt: logits of ±10 after a bilinear
    /// (antialiased) resize to side×side, [1, side, side].
    public static func maskInput(fromMask mask: [UInt8], width: Int, height: Int, side: Int) -> Tensor {
        let m = Tensor(shape: [1, 1, height, width], scalars: mask.map { $0 > 0 ? 1 : 0 })
        let small = interpolateBilinear(m, height: side, width: side, antialias: true)
        return small.map { ($0 * 2 - 1) * 10 }.reshaped([1, side, side])
    }

    /// Mask logits as [s, s], [1, s, s] or [B, 1, s, s] → [B, 1, s, s].
    private func normalizedMaskInput(_ mask: Tensor, side: Int) throws -> Tensor {
        switch mask.shape {
        case [side, side], [1, side, side]: return mask.reshaped([1, 1, side, side])
        case let s where s.count == 4 && s[1] == 1 && s[2] == side && s[3] == side: return mask
        default: throw PredictorError.maskInputShape(found: mask.shape, expected: [1, side, side])
        }
    }

    private func validate(
        pointSets: [[SIMD2<Float>]], labelSets: [[Int]], boxes: [SIMD4<Float>],
        height h: Int, width w: Int, normalized: Bool
    ) throws {
        let (maxX, maxY): (Float, Float) = normalized ? (1, 1) : (Float(w), Float(h))
        if !pointSets.isEmpty {
            if labelSets.count != pointSets.count && !(labelSets.count == 1 && pointSets.count == 1) {
                throw PredictorError.labelCountMismatch(points: pointSets.count, labels: labelSets.count)
            }
            if !boxes.isEmpty && boxes.count != pointSets.count && pointSets.count != 1 && boxes.count != 1 {
                throw PredictorError.promptBatchMismatch(boxes: boxes.count, pointSets: pointSets.count)
            }
            for (points, labels) in zip(pointSets, labelSets) {
                guard points.count == labels.count else {
                    throw PredictorError.labelCountMismatch(points: points.count, labels: labels.count)
                }
                try PredictorError.check(
                    points: points, labels: labels, boxes: [], maxX: maxX, maxY: maxY, width: w, height: h)
            }
            if Set(pointSets.map(\.count)).count > 1 {
                throw PredictorError.promptBatchMismatch(boxes: boxes.count, pointSets: pointSets.count)
            }
        }
        try PredictorError.check(points: [], labels: [], boxes: boxes, maxX: maxX, maxY: maxY, width: w, height: h)
    }
}
