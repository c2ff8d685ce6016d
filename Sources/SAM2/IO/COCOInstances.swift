// COCOInstances: a COCO instances document under construction — images, annotations with COCO RLE
// masks (pycocotools' compressed counts), categories — written by `sam2 auto --coco` and by the
// annotation server's export.

/// A COCO instances file: `{"images", "annotations", "categories"}`, ids counted from 1.
public struct COCOInstances: Sendable {
    private var images: [String] = []
    private var annotations: [String] = []
    private let categories: [String]

    /// `categories` are the category names; category i (0-based) gets id i + 1.
    public init(categories: [String] = ["object"]) {
        self.categories = categories
    }

    /// Adds an image and returns its id.
    public mutating func addImage(fileName: String, width: Int, height: Int) -> Int {
        images.append("{\"id\":\(images.count + 1),\"file_name\":\(jsonString(fileName)),\"width\":\(width),\"height\":\(height)}")
        return images.count
    }

    /// Adds an annotation of image `imageID` with its mask as COCO RLE, `iscrowd` 0 and `score`;
    /// `fields` is JSON text of further members (`"area":…,"bbox":…`) appended after them.
    public mutating func addAnnotation(imageID: Int, categoryID: Int, mask: UncompressedRLE, score: Float, fields: String) {
        let segmentation = "{\"size\":[\(mask.height),\(mask.width)],\"counts\":\(jsonString(mask.cocoString))}"
        let scoreText = score.isFinite ? "\(score)" : "null"
        annotations.append("{\"id\":\(annotations.count + 1),\"image_id\":\(imageID),\"category_id\":\(categoryID),"
                           + "\"segmentation\":\(segmentation),\"iscrowd\":0,\"score\":\(scoreText),\(fields)}")
    }

    public var json: String {
        let categoryList = categories.enumerated().map { i, name in
            "{\"id\":\(i + 1),\"name\":\(jsonString(name)),\"supercategory\":\(jsonString(name))}"
        }
        return "{\"images\":[\(images.joined(separator: ","))],\"annotations\":[\(annotations.joined(separator: ",\n"))],"
            + "\"categories\":[\(categoryList.joined(separator: ","))]}\n"
    }
}
