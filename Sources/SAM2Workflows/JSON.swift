// Module SAM2Workflows: what the command-line tool and the server do with the model — COCO files,
// detector boxes, folder and automatic-mask jobs, tracking prompts and outputs — so that both only
// parse, call and print. Every JSON document goes through Codable: typed structs for what we write,
// `JSONValue` for input read leniently and checked field by field (with errors naming the entry).

import Foundation
import SAM2IO

/// Any JSON value, keeping booleans, numbers and strings apart.
public enum JSONValue: Codable, Equatable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? c.decode(Double.self) {
            self = .number(n)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n): try c.encode(n)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// An integral number that fits an Int exactly (|n| < 2^53).
    public var integer: Int? {
        guard case .number(let n) = self, n.rounded() == n, abs(n) < 9e15 else { return nil }
        return Int(n)
    }

    /// A finite number.
    public var number: Double? {
        guard case .number(let n) = self, n.isFinite else { return nil }
        return n
    }

    /// A list of finite numbers.
    public var numbers: [Double]? {
        guard case .array(let list) = self else { return nil }
        let values = list.compactMap(\.number)
        return values.count == list.count ? values : nil
    }

    public var string: String? {
        guard case .string(let s) = self else { return nil }
        return s
    }

    public var array: [JSONValue]? {
        guard case .array(let a) = self else { return nil }
        return a
    }

    public var object: [String: JSONValue]? {
        guard case .object(let o) = self else { return nil }
        return o
    }

    public subscript(key: String) -> JSONValue? { object?[key] }

    /// The value as compact JSON with sorted keys (for messages).
    public var description: String { String(decoding: (try? JSONCoding.encode(self)) ?? Data(), as: UTF8.self) }
}

/// The project's JSON settings: keys sorted (outputs diff cleanly), slashes unescaped, and
/// non-finite floats (which JSON lacks) as the strings "inf", "-inf" and "nan".
public enum JSONCoding {
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        try encoder.encode(value)
    }

    /// One line of JSON (no newline).
    public static func line<T: Encodable>(_ value: T) -> String {
        String(decoding: (try? encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try decoder.decode(type, from: data)
    }

    /// Reads a JSON file into a `JSONValue`; failures say which file and why.
    public static func read(_ url: URL) throws -> JSONValue {
        let data: Data
        do {
            data = try InputFile.read(url, maxBytes: 1 << 30)
        } catch {
            throw DatasetFileError.cannotRead(path: url.path, reason: error.reason)
        }
        do {
            return try decoder.decode(JSONValue.self, from: data)
        } catch {
            throw DatasetFileError.invalidJSON(path: url.path, reason: reason(error))
        }
    }

    /// A one-line reason for a decoding failure.
    public static func reason(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context), DecodingError.typeMismatch(_, let context),
            DecodingError.valueNotFound(_, let context), DecodingError.keyNotFound(_, let context):
            let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            let detail = underlying ?? context.debugDescription
            return path.isEmpty ? detail : "\(path): \(detail)"
        default:
            return String(describing: error)
        }
    }

    private static let nonFinite = (positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")

    static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: nonFinite.positiveInfinity, negativeInfinity: nonFinite.negativeInfinity,
            nan: nonFinite.nan)
        return e
    }

    static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: nonFinite.positiveInfinity, negativeInfinity: nonFinite.negativeInfinity,
            nan: nonFinite.nan)
        return d
    }
}

/// A Float written as a JSON number, or as null when it is not finite (a NaN stability score).
public struct NullableFloat: Codable, Equatable, Sendable {
    public var value: Float

    public init(_ value: Float) { self.value = value }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        value = c.decodeNil() ? .nan : try c.decode(Float.self)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if value.isFinite { try c.encode(value) } else { try c.encodeNil() }
    }
}
