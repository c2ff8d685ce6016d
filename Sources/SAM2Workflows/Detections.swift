// Detections: an object detector's boxes to prompt SAM 2 with, one mask per box, read from COCO
// detection results, a COCO instances file or YOLO txt labels and matched to image files (SPEC §7).

import Foundation
import SAM2
import SAM2IO

/// One box of a detector, with its category and (when the file has one) its confidence.
public struct Detection: Sendable, Equatable {
    public enum Box: Sendable, Equatable {
        /// COCO: x, y, width, height in pixels.
        case pixelsXYWH(Double, Double, Double, Double)
        /// YOLO: centre x, centre y, width, height as fractions of the image's width and height.
        case normalizedCenter(Double, Double, Double, Double)
    }

    public var box: Box
    public var categoryID: Int
    public var score: Float?
    /// Where the box was read, for messages: "data/boxes.json: entry 3", "labels/a.txt: line 2".
    public var source: String

    public init(box: Box, categoryID: Int, score: Float?, source: String) {
        self.box = box
        self.categoryID = categoryID
        self.score = score
        self.source = source
    }

    /// x0, y0, x1, y1 in pixels of a `width`×`height` image, the predictor's box prompt.
    public func corners(width: Int, height: Int) -> SIMD4<Float> {
        switch box {
        case .pixelsXYWH(let x, let y, let w, let h):
            return SIMD4(Float(x), Float(y), Float(x + w), Float(y + h))
        case .normalizedCenter(let cx, let cy, let w, let h):
            let (W, H) = (Double(width), Double(height))
            return SIMD4(
                Float((cx - w / 2) * W), Float((cy - h / 2) * H), Float((cx + w / 2) * W), Float((cy + h / 2) * H))
        }
    }
}

/// A detection or COCO file that cannot be used: the message names the file and the entry or line at fault.
public enum DatasetFileError: Error, CustomStringConvertible, Equatable {
    case cannotRead(path: String, reason: String)
    case invalidJSON(path: String, reason: String)
    case unknownFormat(path: String)
    case invalidEntry(path: String, entry: String, problem: String)
    /// A box that does not fit its image; `source` is the detection's.
    case invalidBox(source: String, problem: String)

    public var description: String {
        switch self {
        case .cannotRead(let path, let reason): return "cannot read \(path): \(reason)"
        case .invalidJSON(let path, let reason): return "\(path): not valid JSON (\(reason))"
        case .unknownFormat(let path):
            return "\(path): not COCO detection results (a list of {image_id, bbox, score, category_id}), "
                + "a COCO instances file ({images, annotations, categories}) or YOLO labels (.txt or a folder of them)"
        case .invalidEntry(let path, let entry, let problem): return "\(path): \(entry): \(problem)"
        case .invalidBox(let source, let problem): return "\(source): \(problem)"
        }
    }
}

/// The boxes of a detection file, looked up per image.
///
/// Matching images: a COCO instances file (or COCO results with `imagesFrom:` an instances file)
/// maps `image_id` to `images[].file_name`, which matches an image's path relative to the input
/// folder or, failing that, its file name. COCO results alone match the image whose file stem is the
/// integer `image_id` (COCO's `000000123456.jpg` is image 123456). YOLO labels are `<stem>.txt` in
/// the labels folder; an image without one has no boxes; a single `.txt` file is one image's labels.
public struct DetectionSet: Sendable {
    public enum Format: String, Sendable {
        case cocoResults = "COCO detection results"
        case cocoInstances = "COCO instances"
        case yoloFolder = "YOLO labels folder"
        case yoloFile = "YOLO labels file"
    }

    /// One image's boxes and its COCO id (nil for YOLO labels).
    public struct ImageBoxes: Sendable {
        public var imageID: Int?
        public var detections: [Detection]
    }

    public let format: Format
    public let path: String
    /// The categories named by the file (COCO instances or `imagesFrom`), else empty.
    public let categories: [COCOCategory]
    private let byImage: [Int: [Detection]]
    private let idsByFileName: [String: Int]?
    private let yoloLabels: [Detection]

    /// Reads `url`: a JSON list is COCO results, a JSON object with `annotations` a COCO instances
    /// file, a folder or a `.txt` file YOLO labels. `imagesFrom`, a COCO instances file, gives the
    /// image ids' file names (and categories) for COCO results.
    public static func read(_ url: URL, imagesFrom: URL? = nil) throws -> DetectionSet {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw DatasetFileError.cannotRead(path: url.path, reason: "no such file or directory")
        }
        if isDirectory.boolValue {
            return DetectionSet(
                format: .yoloFolder, path: url.path, categories: [], byImage: [:], idsByFileName: nil, yoloLabels: [])
        }
        if url.pathExtension.lowercased() == "txt" {
            return DetectionSet(
                format: .yoloFile, path: url.path, categories: [], byImage: [:], idsByFileName: nil,
                yoloLabels: try YOLOLabels.read(url))
        }
        let document = try JSONCoding.read(url)
        var format: Format
        let entries: [JSONValue]
        var categories: [COCOCategory] = []
        var fileNames: [String: Int]?
        switch document {
        case .array(let list):
            format = .cocoResults
            entries = list
        case .object(let object) where object["annotations"] != nil:
            format = .cocoInstances
            entries = try COCOJSON.list(object, "annotations", path: url.path)
            fileNames = try COCOJSON.fileNames(object, path: url.path)
            categories = try COCOJSON.categories(object, path: url.path)
        default:
            throw DatasetFileError.unknownFormat(path: url.path)
        }
        if let imagesFrom {
            guard let object = try JSONCoding.read(imagesFrom).object, object["images"] != nil else {
                throw DatasetFileError.invalidEntry(
                    path: imagesFrom.path, entry: "top level", problem: "not a COCO instances file (no \"images\" list)"
                )
            }
            fileNames = try COCOJSON.fileNames(object, path: imagesFrom.path)
            categories = try COCOJSON.categories(object, path: imagesFrom.path)
        }
        let entryName = format == .cocoResults ? "entry" : "annotations entry"
        var byImage: [Int: [Detection]] = [:]
        for (index, entry) in entries.enumerated() {
            let d = try COCOJSON.detection(entry, index: index, entryName: entryName, path: url.path)
            byImage[d.imageID, default: []].append(d.detection)
        }
        return DetectionSet(
            format: format, path: url.path, categories: categories, byImage: byImage,
            idsByFileName: fileNames, yoloLabels: [])
    }

    /// The boxes of the image at `relativePath` (relative to the input folder, or the image's path
    /// when a single image is given).
    public func boxes(forImage relativePath: String) throws -> ImageBoxes {
        let name = (relativePath as NSString).lastPathComponent
        let stem = (name as NSString).deletingPathExtension
        switch format {
        case .yoloFile:
            return ImageBoxes(imageID: nil, detections: yoloLabels)
        case .yoloFolder:
            let label = labelFile(relativePath)
            guard FileManager.default.fileExists(atPath: label.path) else {
                return ImageBoxes(imageID: nil, detections: [])
            }
            return ImageBoxes(imageID: nil, detections: try YOLOLabels.read(label))
        case .cocoResults, .cocoInstances:
            let id: Int?
            if let idsByFileName {
                id = idsByFileName[relativePath] ?? idsByFileName[name]
            } else {
                id = Int(stem)
            }
            guard let id else { return ImageBoxes(imageID: nil, detections: []) }
            return ImageBoxes(imageID: id, detections: byImage[id] ?? [])
        }
    }

    /// The YOLO label file of an image: `<labels folder>/<relative path without extension>.txt`.
    private func labelFile(_ relativePath: String) -> URL {
        URL(fileURLWithPath: path).appendingPathComponent((relativePath as NSString).deletingPathExtension + ".txt")
    }

    /// Whether any of the images (relative paths) has an entry in a COCO file or a label file in a
    /// YOLO labels folder.
    public func namesAny(of relativePaths: [String]) -> Bool {
        switch format {
        case .yoloFile: return true
        case .yoloFolder:
            return relativePaths.contains { FileManager.default.fileExists(atPath: labelFile($0).path) }
        case .cocoResults, .cocoInstances:
            return relativePaths.contains { (try? boxes(forImage: $0).imageID) != nil }
        }
    }
}

/// Reading the pieces of COCO JSON files, with errors that name the file and the entry.
enum COCOJSON {
    static func list(_ object: [String: JSONValue], _ key: String, path: String) throws -> [JSONValue] {
        guard let list = object[key]?.array else {
            throw DatasetFileError.invalidEntry(path: path, entry: "\"\(key)\"", problem: "is not a list")
        }
        return list
    }

    /// `images[].file_name` → `images[].id`.
    static func fileNames(_ object: [String: JSONValue], path: String) throws -> [String: Int] {
        var ids: [String: Int] = [:]
        for (index, entry) in try list(object, "images", path: path).enumerated() {
            let location = "images entry \(index)"
            guard let image = entry.object else {
                throw DatasetFileError.invalidEntry(path: path, entry: location, problem: "is not an object")
            }
            guard let id = image["id"]?.integer else {
                throw DatasetFileError.invalidEntry(
                    path: path, entry: location, problem: "\"id\" is missing or not an integer")
            }
            guard let name = image["file_name"]?.string else {
                throw DatasetFileError.invalidEntry(
                    path: path, entry: location, problem: "\"file_name\" is missing or not a string")
            }
            ids[name] = id
            let base = (name as NSString).lastPathComponent
            if ids[base] == nil { ids[base] = id }
        }
        return ids
    }

    static func categories(_ object: [String: JSONValue], path: String) throws -> [COCOCategory] {
        guard object["categories"] != nil else { return [] }
        return try list(object, "categories", path: path).enumerated().map { index, entry in
            guard let c = entry.object, let id = c["id"]?.integer else {
                throw DatasetFileError.invalidEntry(
                    path: path, entry: "categories entry \(index)", problem: "is not an object with an integer \"id\"")
            }
            return COCOCategory(
                id: id, name: c["name"]?.string ?? String(id), supercategory: c["supercategory"]?.string)
        }
    }

    /// One result or annotation: `image_id`, `bbox` [x, y, w, h] (w, h ≥ 0), `category_id`, optional `score`.
    static func detection(_ entry: JSONValue, index: Int, entryName: String, path: String) throws -> (
        imageID: Int, detection: Detection
    ) {
        let location = "\(entryName) \(index)"
        func bad(_ problem: String) -> DatasetFileError { .invalidEntry(path: path, entry: location, problem: problem) }
        guard let object = entry.object else { throw bad("is not an object") }
        guard let imageID = object["image_id"]?.integer else { throw bad("\"image_id\" is missing or not an integer") }
        guard let raw = object["bbox"] else { throw bad("\"bbox\" is missing") }
        guard let list = raw.array, list.count == 4 else {
            throw bad("\"bbox\" is not a list of 4 numbers [x, y, width, height]")
        }
        guard let v = raw.numbers else { throw bad("\"bbox\" holds a value that is not a finite number") }
        let (x, y, w, h) = (v[0], v[1], v[2], v[3])
        guard w >= 0 && h >= 0 else { throw bad("\"bbox\" has a negative width or height (\(w), \(h))") }
        guard let category = (object["category_id"] ?? .number(1)).integer else {
            throw bad("\"category_id\" is not an integer")
        }
        var score: Float?
        if let s = object["score"] {
            guard let value = s.number else { throw bad("\"score\" is not a finite number") }
            score = Float(value)
        }
        let source = "\(path): \(location)"
        return (imageID, Detection(box: .pixelsXYWH(x, y, w, h), categoryID: category, score: score, source: source))
    }
}
