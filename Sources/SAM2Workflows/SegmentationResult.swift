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
        /// The mask as run lengths: compact, so that many masks of a large image fit in memory.
        public var rle: UncompressedRLE
        /// The logits at the image's size [H, W], when kept for `writeLogits`.
        var logits: Tensor?
        /// The detector's box it answers (`--boxes-from`), if any.
        public var detection: Detection?
        public var fileName: String { "mask_\(index).png" }
        public var cutoutName: String { "cutout_\(index).png" }
        /// 0/1 per pixel, row-major (decoded from the run lengths).
        public var values: [UInt8] { rle.mask() }
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
    public private(set) var masks: [Mask] = []
    /// Logits above it are inside.
    public let threshold: Float
    /// Whether each mask's full-size logits are kept (for `writeLogits`).
    public let keepLogits: Bool
    /// Prompt sets added so far.
    private var prompts = 0

    /// An empty result for `image`; predictions are added with `append`.
    public init(image: RGBImage, threshold: Float, keepLogits: Bool = false) {
        self.image = image
        self.threshold = threshold
        self.keepLogits = keepLogits
    }

    /// Flattens predictions made with `returnLogits: true`, thresholding the logits at `threshold`.
    /// `detections[p]`, when given, is the detector box that prompt set p came from.
    public init(
        image: RGBImage, predictions: [SAM2Prediction], threshold: Float, sortByScore: Bool,
        detections: [Detection] = [], keepLogits: Bool = false
    ) {
        self.init(image: image, threshold: threshold, keepLogits: keepLogits)
        append(predictions, detections: detections)
        if sortByScore { self.sortByScore() }
    }

    /// Adds the masks of the next prompt sets' predictions (made with `returnLogits: true`), one prompt
    /// set per prediction; `detections[k]` is the detector box of `predictions[k]`. The logits are not
    /// kept unless `keepLogits`: the masks hold their run lengths only.
    public mutating func append(_ predictions: [SAM2Prediction], detections: [Detection] = []) {
        let (w, h) = (image.width, image.height)
        let plane = w * h
        for (k, prediction) in predictions.enumerated() {
            prediction.masks.withUnsafeBufferPointer { logits in
                for m in 0..<prediction.scores.count {
                    let rle = UncompressedRLE(
                        plane: UnsafeBufferPointer(rebasing: logits[(m * plane)..<((m + 1) * plane)]), height: h,
                        width: w, threshold: threshold)
                    let box = rle.boundingBox.map { [$0.x, $0.y, $0.width, $0.height] } ?? [0, 0, 0, 0]
                    masks.append(
                        Mask(
                            index: masks.count, prompt: prompts + k, score: prediction.scores[m], area: rle.area,
                            bbox: box, rle: rle,
                            logits: keepLogits ? prediction.masks.slice(axis: 0, m..<(m + 1)) : nil,
                            detection: k < detections.count ? detections[k] : nil))
                }
            }
        }
        prompts += predictions.count
    }

    /// Orders the masks best score first and numbers them again.
    public mutating func sortByScore() {
        masks.sort { $0.score > $1.score }
        for i in masks.indices { masks[i].index = i }
    }

    /// Writes mask_K.png (0/255) and, on request, cutout_K.png and overlay.png as one set: every file is
    /// written under a temporary name first and all are renamed into place together, then what an
    /// earlier run left there (other mask_K, cutout_K, overlay files) is removed. A failure before that
    /// (a full disk) leaves the folder as it was.
    public func write(to directory: URL, cutout: CutoutStyle?, overlay: Bool) throws {
        try AtomicFile.createDirectory(directory)
        AtomicFile.removeStaleTemporaries(in: directory)
        let batch = AtomicFile.Batch()
        let (w, h) = (image.width, image.height)
        for m in masks {
            let values = m.values
            let url = directory.appendingPathComponent(m.fileName)
            try batch.add(ImageIO.encodeGrayPNG(values, width: w, height: h, name: url.path), to: url)
            if let cutout {
                let url = directory.appendingPathComponent(m.cutoutName)
                if cutout.crop {
                    let c = MaskRendering.croppedCutout(image, mask: values, invert: cutout.invert)
                    try batch.add(
                        ImageIO.encodeRGBAPNG(c.rgba, width: c.width, height: c.height, name: url.path), to: url)
                } else {
                    let rgba = MaskRendering.cutout(image, mask: values, invert: cutout.invert)
                    try batch.add(ImageIO.encodeRGBAPNG(rgba, width: w, height: h, name: url.path), to: url)
                }
            }
        }
        if overlay {
            let url = directory.appendingPathComponent("overlay.png")
            let picture = MaskRendering.overlay(image, masks: masks.lazy.map(\.values))
            try batch.add(ImageIO.encodeRGBPNG(picture, name: url.path), to: url)
        }
        try batch.commit(removing: Self.earlierOutputs(in: directory))
    }

    /// The files a segmentation writes (mask_K.png, cutout_K.png, overlay.png) that are in `directory`.
    static func earlierOutputs(in directory: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { name in
            if name == "overlay.png" { return true }
            for prefix in ["mask_", "cutout_"] where name.hasPrefix(prefix) && name.hasSuffix(".png") {
                return Int(name.dropFirst(prefix.count).dropLast(4)) != nil
            }
            return false
        }.map { directory.appendingPathComponent($0) }
    }

    /// Writes the logits at the image's size as float32 .npy, shape N×H×W (needs `keepLogits`).
    public func writeLogits(to url: URL) throws {
        precondition(keepLogits, "SegmentationResult.writeLogits: the logits were not kept (keepLogits)")
        try NPY.write(shape: [masks.count, image.height, image.width], to: url) { part in
            for m in masks {
                try m.logits!.withUnsafeBufferPointer { try part($0) }
            }
        }
    }

    /// The summary of the masks: score, area, bbox, COCO RLE, the files written to `outputDirectory`
    /// (with cut-outs when `cutouts`) and the detector's box, category and score.
    public func record(image path: String? = nil, imageID: Int? = nil, outputDirectory: String?, cutouts: Bool = false)
        -> SegmentationRecord
    {
        let items = masks.map { m -> SegmentationRecord.Mask in
            let file = { (name: String) in outputDirectory.map { ($0 as NSString).appendingPathComponent(name) } }
            let box = m.detection.map { d -> [Float] in
                let c = d.corners(width: image.width, height: image.height)
                return [c.x, c.y, c.z, c.w]
            }
            return SegmentationRecord.Mask(
                index: m.index, prompt: m.prompt, score: m.score, area: m.area, bbox: m.bbox,
                file: file(m.fileName), cutout: cutouts ? file(m.cutoutName) : nil,
                segmentation: COCORLE(m.rle),
                box: box, categoryId: m.detection?.categoryID, detectorScore: m.detection?.score)
        }
        return SegmentationRecord(image: path, imageId: imageID, width: image.width, height: image.height, masks: items)
    }
}
