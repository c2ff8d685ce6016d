// CheckpointFile: the one entry point for reading weights. Detects the format from the first bytes
// (zip local header "PK\x03\x04" → torch.save archive; 8-byte length then '{' → safetensors) and
// offers sorted keys, per-tensor dtype/shape, and float32 tensors.

import Foundation
import SAM2Tensor

public enum CheckpointFormat: String, Sendable {
    case torch
    case safetensors
}

public final class CheckpointFile: Sendable {
    private enum Backing: Sendable {
        case torch(TorchCheckpoint)
        case safetensors(SafetensorsFile)
    }

    public let url: URL
    public let format: CheckpointFormat
    /// Tensor names, sorted.
    public let keys: [String]
    private let backing: Backing

    public var path: String { url.path }

    /// Opens a `.pt` (torch.save zip) or `.safetensors` file, whatever its name says.
    public static func open(_ url: URL) throws -> CheckpointFile {
        let file = try MappedFile(url: url)
        let r = file.region
        if r.count >= 4 && r.u32(0) == 0x0403_4b50 || r.count >= 4 && r.u32(0) == 0x0605_4b50 {
            return CheckpointFile(url: url, backing: .torch(try TorchCheckpoint(archive: ZipArchive(file: file))))
        }
        if r.count >= 9 && r.u8(8) == UInt8(ascii: "{") && r.u64(0) < (1 << 40) {
            return CheckpointFile(url: url, backing: .safetensors(try SafetensorsFile(file: file)))
        }
        if r.count >= 2 && r.u8(0) == 0x80 && (2...5).contains(r.u8(1)) {
            // A bare pickle (legacy torch.save format, pickle.dump). Reading it (never executing
            // it) gives the clearest error when it names a foreign global.
            do { _ = try Unpickler.load(source: file.path, bytes: r.bytes) } catch let error as CheckpointError {
                if case .foreignGlobal = error { throw error }
            }
            throw CheckpointError.notACheckpoint(
                path: file.path,
                looksLike:
                    "a bare Python pickle (the legacy torch.save format or pickle.dump), which is not read; re-save it "
                    + "with torch.save or as safetensors"
            )
        }
        throw CheckpointError.notACheckpoint(path: file.path, looksLike: describe(r))
    }

    private init(url: URL, backing: Backing) {
        self.url = url
        self.backing = backing
        switch backing {
        case .torch(let t):
            format = .torch
            keys = t.keys
        case .safetensors(let s):
            format = .safetensors
            keys = s.keys
        }
    }

    /// Dtype, shape and element count of a tensor, without reading it.
    public func entry(_ key: String) -> TensorInfo? {
        switch backing {
        case .torch(let t): t.info(key)
        case .safetensors(let s): s.info(key)
        }
    }

    public func contains(_ key: String) -> Bool { entry(key) != nil }

    /// The tensor converted to contiguous float32 (zero-copy when stored that way).
    public func tensor(_ key: String) throws -> Tensor {
        switch backing {
        case .torch(let t): try t.tensor(key)
        case .safetensors(let s): try s.tensor(key)
        }
    }

    /// How many tensors of each element type (for `sam2 info`).
    public var dtypes: [StoredDType: Int] {
        var counts: [StoredDType: Int] = [:]
        for key in keys { counts[entry(key)!.dtype, default: 0] += 1 }
        return counts
    }

    /// Total number of values over all tensors (Int.max when it overflows: tensors may share storage).
    public var valueCount: Int {
        keys.reduce(0) { total, key in
            let (sum, overflow) = total.addingReportingOverflow(entry(key)!.count)
            return overflow ? .max : sum
        }
    }

    /// A one-line guess at what a non-checkpoint file is.
    static func describe(_ r: ByteRegion) -> String {
        if r.count == 0 { return "an empty file" }
        let head = Array(UnsafeRawBufferPointer(start: r.base, count: min(r.count, 16)))
        func starts(_ magic: [UInt8]) -> Bool { head.starts(with: magic) }
        if starts([0x1F, 0x8B]) { return "a gzip file (decompress it first)" }
        if starts([0x89, 0x50, 0x4E, 0x47]) { return "a PNG image" }
        if starts([0xFF, 0xD8, 0xFF]) { return "a JPEG image" }
        if starts([0x7F, 0x45, 0x4C, 0x46]) { return "an ELF executable" }
        if starts([0x89, 0x48, 0x44, 0x46]) { return "an HDF5 file (Keras/h5py weights)" }
        if starts([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) { return "a NumPy .npy array" }
        if starts(Array("<!DOCTYPE".utf8)) || starts(Array("<html".utf8)) || starts(Array("<HTML".utf8)) {
            return "an HTML page (a failed download?)"
        }
        if starts(Array("version https://git-lfs".utf8)) { return "a Git LFS pointer file (run git lfs pull)" }
        let sample = UnsafeRawBufferPointer(start: r.base, count: min(r.count, 512))
        if sample.allSatisfy({ $0 == 9 || $0 == 10 || $0 == 13 || (0x20..<0x7F).contains($0) }) {
            let text = String(decoding: sample, as: UTF8.self)
            let firstLine = text.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
            return "a text file (starting \"\(firstLine.prefix(40))\")"
        }
        return "unrecognised binary data (\(r.count) bytes, starting "
            + head.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " ") + ")"
    }
}
