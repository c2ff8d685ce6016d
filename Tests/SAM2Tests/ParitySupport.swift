// Shared helpers of the parity tests: fixture paths, the small configurations, reference tensors
// from safetensors fixtures, and the SPEC §4 error measures.

import Foundation
import SAM2Checkpoint
import Testing

@testable import SAM2
@testable import SAM2IO
@testable import SAM2Workflows

enum ModelFixtures {
    static let root = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")
    static func url(_ path: String) -> URL { root.appendingPathComponent(path) }

    /// The small-configuration model with SAM `version` ("2.0" or "2.1") heads.
    static func smallModel(_ version: String) throws -> SAM2Model {
        let config = try SAM2Configuration.named(url("model/small_\(version).json").path)
        let file = version == "2.1" ? "model/small_2.1.pt" : "model/small_2.0.safetensors"
        return try SAM2Model.load(checkpoint: url(file), configuration: config)
    }
}

/// A reference fixture: its tensors and its JSON metadata.
struct ReferenceCase {
    let file: SafetensorsFile
    let meta: [String: Any]

    init(_ path: String) throws {
        try self.init(url: ModelFixtures.url(path))
    }

    init(url: URL) throws {
        file = try SafetensorsFile(url: url)
        meta =
            (try JSONSerialization.jsonObject(with: Data((file.metadata["json"] ?? "{}").utf8))) as? [String: Any]
            ?? [:]
    }

    subscript(key: String) -> Tensor { get throws { try file.tensor(key) } }
    func has(_ key: String) -> Bool { file.info(key) != nil }
    func int(_ key: String) -> Int { meta[key] as! Int }
    func bool(_ key: String) -> Bool { meta[key] as! Bool }
    func floats(_ key: String) -> [[Float]]? {
        guard let v = meta[key], !(v is NSNull) else { return nil }
        if let rows = v as? [[Double]] { return rows.map { $0.map(Float.init) } }
        if let row = v as? [Double] { return [row.map(Float.init)] }
        return nil
    }
    func ints(_ key: String) -> [Int]? { meta[key] as? [Int] }
}

/// ‖a − b‖ / ‖b‖ (SPEC §4); shapes must agree.
func relativeL2(_ a: Tensor, _ b: Tensor) -> Double {
    precondition(a.shape == b.shape, "shapes differ: \(a.shape) vs \(b.shape)")
    var num = 0.0
    var den = 0.0
    for (x, y) in zip(a.scalars, b.scalars) {
        num += Double(x - y) * Double(x - y)
        den += Double(y) * Double(y)
    }
    return den == 0 ? sqrt(num) : sqrt(num / den)
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// IoU of the masks `logits > 0` per leading index, [N, ...] each.
func maskIoUs(_ a: Tensor, _ b: Tensor) -> [Double] {
    let n = a.shape[0]
    let plane = a.count / n
    let (x, y) = (a.scalars, b.scalars)
    return (0..<n).map { i in
        var inter = 0
        var union = 0
        for j in (i * plane)..<((i + 1) * plane) {
            let (p, q) = (x[j] > 0, y[j] > 0)
            if p && q { inter += 1 }
            if p || q { union += 1 }
        }
        return union == 0 ? 1 : Double(inter) / Double(union)
    }
}

/// Every `stride`-th row and column of [N, H, W] (how the fixtures store large logits).
func subsample(_ x: Tensor, stride s: Int) -> Tensor {
    let (n, h, w) = (x.shape[0], x.shape[1], x.shape[2])
    let (oh, ow) = ((h + s - 1) / s, (w + s - 1) / s)
    let v = x.scalars
    var out = [Float]()
    out.reserveCapacity(n * oh * ow)
    for i in 0..<n {
        for y in stride(from: 0, to: h, by: s) {
            for xx in stride(from: 0, to: w, by: s) { out.append(v[(i * h + y) * w + xx]) }
        }
    }
    return Tensor(shape: [n, oh, ow], scalars: out)
}

/// Worst errors of one prompt case against the reference (SPEC §4 measures).
struct PromptFigures {
    var decoderMasks = 0.0, decoderTokens = 0.0, logits = 0.0, lowRes = 0.0
    var decoderIoU: Float = 0, objectScore: Float = 0, scores: Float = 0
    var minimumIoU = 1.0

    func expectWithinTolerances(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(decoderMasks <= 1e-4, "decoder masks \(decoderMasks)", sourceLocation: sourceLocation)
        #expect(decoderTokens <= 1e-4, "decoder tokens \(decoderTokens)", sourceLocation: sourceLocation)
        #expect(decoderIoU <= 2e-3, "decoder IoU predictions \(decoderIoU)", sourceLocation: sourceLocation)
        #expect(objectScore <= 2e-3, "object score \(objectScore)", sourceLocation: sourceLocation)
        #expect(logits <= 5e-4, "logits at the original size \(logits)", sourceLocation: sourceLocation)
        #expect(minimumIoU >= 0.999, "mask IoU \(minimumIoU)", sourceLocation: sourceLocation)
        #expect(scores <= 2e-3, "scores \(scores)", sourceLocation: sourceLocation)
        #expect(lowRes <= 5e-4, "low-res logits \(lowRes)", sourceLocation: sourceLocation)
    }

    mutating func takeWorst(_ o: PromptFigures) {
        decoderMasks = max(decoderMasks, o.decoderMasks)
        decoderTokens = max(decoderTokens, o.decoderTokens)
        logits = max(logits, o.logits)
        lowRes = max(lowRes, o.lowRes)
        decoderIoU = max(decoderIoU, o.decoderIoU)
        objectScore = max(objectScore, o.objectScore)
        scores = max(scores, o.scores)
        minimumIoU = min(minimumIoU, o.minimumIoU)
    }
}

/// Runs one reference prompt case: the mask decoder alone on the reference's prompt embeddings
/// and image features, then the predictor end to end on the image already set.
func comparePrompt(
    model: SAM2Model, predictor: SAM2ImagePredictor, reference ref: ReferenceCase,
    features: ReferenceCase
) throws -> PromptFigures {
    var f = PromptFigures()
    let multimask = ref.bool("multimask_output")
    let normalized = !ref.bool("normalize_coords")
    let points = (ref.floats("point_coords") ?? []).map { SIMD2($0[0], $0[1]) }
    let labels = ref.ints("point_labels") ?? []
    let boxes = (ref.floats("box") ?? []).map { SIMD4($0[0], $0[1], $0[2], $0[3]) }
    let maskInput = ref.has("mask_input") ? try ref["mask_input"] : nil

    let refDense = try ref["dense"]
    // Fixtures keep only a corner of the constant no-mask embedding.
    let dense = refDense.shape[2] == 2 ? model.promptEncoder.noMaskDense(batch: refDense.shape[0]) : refDense
    let decoded = model.maskDecoder(
        imageEmbedding: try features["image_embed"], imagePE: model.promptEncoder.densePositionEncoding,
        sparse: try ref["sparse"], dense: dense, multimaskOutput: multimask,
        highResFeatures: [try features["high_res_0"], try features["high_res_1"]])
    f.decoderMasks = relativeL2(decoded.masks, try ref["decoder_masks"])
    f.decoderIoU = maxAbsDifference(decoded.iouPredictions.scalars, try ref["decoder_iou"].scalars)
    f.decoderTokens = relativeL2(decoded.samTokens, try ref["decoder_tokens"])
    f.objectScore = maxAbsDifference(decoded.objectScoreLogits.scalars, try ref["decoder_object_scores"].scalars)

    let predictions: [SAM2Prediction]
    if boxes.count > 1 {
        predictions = try predictor.predict(
            boxes: boxes, maskInput: maskInput, multimaskOutput: multimask, returnLogits: true,
            normalizedCoordinates: normalized)
    } else {
        predictions = [
            try predictor.predict(
                points: points, labels: labels, box: boxes.first, maskInput: maskInput,
                multimaskOutput: multimask, returnLogits: true, normalizedCoordinates: normalized)
        ]
    }
    let logits = Tensor.concatenate(predictions.map(\.masks), axis: 0)
    let lowRes = Tensor.concatenate(predictions.map(\.lowResLogits), axis: 0)
    let refLogits = try ref["logits"]
    let flatRef = refLogits.reshaped([-1, refLogits.dim(-2), refLogits.dim(-1)])
    let ours = subsample(logits, stride: ref.int("stride"))
    f.logits = relativeL2(ours, flatRef)
    f.minimumIoU = maskIoUs(ours, flatRef).min() ?? 1
    f.scores = maxAbsDifference(predictions.flatMap(\.scores), try ref["scores"].scalars)
    let refLow = try ref["low_res"]
    f.lowRes = relativeL2(lowRes, refLow.reshaped([-1, refLow.dim(-2), refLow.dim(-1)]))
    return f
}
