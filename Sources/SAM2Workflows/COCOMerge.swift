// COCOMerge: merges COCO instances files (the shards of a sharded run) into one: images and
// categories de-duplicated by id, annotations re-numbered 1, 2, …; conflicting definitions are errors.

import Foundation
import SAM2
import SAM2IO

public enum COCOMerge {
    /// The merged file as JSON (keys sorted). An image or category id defined differently in two files,
    /// or an annotation whose image is not in its file, is an error naming the file and the entry.
    /// Top-level members other than images, annotations and categories come from the first file that has them.
    public static func merge(_ urls: [URL]) throws -> Data {
        var images: [JSONValue] = []
        var imageSource: [Int: (index: Int, file: String)] = [:]
        var categories: [JSONValue] = []
        var categorySource: [Int: (index: Int, file: String)] = [:]
        var annotations: [JSONValue] = []
        var others: [String: JSONValue] = [:]
        for url in urls {
            let path = url.path
            guard let document = try JSONCoding.read(url).object else {
                throw DatasetFileError.invalidEntry(
                    path: path, entry: "top level",
                    problem: "not a COCO instances file (a JSON object with images and annotations)")
            }
            let fileImages = try objects(document, "images", path: path)
            var idsHere: Set<Int> = []
            for (index, image) in fileImages.enumerated() {
                let id = try identifier(image, entry: "images entry \(index)", path: path)
                idsHere.insert(id)
                try add(
                    image, id: id, entry: "images entry \(index)", kind: "image", path: path,
                    into: &images, source: &imageSource)
            }
            if document["categories"] != nil {
                for (index, category) in try objects(document, "categories", path: path).enumerated() {
                    let id = try identifier(category, entry: "categories entry \(index)", path: path)
                    try add(
                        category, id: id, entry: "categories entry \(index)", kind: "category", path: path,
                        into: &categories, source: &categorySource)
                }
            }
            for (index, var annotation) in try objects(document, "annotations", path: path).enumerated() {
                guard let imageID = annotation["image_id"]?.integer, idsHere.contains(imageID) else {
                    throw DatasetFileError.invalidEntry(
                        path: path, entry: "annotations entry \(index)",
                        problem: "\"image_id\" names no image of this file")
                }
                annotation["id"] = .number(Double(annotations.count + 1))
                annotations.append(.object(annotation))
            }
            for (key, value) in document
            where !["images", "annotations", "categories"].contains(key) && others[key] == nil {
                others[key] = value
            }
        }
        var merged = others
        merged["images"] = .array(images)
        merged["annotations"] = .array(annotations)
        merged["categories"] = .array(categories)
        return try JSONCoding.encode(JSONValue.object(merged))
    }

    private static func objects(_ document: [String: JSONValue], _ key: String, path: String) throws
        -> [[String: JSONValue]]
    {
        try COCOJSON.list(document, key, path: path).enumerated().map { index, entry in
            guard let object = entry.object else {
                throw DatasetFileError.invalidEntry(
                    path: path, entry: "\(key) entry \(index)", problem: "is not an object")
            }
            return object
        }
    }

    private static func identifier(_ object: [String: JSONValue], entry: String, path: String) throws -> Int {
        guard let id = object["id"]?.integer else {
            throw DatasetFileError.invalidEntry(
                path: path, entry: entry, problem: "\"id\" is missing or not an integer")
        }
        return id
    }

    /// Appends `object` unless an equal one with its id is there; a different one is a conflict.
    private static func add(
        _ object: [String: JSONValue], id: Int, entry: String, kind: String, path: String,
        into list: inout [JSONValue], source: inout [Int: (index: Int, file: String)]
    ) throws {
        guard let first = source[id] else {
            source[id] = (list.count, path)
            list.append(.object(object))
            return
        }
        guard list[first.index] == .object(object) else {
            let name = { (o: JSONValue) in
                (o["file_name"] ?? o["name"]).map { ($0.string ?? "\($0)").oneLine(limit: 200) } ?? "?"
            }
            throw DatasetFileError.invalidEntry(
                path: path, entry: entry,
                problem:
                    "\(kind) id \(id) is '\(name(.object(object)))' here but '\(name(list[first.index]))' in "
                    + "\(first.file)"
            )
        }
    }
}
