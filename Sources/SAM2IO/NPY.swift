// NPY: reads and writes NumPy .npy arrays (float32 little-endian, C order), the format of the
// reference's saved logits and our fixtures; writes format 1.0 with numpy's 64-byte header padding.

import Foundation
import SAM2
import SAM2Checkpoint

/// A .npy file that could not be read or written.
public enum NPYError: Error, CustomStringConvertible, Equatable {
    case cannotRead(path: String, reason: String)
    case malformed(path: String, detail: String)
    case unsupported(path: String, detail: String)
    case invalidArgument(path: String, detail: String)

    public var description: String {
        switch self {
        case .cannotRead(let path, let reason): return "cannot read '\(path)': \(reason)"
        case .malformed(let path, let detail): return "'\(path)' is not a valid .npy file: \(detail)"
        case .unsupported(let path, let detail):
            return
                "'\(path)': \(detail); save it with numpy as float32 in C order (np.ascontiguousarray(a, np.float32))"
        case .invalidArgument(let path, let detail): return "cannot write '\(path)': \(detail)"
        }
    }
}

/// NumPy .npy files of float32 values.
public enum NPY {
    /// Writes `values` with `shape` (C order) as '<f4', format version 1.0, atomically.
    public static func write(_ values: [Float], shape: [Int], to url: URL) throws {
        guard shape.allSatisfy({ $0 >= 0 }), elementCount(shape) == values.count else {
            throw NPYError.invalidArgument(
                path: url.path, detail: "shape \(shape) does not hold \(values.count) values")
        }
        try write(shape: shape, to: url) { part in try values.withUnsafeBufferPointer { try part($0) } }
    }

    /// Writes a float32 .npy file of `shape` whose values `fill` hands over in order, in as many pieces
    /// as it likes; each piece goes to the file as it comes (nothing is gathered in memory first).
    public static func write(
        shape: [Int], to url: URL, fill: ((UnsafeBufferPointer<Float>) throws -> Void) throws -> Void
    ) throws {
        try AtomicFile.write(to: url) { temporary in
            guard FileManager.default.createFile(atPath: temporary.path, contents: header(shape: shape)),
                let handle = FileHandle(forWritingAtPath: temporary.path)
            else {
                throw NPYError.invalidArgument(path: url.path, detail: "cannot create the file")
            }
            defer { try? handle.close() }
            handle.seekToEndOfFile()
            var written = 0
            try fill { part in
                written += part.count
                if UInt32(1).littleEndian == 1 {
                    guard let base = part.baseAddress else { return }
                    let bytes = UnsafeMutableRawPointer(mutating: base)
                    try handle.write(contentsOf: Data(bytesNoCopy: bytes, count: part.count * 4, deallocator: .none))
                } else {
                    try handle.write(
                        contentsOf: Data(part.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }))
                }
            }
            guard written == elementCount(shape) else {
                throw NPYError.invalidArgument(path: url.path, detail: "shape \(shape) does not hold \(written) values")
            }
        }
    }

    /// The header of a float32 C-order .npy file of `shape`, as `np.save` writes it.
    static func header(shape: [Int]) -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        // ref: numpy.lib.format._wrap_header — magic (6) + version (2) + length (2) + header + "\n"
        // is a multiple of 64, padded with spaces.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        return data
    }

    /// Reads a .npy file (format 1.0, 2.0 or 3.0) of '<f4' or '<f8' values in C order; float64 is
    /// converted to Float.
    public static func read(_ url: URL) throws -> (shape: [Int], values: [Float]) {
        let data: Data
        do {
            data = try InputFile.read(url)
        } catch {
            throw NPYError.cannotRead(path: url.path, reason: error.reason)
        }
        return try decode([UInt8](data), path: url.path)
    }

    static func decode(_ bytes: [UInt8], path: String) throws -> (shape: [Int], values: [Float]) {
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
            throw NPYError.malformed(path: path, detail: "missing the \\x93NUMPY magic")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw NPYError.malformed(path: path, detail: "truncated header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw NPYError.unsupported(path: path, detail: "format version \(major).\(bytes[7])")
        }
        guard headerStart + headerLength <= bytes.count else {
            throw NPYError.malformed(path: path, detail: "truncated header")
        }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard let descr = value(of: "descr", in: header), let order = value(of: "fortran_order", in: header),
            let shapeText = value(of: "shape", in: header)
        else {
            throw NPYError.malformed(
                path: path,
                detail:
                    "header lacks descr, fortran_order or shape: "
                    + "\(header.trimmingCharacters(in: .whitespacesAndNewlines).oneLine(limit: 200))"
            )
        }
        let itemSize: Int
        switch descr {
        case "'<f4'", "\"<f4\"": itemSize = 4
        case "'<f8'", "\"<f8\"": itemSize = 8
        default:
            throw NPYError.unsupported(
                path: path, detail: "dtype \(descr.oneLine(limit: 200)) (only '<f4' and '<f8' are read)")
        }
        guard order == "False" else {
            throw NPYError.unsupported(path: path, detail: "Fortran-ordered array")
        }
        guard shapeText.hasPrefix("("), shapeText.hasSuffix(")") else {
            throw NPYError.malformed(path: path, detail: "shape \(shapeText.oneLine(limit: 200))")
        }
        var shape: [Int] = []
        for part in shapeText.dropFirst().dropLast().split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let dim = Int(trimmed.hasSuffix("L") ? String(trimmed.dropLast()) : trimmed), dim >= 0 else {
                throw NPYError.malformed(path: path, detail: "shape \(shapeText.oneLine(limit: 200))")
            }
            shape.append(dim)
        }
        let count = elementCount(shape)
        let dataStart = headerStart + headerLength
        guard count >= 0, count <= (bytes.count - dataStart) / itemSize,
            bytes.count - dataStart == count * itemSize
        else {
            // The byte count itself may overflow (found by fuzzing: a shape of 8.6e18 floats).
            let (needed, overflow) = count.multipliedReportingOverflow(by: itemSize)
            throw NPYError.malformed(
                path: path,
                detail: "shape \(shape) needs \(count < 0 || overflow ? "too many" : String(needed)) bytes of data, "
                    + "the file has \(bytes.count - dataStart)")
        }
        var values = [Float](repeating: 0, count: count)
        bytes.withUnsafeBufferPointer { src in
            for i in 0..<count {
                let p = dataStart + i * itemSize
                if itemSize == 4 {
                    var word: UInt32 = 0
                    for k in 0..<4 { word |= UInt32(src[p + k]) << (8 * k) }
                    values[i] = Float(bitPattern: word)
                } else {
                    var word: UInt64 = 0
                    for k in 0..<8 { word |= UInt64(src[p + k]) << (8 * k) }
                    values[i] = Float(Double(bitPattern: word))
                }
            }
        }
        return (shape, values)
    }

    /// The product of `shape` (1 for a scalar), or -1 on overflow.
    static func elementCount(_ shape: [Int]) -> Int {
        var count = 1
        for dim in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            if overflow { return -1 }
            count = product
        }
        return count
    }

    /// The text of the value of `key` in a Python dict literal of strings, booleans and tuples.
    private static func value(of key: String, in header: String) -> String? {
        guard let keyRange = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\""),
            let colon = header[keyRange.upperBound...].firstIndex(of: ":")
        else { return nil }
        let rest = header[header.index(after: colon)...].drop { $0 == " " }
        guard let first = rest.first else { return nil }
        let end: String.Index?
        switch first {
        case "(": end = rest.firstIndex(of: ")").map { rest.index(after: $0) }
        case "'", "\"": end = rest.dropFirst().firstIndex(of: first).map { rest.index(after: $0) }
        default: end = rest.firstIndex { $0 == "," || $0 == "}" }
        }
        guard let end else { return nil }
        return String(rest[rest.startIndex..<end]).trimmingCharacters(in: .whitespaces)
    }
}
