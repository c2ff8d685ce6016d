// APIError: a failed API request — an HTTP status and a one-line message, sent as {"error": "..."};
// maps the library's typed errors (bad prompts, undecodable images, unwritable files) to statuses.

import Foundation
import SAM2
import SAM2IO
import SAM2Workflows

public struct APIError: Error, CustomStringConvertible {
    public var status: Int
    public var message: String

    public init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status): \(message)" }

    static func badRequest(_ message: String) -> APIError { APIError(400, message) }
    static func notFound(_ message: String) -> APIError { APIError(404, message) }

    /// The status and message for any error thrown while handling a request.
    static func from(_ error: Error) -> APIError {
        switch error {
        case let e as APIError: return e
        case let e as PredictorError: return APIError(400, e.description)
        case let e as AutomaticMaskGeneratorError: return APIError(400, e.description)
        case let e as ImageIOError:
            switch e {
            case .unknownFormat: return APIError(415, e.description)
            case .cannotWrite: return APIError(500, e.description)
            default: return APIError(400, e.description)
            }
        case let e as VideoPredictorError:
            if case .unknownObject = e { return APIError(404, e.description) }
            return APIError(400, e.description)
        case let e as VideoError:
            switch e {
            case .cannotOpenVideo, .noVideoStream, .noDecoder, .notAFolder: return APIError(415, e.description)
            case .framesTooLarge: return APIError(413, e.description)
            default: return APIError(400, e.description)
            }
        case let e as TrackingOutputError: return APIError(400, e.description)
        case let e as DecodingError: return APIError(400, "malformed JSON: \(describe(e))")
        default: return APIError(500, String(describing: error))
        }
    }

    /// What a JSON decoding error means, naming the field at fault.
    private static func describe(_ error: DecodingError) -> String {
        func field(_ path: [CodingKey]) -> String {
            path.isEmpty
                ? "the body"
                : "'" + path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".") + "'"
        }
        switch error {
        case .typeMismatch(let type, let c): return "\(field(c.codingPath)) should be \(jsonTypeName(type))"
        case .valueNotFound(let type, let c): return "\(field(c.codingPath)) should be \(jsonTypeName(type)), not null"
        case .keyNotFound(let key, let c): return "missing field '\(key.stringValue)' in \(field(c.codingPath))"
        case .dataCorrupted(let c):
            let underlying = (c.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return "\(field(c.codingPath)): \(underlying ?? c.debugDescription)"
        @unknown default: return String(describing: error)
        }
    }

    private static func jsonTypeName(_ type: Any.Type) -> String {
        let name = String(describing: type)
        if name == "String" { return "a string" }
        if name == "Bool" { return "true or false" }
        if ["Int", "Float", "Double"].contains(name) { return "a number" }
        if name.hasPrefix("Array") { return "an array" }
        return "an object"
    }
}
