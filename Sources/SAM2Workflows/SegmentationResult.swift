// SegmentationResult: the masks of `segment` flattened to numbered records (score, area, bbox)
// and written as mask PNGs, cut-outs (inverted, cropped), an overlay, logits (.npy) and a
// SegmentationRecord.

import Foundation
import SAM2
import SAM2IO

public struct SegmentationResult: Sendable {
    public struct Mask: Sendable {
        public var index: Int
        /// Which prompt set (box) it came from.
        public var prompt: Int
        public var score: Float
        public var area: Int
        /// x, y, width, height of the mask's pixels (zeros when empty).
        public var bbox: [Int]
        /// 0/1 per pixel.
        public var values: [UInt8]
        /// Where its logits are: mask `mask` of prediction `prompt`.
        var logitsIndex: Int
        /// The detector's box it answers (`--boxes-from`), if any.
        public var detection: Detection?
        public var fileName: String { "mask_\(index).png" }
        public var cutoutName: String { "cutout_\(index).png" }
    }

    /// How cut-outs are made: keep the mask (or, with `invert`, everything but it); `crop` cuts the
    /// cut-out to the bounding box of what it keeps.
    public struct CutoutStyle: Sendable, Equatable {
        public var invert: Bool
        public var crop: Bool

        public init(invert: Bool = false, crop: Bool = false) {
            self.invert = invert
            self.crop = crop
        }
    }

    public var image: RGBImage
    public var masks: [Mask]
    /// The predictions, logits at the image's size (kept, not copied, for `writeLogits`).
    private let predictions: [SAM2Prediction]

    /// Flattens predictions made with `returnLogits: true`, thresholding the logits at `threshold`.
    /// `detections[p]`, when given, is the detector box that prompt set p came from.
    public init(
        image: RGBImage, predictions: [SAM2Prediction], threshold: Float, sortByScore: Bool,
        detections: [Detection] = []
    ) {
        self.image = image
        self.predictions = predictions
        var masks: [Mask] = []
        let plane = image.width * image.height
        for (p, prediction) in predictions.enumerated() {
            for m in 0..<prediction.scores.count {
                let values = prediction.masks.withUnsafeBufferPointer { logits in
                    [UInt8](unsafeUninitializedCapacity: plane) { out, count in
                        for i in 0..<plane { out[i] = logits[m * plane + i] > threshold ? 1 : 0 }
                        count = plane
                    }
                }
                let box = MaskRendering.boundingBox(values, width: image.width, height: image.height)
                masks.append(
                    Mask(
                        index: masks.count, prompt: p, score: prediction.scores[m],
                        area: values.reduce(0) { $0 + Int($1) },
                        bbox: box.map { [$0.x, $0.y, $0.width, $0.height] } ?? [0, 0, 0, 0], values: values,
                        logitsIndex: m, detection: p < detections.count ? detections[p] : nil))
            }
        }
        if sortByScore {
            masks.sort { $0.score > $1.score }
            for i in masks.indices { masks[i].index = i }
        }
        self.masks = masks
    }

    /// Writes mask_K.png (0/255) and, on request, cutout_K.png and overlay.png, each atomically.
    public func write(to directory: URL, cutout: CutoutStyle?, overlay: Bool) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for m in masks {
            try ImageIO.writeGrayPNG(
                m.values.map { $0 * 255 }, width: image.width, height: image.height,
                to: directory.appendingPathComponent(m.fileName))
            if let cutout {
                let url = directory.appendingPathComponent(m.cutoutName)
                if cutout.crop {
                    let c = MaskRendering.croppedCutout(image, mask: m.values, invert: cutout.invert)
                    try ImageIO.writeRGBAPNG(c.rgba, width: c.width, height: c.height, to: url)
                } else {
                    try ImageIO.writeRGBAPNG(
                        MaskRendering.cutout(image, mask: m.values, invert: cutout.invert),
                        width: image.width, height: image.height, to: url)
                }
            }
        }
        if overlay {
            try ImageIO.writeRGBPNG(
                MaskRendering.overlay(image, masks: masks.map(\.values)),
                to: directory.appendingPathComponent("overlay.png"))
        }
    }

    /// Writes the logits at the image's size as float32 .npy, shape N×H×W.
    public func writeLogits(to url: URL) throws {
        let plane = image.width * image.height
        var all = [Float]()
        all.reserveCapacity(masks.count * plane)
        for m in masks {
            predictions[m.prompt].masks.withUnsafeBufferPointer { logits in
                all += logits[(m.logitsIndex * plane)..<((m.logitsIndex + 1) * plane)]
            }
        }
        try NPY.write(all, shape: [masks.count, image.height, image.width], to: url)
    }

    /// The summary of the masks: score, area, bbox, COCO RLE, the files written to `outputDirectory`
    /// (with cut-outs when `cutouts`) and the detector's box, category and score.
    public func record(image path: String? = nil, imageID: Int? = nil, outputDirectory: String?, cutouts: Bool = false)
        -> SegmentationRecord
    {
        let items = masks.map { m -> SegmentationRecord.Mask in
            let file = { (name: String) in outputDirectory.map { ($0 as NSString).appendingPathComponent(name) } }
            let rle = UncompressedRLE(mask: m.values, height: image.height, width: image.width)
            let box = m.detection.map { d -> [Float] in
                let c = d.corners(width: image.width, height: image.height)
                return [c.x, c.y, c.z, c.w]
            }
            return SegmentationRecord.Mask(
                index: m.index, prompt: m.prompt, score: m.score, area: m.area, bbox: m.bbox,
                file: file(m.fileName), cutout: cutouts ? file(m.cutoutName) : nil,
                segmentation: COCORLE(rle),
                box: box, categoryId: m.detection?.categoryID, detectorScore: m.detection?.score)
        }
        return SegmentationRecord(image: path, imageId: imageID, width: image.width, height: image.height, masks: items)
    }
}
