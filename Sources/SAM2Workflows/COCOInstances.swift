// COCOInstances: a COCO instances file — images, annotations with COCO RLE segmentations, categories —
// as `sam2 auto --coco`, `sam2 segment --coco` and the annotation server's export write it (Codable,
// keys sorted). Besides COCO's own fields an annotation may carry the model's: predicted IoU,
// stability score, point, crop box, the detector's box, a label.

import Foundation
import SAM2
import SAM2IO

/// A category of a COCO file.
public struct COCOCategory: Sendable, Equatable, Codable {
    public var id: Int
    public var name: String
    public var supercategory: String?

    public init(id: Int, name: String, supercategory: String? = nil) {
        self.id = id
        self.name = name
        self.supercategory = supercategory
    }
}

public struct COCOImage: Sendable, Equatable, Codable {
    public var id: Int
    public var fileName: String
    public var width: Int
    public var height: Int

    enum CodingKeys: String, CodingKey {
        case id, width, height
        case fileName = "file_name"
    }
}

/// A mask as COCO compressed RLE: `size` [height, width] and the counts string.
public struct COCORLE: Sendable, Equatable, Codable {
    public var size: [Int]
    public var counts: String

    public init(size: [Int], counts: String) {
        self.size = size
        self.counts = counts
    }

    public init(_ rle: UncompressedRLE) {
        self.init(size: [rle.height, rle.width], counts: rle.cocoString)
    }
}

public struct COCOAnnotation: Sendable, Equatable, Codable {
    public var id = 0
    public var imageID: Int
    public var categoryID: Int
    public var segmentation: COCORLE
    public var iscrowd = 0
    /// The detector's score, else the predicted IoU; absent when unknown.
    public var score: Float?
    public var area: Int
    /// x, y, width, height of the mask's pixels.
    public var bbox: [Int]
    public var predictedIoU: NullableFloat?
    public var stabilityScore: NullableFloat?
    /// The grid point that produced the mask: [[x, y]].
    public var pointCoords: [[NullableFloat]]?
    /// x, y, width, height of the crop the mask was found in.
    public var cropBox: [Int]?
    /// The detector's box (x0, y0, x1, y1, pixels) the mask answers.
    public var box: [Float]?
    public var label: String?

    public init(imageID: Int, categoryID: Int, segmentation: COCORLE, score: Float?, area: Int, bbox: [Int]) {
        self.imageID = imageID
        self.categoryID = categoryID
        self.segmentation = segmentation
        self.score = score
        self.area = area
        self.bbox = bbox
    }

    enum CodingKeys: String, CodingKey {
        case id, segmentation, iscrowd, score, area, bbox, box, label
        case imageID = "image_id"
        case categoryID = "category_id"
        case predictedIoU = "predicted_iou"
        case stabilityScore = "stability_score"
        case pointCoords = "point_coords"
        case cropBox = "crop_box"
    }
}

public struct COCOInstances: Sendable, Equatable, Codable {
    public private(set) var images: [COCOImage] = []
    public private(set) var annotations: [COCOAnnotation] = []
    public private(set) var categories: [COCOCategory] = []

    public init() {}

    /// Adds an image; `id` nil takes the next number (1, 2, …). Returns the id.
    @discardableResult
    public mutating func addImage(id: Int? = nil, fileName: String, width: Int, height: Int) -> Int {
        let imageID = id ?? images.count + 1
        images.append(COCOImage(id: imageID, fileName: fileName, width: width, height: height))
        return imageID
    }

    /// Adds an annotation, numbered 1, 2, … in order.
    public mutating func addAnnotation(_ annotation: COCOAnnotation) {
        var a = annotation
        a.id = annotations.count + 1
        annotations.append(a)
    }

    /// Adds an image of `sam2 segment` and its masks: category 1 unless a detector's box gave one;
    /// `score` is the detector's score, else the mask's predicted IoU (`predicted_iou`).
    public mutating func add(_ record: SegmentationRecord, imageID: Int?, fileName: String) {
        let id = addImage(id: imageID, fileName: fileName, width: record.width, height: record.height)
        for m in record.masks {
            var a = COCOAnnotation(
                imageID: id, categoryID: m.categoryId ?? 1,
                segmentation: m.segmentation,
                score: m.detectorScore ?? m.score, area: m.area, bbox: m.bbox)
            a.predictedIoU = NullableFloat(m.score)
            a.box = m.box
            addAnnotation(a)
        }
    }

    /// Adds an image's automatic masks, category 1, scored by predicted IoU.
    public mutating func add(_ masks: [AutomaticMask], fileName: String, width: Int, height: Int) {
        let id = addImage(fileName: fileName, width: width, height: height)
        for m in masks {
            var a = COCOAnnotation(
                imageID: id, categoryID: 1, segmentation: COCORLE(m.rle), score: m.predictedIoU, area: m.area,
                bbox: m.bbox)
            a.predictedIoU = NullableFloat(m.predictedIoU)
            a.stabilityScore = NullableFloat(m.stabilityScore)
            a.pointCoords = [[NullableFloat(m.pointCoords.x), NullableFloat(m.pointCoords.y)]]
            a.cropBox = m.cropBox
            addAnnotation(a)
        }
    }

    /// Sets the categories: `listed` first, then any category used but not listed, named by its id.
    public mutating func setCategories(_ listed: [COCOCategory]) {
        let known = Set(listed.map(\.id))
        var used: [Int] = []
        for a in annotations where !known.contains(a.categoryID) && !used.contains(a.categoryID) {
            used.append(a.categoryID)
        }
        categories = listed + used.sorted().map { COCOCategory(id: $0, name: String($0)) }
    }

    /// Writes the file atomically.
    public func write(to url: URL) throws {
        try AtomicFile.write(JSONCoding.encode(self) + Data("\n".utf8), to: url)
    }
}
