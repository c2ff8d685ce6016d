// AutomaticMaskJob: `sam2 auto IMAGE|DIR...` — every mask of each image from the automatic mask
// generator, reported per image (the `--json` line: the reference's record fields), written as
// OUT/<image stem>/mask_K.png and overlay.png, and gathered into one COCO instances file.

import Foundation
import SAM2
import SAM2IO

/// The reference's record of one automatic mask (`SAM2AutomaticMaskGenerator.generate`'s dicts):
/// `segmentation` in the generator's output mode, `area`, `bbox` (XYWH), `predicted_iou`,
/// `point_coords`, `stability_score` (null when not finite), `crop_box`.
public struct AutomaticMaskRecord: Encodable, Sendable {
    public var mask: AutomaticMask
    public var width: Int
    public var height: Int

    enum CodingKeys: String, CodingKey {
        case segmentation, area, bbox
        case predictedIoU = "predicted_iou"
        case pointCoords = "point_coords"
        case stabilityScore = "stability_score"
        case cropBox = "crop_box"
    }

    private struct RunLengths<Counts: Encodable>: Encodable {
        var size: [Int]
        var counts: Counts
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch mask.segmentation {
        case .binary(let values):
            let rows = (0..<height).map { y in values[(y * width)..<((y + 1) * width)].map { $0 == 0 ? 0 : 1 } }
            try c.encode(rows, forKey: .segmentation)
        case .uncompressedRLE(let rle):
            try c.encode(RunLengths(size: [rle.height, rle.width], counts: rle.counts), forKey: .segmentation)
        case .cocoRLE(let counts):
            try c.encode(RunLengths(size: [height, width], counts: counts), forKey: .segmentation)
        }
        try c.encode(mask.area, forKey: .area)
        try c.encode(mask.bbox, forKey: .bbox)
        try c.encode(NullableFloat(mask.predictedIoU), forKey: .predictedIoU)
        try c.encode([[NullableFloat(mask.pointCoords.x), NullableFloat(mask.pointCoords.y)]], forKey: .pointCoords)
        try c.encode(NullableFloat(mask.stabilityScore), forKey: .stabilityScore)
        try c.encode(mask.cropBox, forKey: .cropBox)
    }
}

/// One image's masks, as `sam2 auto --json` prints them: `{"image", "width", "height", "masks"}`.
public struct AutomaticMaskLine: Encodable, Sendable {
    public var image: String
    public var width: Int
    public var height: Int
    public var masks: [AutomaticMaskRecord]

    public init(image: String, width: Int, height: Int, masks: [AutomaticMask]) {
        self.image = image
        self.width = width
        self.height = height
        self.masks = masks.map { AutomaticMaskRecord(mask: $0, width: width, height: height) }
    }
}

public struct AutomaticMaskJob: Sendable {
    public var images: [ImageInput]
    /// Where OUT/<image stem>/mask_K.png (0/255) and overlay.png go, if anywhere.
    public var output: URL?
    /// The COCO instances file of all images (one category, "object"), if wanted.
    public var coco: URL?
    /// Largest image read.
    public var limits = ImageLimits()

    public init(images: [ImageInput], output: URL? = nil, coco: URL? = nil) {
        self.images = images
        self.output = output
        self.coco = coco
    }

    /// Runs the generator on every image in order: `progress` gets each image's fraction done,
    /// `onImage` its masks (once they are written); the COCO file is written at the end.
    public func run(
        generator: SAM2AutomaticMaskGenerator, progress: @escaping (ImageInput, Double) -> Void = { _, _ in },
        onImage: (ImageInput, RGBImage, [AutomaticMask]) throws -> Void
    ) throws {
        var instances = COCOInstances()
        for input in images {
            let image = try ImageIO.readImage(URL(fileURLWithPath: input.path), limits: limits)
            let masks = try generator.generate(image) { progress(input, $0) }
            if let output { try write(masks, of: image, to: output.appendingPathComponent(input.stem)) }
            if coco != nil { instances.add(masks, fileName: input.path, width: image.width, height: image.height) }
            try onImage(input, image, masks)
        }
        if let coco {
            instances.setCategories([COCOCategory(id: 1, name: "object", supercategory: "object")])
            try instances.write(to: coco)
        }
    }

    private func write(_ masks: [AutomaticMask], of image: RGBImage, to directory: URL) throws {
        try AtomicFile.createDirectory(directory)
        let binary = masks.map { $0.rle.mask() }
        for (k, mask) in binary.enumerated() {
            try ImageIO.writeGrayPNG(
                mask, width: image.width, height: image.height, to: directory.appendingPathComponent("mask_\(k).png"))
        }
        try ImageIO.writeRGBPNG(
            MaskRendering.overlay(image, masks: binary), to: directory.appendingPathComponent("overlay.png"))
    }
}
