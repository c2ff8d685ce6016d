// SafetensorsFile: the safetensors format (8-byte little-endian header length, a JSON header
// `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {…}}`, then the data).
// Memory-mapped; the header is checked against the file before any tensor is read.

import Foundation
import SAM2Tensor

public final class SafetensorsFile: Sendable {
    public let file: MappedFile
    public let tensors: [String: TensorInfo]
    public let keys: [String]
    /// The `__metadata__` strings.
    public let metadata: [String: String]
    private let ranges: [String: Range<Int>]  // byte ranges in the file
    private let dataStart: Int

    public var path: String { file.path }

    public convenience init(url: URL) throws {
        try self.init(file: MappedFile(url: url))
    }

    public init(file: MappedFile) throws {
        self.file = file
        let r = file.region
        let path = file.path
        func corrupt(_ detail: String) -> CheckpointError { .corruptArchive(path: path, detail: detail) }

        guard r.count >= 8 else {
            throw CheckpointError.truncated(
                path: path, detail: "\(r.count) bytes, shorter than the 8-byte safetensors header length")
        }
        let headerLength = r.u64(0)
        guard headerLength <= SafetensorsFile.maximumHeaderBytes else {
            throw corrupt(
                "the safetensors header claims \(headerLength) bytes, more than the format's limit of "
                    + "\(SafetensorsFile.maximumHeaderBytes)"
            )
        }
        guard headerLength <= UInt64(r.count - 8) else {
            throw CheckpointError.truncated(
                path: path,
                detail:
                    "the safetensors header claims \(headerLength) bytes but the file has \(r.count - 8) after the "
                    + "length"
            )
        }
        let dataStart = 8 + Int(headerLength)
        self.dataStart = dataStart
        let dataLength = r.count - dataStart
        let header = Data(bytes: r.base + 8, count: Int(headerLength))
        let parsed: SafetensorsHeader
        do {
            parsed = try JSONDecoder().decode(SafetensorsHeader.self, from: header)
        } catch let error as SafetensorsHeader.Problem {
            throw corrupt(error.message)
        } catch {
            throw corrupt("the safetensors header is not a JSON object")
        }

        var infos: [String: TensorInfo] = [:]
        var ranges: [String: Range<Int>] = [:]
        let metadata = parsed.metadata
        for (key, entry) in parsed.tensors {
            let dtypeName = entry.dtype
            guard let dtype = StoredDType(safetensors: dtypeName) else {
                throw CheckpointError.unknownDType(path: path, key: key, dtype: dtypeName)
            }
            let shape = entry.shape
            guard shape.allSatisfy({ $0 >= 0 }) else {
                throw corrupt("tensor \(key): shape \(shape) is not a list of sizes")
            }
            let offsets = entry.offsets
            guard offsets.count == 2,
                offsets[0] >= 0, offsets[0] <= offsets[1]
            else {
                throw corrupt("tensor \(key): data_offsets \(offsets) is not [begin, end]")
            }
            guard offsets[1] <= dataLength else {
                throw CheckpointError.truncated(
                    path: path,
                    detail: "tensor \(key) ends at data byte \(offsets[1]) but the data section has \(dataLength) bytes"
                )
            }
            var bytes = dtype.byteSize
            for d in shape {
                let (p, overflow) = bytes.multipliedReportingOverflow(by: d)
                guard !overflow else { throw corrupt("tensor \(key): shape \(shape) is too large") }
                bytes = p
            }
            guard bytes == offsets[1] - offsets[0] else {
                throw corrupt(
                    "tensor \(key): \(dtypeName) \(shape) needs \(bytes) bytes but data_offsets \(offsets) hold "
                        + "\(offsets[1] - offsets[0])"
                )
            }
            infos[key] = TensorInfo(dtype: dtype, shape: shape)
            ranges[key] = offsets[0]..<offsets[1]
        }
        // Tensors may not share bytes.
        let ordered = ranges.sorted {
            ($0.value.lowerBound, $0.value.upperBound) < ($1.value.lowerBound, $1.value.upperBound)
        }
        for (a, b) in zip(ordered, ordered.dropFirst()) where b.value.lowerBound < a.value.upperBound {
            throw corrupt("tensors \(a.key) (bytes \(a.value)) and \(b.key) (bytes \(b.value)) overlap")
        }
        self.tensors = infos
        self.ranges = ranges
        self.metadata = metadata
        self.keys = infos.keys.sorted()
    }

    /// The safetensors library's own limit on the JSON header (its MAX_HEADER_SIZE).
    public static let maximumHeaderBytes: UInt64 = 100_000_000

    public func info(_ key: String) -> TensorInfo? { tensors[key] }

    /// The tensor as contiguous float32 (a view of the file for aligned float32 data).
    public func tensor(_ key: String) throws -> Tensor {
        guard let info = tensors[key], let range = ranges[key] else {
            throw CheckpointError.missingKey(source: path, key: key)
        }
        let region = file.region.subregion(dataStart + range.lowerBound, range.count)!
        let stored = StoredTensor(info: info, strides: StoredTensor.contiguousStrides(info.shape), offset: 0)
        return stored.materialize(from: region)
    }
}

/// The JSON header: tensor name → dtype, shape, data_offsets; `__metadata__` → strings.
private struct SafetensorsHeader: Decodable {
    struct Entry: Decodable {
        var dtype: String
        var shape: [Int]
        var offsets: [Int]

        enum CodingKeys: String, CodingKey {
            case dtype, shape
            case offsets = "data_offsets"
        }
    }

    /// A header that is JSON but not a safetensors header; the message names the entry.
    struct Problem: Error {
        var message: String
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    var tensors: [String: Entry] = [:]
    var metadata: [String: String] = [:]

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        for key in c.allKeys {
            if key.stringValue == "__metadata__" {
                guard let m = try? c.decode([String: String].self, forKey: key) else {
                    throw Problem(message: "__metadata__ is not an object of strings")
                }
                metadata = m
                continue
            }
            // Integers only: JSONDecoder refuses fractions and values out of Int's range.
            guard let entry = try? c.decode(Entry.self, forKey: key) else {
                throw Problem(
                    message: "tensor \(key.stringValue): the header entry needs dtype (a string), shape and "
                        + "data_offsets (lists of integers)")
            }
            tensors[key.stringValue] = entry
        }
    }
}
