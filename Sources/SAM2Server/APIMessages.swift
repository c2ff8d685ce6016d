// APIMessages: the JSON bodies of the annotation server's API (docs/openapi.yaml describes the
// same), decoded from requests and encoded into responses with Codable; field names in snake_case.

import Foundation
import SAM2
import SAM2IO
import SAM2Workflows

struct OpenImageRequest: Decodable {
    var name: String
}

struct ImageInfo: Encodable {
    var id: String
    var name: String
    var width: Int
    var height: Int
    /// Milliseconds spent computing the embedding now (0 when it was cached).
    var embeddingMs: Double
}

struct PredictRequest: Decodable {
    /// Double, so that a value past Float's range (1e39) is "out of range", not a decoding failure.
    var points: [[Double]]?
    var labels: [Int]?
    var box: [Double]?
    /// The id of an earlier mask of this image whose low-resolution logits become the mask prompt.
    var maskInput: String?
    /// Three masks or one; default: three for points alone, one with a box or a mask input.
    var multimask: Bool?
    /// "rle" (default) or "png".
    var format: String?
}

struct MaskRecord: Encodable {
    /// Handle of the mask's low-resolution logits, for `mask_input` (predictions only).
    var id: String?
    var score: Float
    var area: Int
    var bbox: [Int]
    var rle: COCORLE?
    /// Base64 of a grayscale PNG (0 / 255) with `format: "png"`.
    var png: String?
    var stabilityScore: Float?
    var pointCoords: [Float]?
}

struct PredictResponse: Encodable {
    var image: String
    var width: Int
    var height: Int
    var masks: [MaskRecord]
    /// Index of the mask with the highest score.
    var best: Int
    var timingMs: [String: Double]
}

struct AutoRequest: Decodable {
    var pointsPerSide: Int?
    var pointsPerBatch: Int?
    var predIouThresh: Double?
    var stabilityScoreThresh: Double?
    var boxNmsThresh: Double?
    var cropNLayers: Int?
    var minMaskRegionArea: Int?
    var format: String?
}

struct AutoResponse: Encodable {
    var image: String
    var width: Int
    var height: Int
    var masks: [MaskRecord]
    var timingMs: [String: Double]
}

struct SaveAnnotationRequest: Decodable {
    /// Image id (from open/upload).
    var image: String
    var label: String
    var segmentation: COCORLE
    var score: Float?
    var prompt: Annotation.Prompt?
}

struct ExportRequest: Decodable {
    var coco: Bool?
    var png: Bool?
}

struct ProjectListing: Encodable {
    struct Entry: Encodable {
        var name: String
        var annotations: Int
    }
    struct VideoEntry: Encodable {
        var name: String
    }
    var folder: String
    var images: [Entry]
    /// Video files and folders of JPEG frames.
    var videos: [VideoEntry]
}

struct Health: Encodable {
    var status: String
    var config: String
    var version: String
    var imagesCached: Int
    var cacheBytes: Int
    var cacheBudgetBytes: Int
    var maxUploadBytes: Int
}

enum APICoding {
    static func decode<T: Decodable>(_ type: T.Type, from body: Data) throws -> T {
        guard !body.isEmpty else { throw APIError.badRequest("malformed JSON: the body is empty; send a JSON object") }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(type, from: body)
    }

    static func encode<T: Encodable>(_ value: T) -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return (try? encoder.encode(value)) ?? Data("{\"error\":\"response could not be encoded\"}".utf8)
    }
}
