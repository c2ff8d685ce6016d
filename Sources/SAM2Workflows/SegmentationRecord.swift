// SegmentationRecord: what `sam2 segment` found in one image — size and, per mask, score, area,
// bbox, COCO RLE, files and the detector's box — printed by --json and, in a folder run, written last
// as OUT/<image>/masks.json, where it marks the image done and feeds the COCO file of a resumed run.

import Foundation
import SAM2
import SAM2IO

public struct SegmentationRecord: Codable, Sendable, Equatable {
    /// The name of the record in an image's output folder.
    public static let fileName = "masks.json"

    public struct Mask: Codable, Sendable, Equatable {
        public var index: Int
        public var prompt: Int
        public var score: Float
        public var area: Int
        public var bbox: [Int]
        public var file: String?
        public var cutout: String?
        public var segmentation: COCORLE
        /// The detector's box (x0, y0, x1, y1, pixels) the mask answers.
        public var box: [Float]?
        public var categoryId: Int?
        public var detectorScore: Float?

        enum CodingKeys: String, CodingKey {
            case index, prompt, score, area, bbox, file, cutout, segmentation, box
            case categoryId = "category_id"
            case detectorScore = "detector_score"
        }
    }

    public var image: String?
    public var imageId: Int?
    public var width: Int
    public var height: Int
    public var masks: [Mask]

    enum CodingKeys: String, CodingKey {
        case image
        case imageId = "image_id"
        case width, height, masks
    }

    /// One line of JSON.
    public var json: String { JSONCoding.line(self) }

    /// Writes the record to `url` atomically.
    public func write(to url: URL) throws {
        try AtomicFile.write(Data((json + "\n").utf8), to: url)
    }

    /// Reads a record written by `write(to:)`.
    public static func read(_ url: URL) throws -> SegmentationRecord {
        let data: Data
        do {
            data = try InputFile.read(url, maxBytes: 1 << 30)
        } catch {
            throw ImageIOError.cannotRead(path: url.path, reason: error.reason)
        }
        do {
            return try JSONCoding.decode(SegmentationRecord.self, from: data)
        } catch {
            throw ImageIOError.cannotRead(
                path: url.path, reason: "not a segmentation record (\(error)); delete it or run with --overwrite")
        }
    }
}
