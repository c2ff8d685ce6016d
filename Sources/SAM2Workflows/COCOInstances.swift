// COCOInstances: a COCO instances file under construction — images, annotations with COCO RLE
// segmentations, categories — as `sam2 auto --coco`, `sam2 segment --coco` and the annotation
// server's export write it.

import Foundation
import SAM2
import SAM2IO

public struct COCOInstances: Sendable {
    private var images: [String] = []
    private var imageIDs: Set<Int> = []
    private var annotations: [String] = []
    private var categoryIDs: [Int] = []

    public init() {}

    public var imageCount: Int { images.count }

    /// Adds an image; `id` nil takes the next number (1, 2, …). Returns the id.
    @discardableResult
    public mutating func addImage(id: Int? = nil, fileName: String, width: Int, height: Int) -> Int {
        let imageID = id ?? images.count + 1
        images.append(
            "{\"id\":\(imageID),\"file_name\":\(jsonString(fileName)),\"width\":\(width),\"height\":\(height)}")
        imageIDs.insert(imageID)
        return imageID
    }

    /// Adds an annotation (numbered 1, 2, … in order) of a mask given as COCO RLE counts; `fields`
    /// holds further JSON members (`"area":…,"bbox":…`) written after `score`.
    public mutating func addAnnotation(
        imageID: Int, categoryID: Int, height: Int, width: Int, counts: String, score: Float, fields: String
    ) {
        let segmentation = "{\"size\":[\(height),\(width)],\"counts\":\(jsonString(counts))}"
        annotations.append(
            "{\"id\":\(annotations.count + 1),\"image_id\":\(imageID),\"category_id\":\(categoryID),"
                + "\"segmentation\":\(segmentation),\"iscrowd\":0,\"score\":\(jsonNumber(score)),\(fields)}")
        if !categoryIDs.contains(categoryID) { categoryIDs.append(categoryID) }
    }

    /// The same for a mask given as run lengths.
    public mutating func addAnnotation(
        imageID: Int, categoryID: Int, mask: UncompressedRLE, score: Float, fields: String
    ) {
        addAnnotation(
            imageID: imageID, categoryID: categoryID, height: mask.height, width: mask.width,
            counts: mask.cocoString, score: score, fields: fields)
    }

    /// Adds an image of `sam2 segment` and its masks: category 1 unless a detector's box gave one;
    /// `score` is the detector's score, else the mask's predicted IoU (`predicted_iou`).
    public mutating func add(_ record: SegmentationRecord, imageID: Int?, fileName: String) {
        let id = addImage(id: imageID, fileName: fileName, width: record.width, height: record.height)
        for m in record.masks {
            var fields =
                "\"area\":\(m.area),\"bbox\":[\(m.bbox.map(String.init).joined(separator: ","))],\"predicted_iou\":\(jsonNumber(m.score))"
            if let box = m.box { fields += ",\"box\":[\(box.map(jsonNumber).joined(separator: ","))]" }
            addAnnotation(
                imageID: id, categoryID: m.categoryId ?? 1, height: record.height, width: record.width,
                counts: m.segmentation.counts, score: m.detectorScore ?? m.score, fields: fields)
        }
    }

    /// The file's text: `categories` first, then any category used but not listed, named by its id.
    public func json(categories: [COCOCategory]) -> String {
        let listed = Set(categories.map(\.id))
        let all =
            categories
            + categoryIDs.filter { !listed.contains($0) }.sorted().map { COCOCategory(id: $0, name: String($0)) }
        let cats = all.map { c in
            "{\"id\":\(c.id),\"name\":\(jsonString(c.name))"
                + (c.supercategory.map { ",\"supercategory\":\(jsonString($0))" } ?? "") + "}"
        }
        return
            "{\"images\":[\(images.joined(separator: ",\n"))],\n\"annotations\":[\(annotations.joined(separator: ",\n"))],\n"
            + "\"categories\":[\(cats.joined(separator: ","))]}\n"
    }
}

/// A number as JSON (null when not finite, as a NaN stability score of an empty mask).
public func jsonNumber(_ x: Float) -> String { x.isFinite ? "\(x)" : "null" }
