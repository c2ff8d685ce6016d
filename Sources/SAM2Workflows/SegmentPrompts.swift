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

    /// The masks of `image` (named `input`) on a predictor whose image is set already, and the image's
    /// COCO id when the detection file names one.
    public func result(
        for image: RGBImage, input: ImageInput, predictor: SAM2ImagePredictor,
        sortByScore: Bool
    ) throws -> (result: SegmentationResult, imageID: Int?) {
        let threshold = predictor.maskThreshold
        guard let detections else {
            let multimask = multimask ?? (boxes.isEmpty && maskInput == nil)
            let predictions: [SAM2Prediction]
            if boxes.count > 1 {
                predictions = try predictor.predict(
                    boxes: boxes, points: points.isEmpty ? nil : [points], labels: points.isEmpty ? nil : [labels],
                    maskInput: maskInput, multimaskOutput: multimask, returnLogits: true)
            } else {
                predictions = [
                    try predictor.predict(
                        points: points, labels: labels, box: boxes.first, maskInput: maskInput,
                        multimaskOutput: multimask, returnLogits: true)
                ]
            }
            return (
                SegmentationResult(
                    image: image, predictions: predictions, threshold: threshold, sortByScore: sortByScore), nil
            )
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
        let predictions =
            corners.isEmpty ? [] : try predictor.predict(boxes: corners, multimaskOutput: false, returnLogits: true)
        return (
            SegmentationResult(
                image: image, predictions: predictions, threshold: threshold, sortByScore: sortByScore, detections: kept
            ),
            found.imageID
        )
    }
}
