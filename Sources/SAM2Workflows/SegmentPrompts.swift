// SegmentPrompts: the prompts of a `sam2 segment` run — points, boxes and a mask given once for every
// image, or a detector's boxes looked up per image — turned into an image's masks.

import Foundation
import SAM2
import SAM2IO

public struct SegmentPrompts: Sendable {
    public var points: [SIMD2<Float>] = []
    public var labels: [Int] = []
    public var boxes: [SIMD4<Float>] = []
    public var maskInput: Tensor?
    /// Three masks per prompt set, or one; nil: three for points alone, one with a box or a mask.
    public var multimask: Bool?
    /// Boxes from a detector instead: one mask per box, all of an image's boxes in one decoder pass.
    public var detections: DetectionSet?
    /// Detector boxes scoring below this are dropped (boxes without a score are kept).
    public var minScore: Float?

    public init() {}

    /// Boxes predicted together at most (each box's decoder pass and full-size logits are then
    /// turned into run lengths), so that memory stays flat in the number of boxes.
    public static let boxesPerPass = 16

    /// The masks of `image` (named `input`) on a predictor whose image is set already, and the image's
    /// COCO id when the detection file names one. `keepLogits` keeps every mask's logits (`--save-logits`).
    public func result(
        for image: RGBImage, input: ImageInput, predictor: SAM2ImagePredictor,
        sortByScore: Bool, keepLogits: Bool = false
    ) throws -> (result: SegmentationResult, imageID: Int?) {
        var result = SegmentationResult(image: image, threshold: predictor.maskThreshold, keepLogits: keepLogits)
        guard let detections else {
            let multimask = multimask ?? (boxes.isEmpty && maskInput == nil)
            if boxes.count > 1 {
                for start in stride(from: 0, to: boxes.count, by: Self.boxesPerPass) {
                    let chunk = Array(boxes[start..<min(start + Self.boxesPerPass, boxes.count)])
                    result.append(
                        try predictor.predict(
                            boxes: chunk, points: points.isEmpty ? nil : [points],
                            labels: points.isEmpty ? nil : [labels], maskInput: maskInput, multimaskOutput: multimask,
                            returnLogits: true))
                }
            } else {
                result.append([
                    try predictor.predict(
                        points: points, labels: labels, box: boxes.first, maskInput: maskInput,
                        multimaskOutput: multimask, returnLogits: true)
                ])
            }
            if sortByScore { result.sortByScore() }
            return (result, nil)
        }
        let found = try detections.boxes(forImage: input.relativePath)
        let kept = found.detections.filter { d in minScore.map { min in d.score.map { $0 >= min } ?? true } ?? true }
        let corners = try kept.map { d -> SIMD4<Float> in
            let c = d.corners(width: image.width, height: image.height)
            guard c.z >= 0 && c.w >= 0 && c.x <= Float(image.width) && c.y <= Float(image.height) else {
                throw DatasetFileError.invalidBox(
                    source: d.source,
                    problem:
                        "box (\(c.x), \(c.y), \(c.z), \(c.w)) lies wholly outside the \(image.width)×\(image.height) "
                        + "image \(input.path)"
                )
            }
            return c
        }
        for start in stride(from: 0, to: corners.count, by: Self.boxesPerPass) {
            let range = start..<min(start + Self.boxesPerPass, corners.count)
            result.append(
                try predictor.predict(boxes: Array(corners[range]), multimaskOutput: false, returnLogits: true),
                detections: Array(kept[range]))
        }
        if sortByScore { result.sortByScore() }
        return (result, found.imageID)
    }
}
