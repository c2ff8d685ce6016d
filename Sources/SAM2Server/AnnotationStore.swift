// AnnotationStore: the accepted objects of a project — label, mask (COCO RLE), score, prompt —
// kept in memory and in PROJECT/.sam2/annotations.json (rewritten atomically on every change,
// read back at start), and exported as a COCO instances file and mask PNGs under PROJECT/export/.

import Foundation
import SAM2
import SAM2IO
import SAM2Workflows
import Synchronization

/// One accepted object.
struct Annotation: Codable, Sendable {
    struct Prompt: Codable, Sendable {
        var points: [[Float]]?
        var labels: [Int]?
        var box: [Float]?
    }

    var id: Int
    /// The image's file name in the project folder.
    var image: String
    var label: String
    var score: Float?
    var segmentation: COCORLE
    var area: Int
    /// x, y, width, height as `sam2 segment` reports it.
    var bbox: [Int]
    var prompt: Prompt?
}

final class AnnotationStore: Sendable {
    private struct State {
        var annotations: [Annotation] = []
        var nextID = 1
    }

    private let state: Mutex<State>
    private let project: ProjectFolder
    private static let storeFolder = ".sam2"
    private static let storeName = "annotations.json"

    /// Reads the project's saved annotations, if any.
    init(project: ProjectFolder) throws {
        self.project = project
        var initial = State()
        var url = project.root.appendingPathComponent(Self.storeFolder).appendingPathComponent(Self.storeName)
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.deletingLastPathComponent().path, isDirectory: &isFolder)
            || isFolder.boolValue
        {
            let folder = try project.internalDirectory(Self.storeFolder)  // refuses a symlink
            AtomicFile.removeStaleTemporaries(in: folder)  // left by a server killed mid-save
            url = folder.appendingPathComponent(Self.storeName)
        }
        if FileManager.default.fileExists(atPath: url.path) {
            do {
                initial.annotations = try JSONDecoder().decode([Annotation].self, from: Data(contentsOf: url))
            } catch {
                throw APIError(
                    500,
                    "cannot read saved annotations \(url.path): \(error.localizedDescription); move the file away to "
                        + "start afresh"
                )
            }
            for a in initial.annotations {
                do {
                    try ProjectFolder.validate(a.image)
                } catch let error as APIError {
                    throw APIError(500, "saved annotations \(url.path): annotation \(a.id): \(error.message)")
                }
            }
            initial.nextID = (initial.annotations.map(\.id).max() ?? 0) + 1
        }
        state = Mutex(initial)
    }

    /// Adds an annotation (its id assigned here) and saves the store; returns it.
    func add(_ annotation: Annotation) throws -> Annotation {
        try state.withLock { s in
            var a = annotation
            a.id = s.nextID
            try save(s.annotations + [a])
            s.annotations.append(a)
            s.nextID += 1
            return a
        }
    }

    func list(image: String?) -> [Annotation] {
        state.withLock { s in s.annotations.filter { image == nil || $0.image == image } }
    }

    /// Removes annotation `id` and saves the store; false when there is none.
    func delete(_ id: Int) throws -> Bool {
        try state.withLock { s in
            guard let index = s.annotations.firstIndex(where: { $0.id == id }) else { return false }
            var kept = s.annotations
            kept.remove(at: index)
            try save(kept)
            s.annotations = kept
            return true
        }
    }

    private func save(_ annotations: [Annotation]) throws {
        let url = try project.internalDirectory(Self.storeFolder).appendingPathComponent(Self.storeName)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(encoder.encode(annotations), to: url)
    }

    /// Writes PROJECT/export/instances.json (COCO, one category per label) and/or one mask PNG per
    /// annotation, PROJECT/export/masks/<image name>/<id>.png; stale numbered PNGs there are removed.
    /// Returns the files written, relative to the project folder.
    func export(coco: Bool, png: Bool) throws -> [String] {
        let annotations = state.withLock { $0.annotations }
        var written: [String] = []
        let exportDir = try project.internalDirectory("export")
        if coco {
            let labels = Array(Set(annotations.map(\.label))).sorted()
            let categories = labels.enumerated().map {
                COCOCategory(id: $0.offset + 1, name: $0.element, supercategory: $0.element)
            }
            var document = COCOInstances()
            var imageIDs: [String: Int] = [:]
            for a in annotations {
                let rle = try mask(a)
                let imageID =
                    imageIDs[a.image] ?? document.addImage(fileName: a.image, width: rle.width, height: rle.height)
                imageIDs[a.image] = imageID
                var annotation = COCOAnnotation(
                    imageID: imageID, categoryID: labels.firstIndex(of: a.label)! + 1, segmentation: COCORLE(rle),
                    score: a.score, area: a.area, bbox: a.bbox)
                annotation.label = a.label
                document.addAnnotation(annotation)
            }
            document.setCategories(categories)
            try document.write(to: exportDir.appendingPathComponent("instances.json"))
            written.append("export/instances.json")
        }
        if png {
            let masksDir = try project.internalDirectory("export/masks")
            for (image, group) in Dictionary(grouping: annotations, by: \.image) {
                let dir = try project.internalDirectory("export/masks/\(image)")
                var names: Set<String> = []
                for a in group {
                    let rle = try mask(a)
                    try ImageIO.writeGrayPNG(
                        rle.mask(), width: rle.width, height: rle.height, to: dir.appendingPathComponent("\(a.id).png"))
                    names.insert("\(a.id).png")
                    written.append("export/masks/\(dir.lastPathComponent)/\(a.id).png")
                }
                try removeStale(in: dir, keeping: names)
            }
            if let folders = try? FileManager.default.contentsOfDirectory(atPath: masksDir.path) {
                let images = Set(annotations.map(\.image))
                for folder in folders where !images.contains(folder) {
                    guard let dir = try? project.internalDirectory("export/masks/\(folder)") else { continue }
                    try removeStale(in: dir, keeping: [])
                }
            }
        }
        return written
    }

    /// Removes `<number>.png` files of an export folder that are not in `keeping`.
    private func removeStale(in dir: URL, keeping: Set<String>) throws {
        for file in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [] where !keeping.contains(file)
        {
            if file.hasSuffix(".png"), Int(file.dropLast(4)) != nil {
                try FileManager.default.removeItem(at: dir.appendingPathComponent(file))
            }
        }
    }

    private func mask(_ a: Annotation) throws -> UncompressedRLE {
        guard a.segmentation.size.count == 2, a.segmentation.size.allSatisfy({ $0 > 0 }),
            let rle = UncompressedRLE(
                cocoString: a.segmentation.counts, height: a.segmentation.size[0], width: a.segmentation.size[1])
        else {
            throw APIError(500, "annotation \(a.id) has a malformed mask")
        }
        return rle
    }
}
