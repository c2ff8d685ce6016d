// CheckpointError: every way reading a checkpoint (torch zip + pickle, safetensors) or looking a
// weight up can fail. Each description is one line naming the file, key or global at fault.

import Foundation

public enum CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The path does not exist or cannot be opened.
    case missingFile(path: String, reason: String)
    /// The file is neither a torch zip archive nor safetensors; `looksLike` says what it seems to be.
    case notACheckpoint(path: String, looksLike: String)
    /// The file ends before the structure it announces (zip end record, entry data, header).
    case truncated(path: String, detail: String)
    /// The zip structure or safetensors header is inconsistent.
    case corruptArchive(path: String, detail: String)
    /// One member of the archive (or one tensor's bytes) is damaged.
    case corruptEntry(path: String, entry: String, detail: String)
    /// The pickle names a global outside the allowlist; it is refused, never called.
    case foreignGlobal(path: String, global: String)
    /// The pickle uses an opcode a tensor state dict never needs.
    case unsupportedOpcode(path: String, opcode: UInt8, offset: Int)
    /// The pickle is well-formed opcode by opcode but does not describe a state dict.
    case malformedPickle(path: String, detail: String)
    /// A tensor's element type is not one the reader converts.
    case unknownDType(path: String, key: String, dtype: String)
    /// The checkpoint was written on a big-endian machine.
    case bigEndian(path: String)
    /// A weight the model needs is absent.
    case missingKey(source: String, key: String)
    /// A weight exists but has another shape than the model needs.
    case misShapedKey(source: String, key: String, expected: [Int], found: [Int])
    /// Weights the model never asked for (`keys` lists up to a few, `count` is the total).
    case unusedKeys(source: String, keys: [String], count: Int)
    /// Two checkpoint keys map onto the same weight name.
    case duplicateKey(source: String, key: String)

    /// The message, on one line: names read from the file (globals, keys, members) may hold any
    /// character, so control characters are escaped and a message past 1000 characters is cut.
    public var description: String { message.oneLine(limit: 1000) }

    private var message: String {
        switch self {
        case .missingFile(let path, let reason):
            return "cannot open checkpoint \(path): \(reason)"
        case .notACheckpoint(let path, let looksLike):
            return
                "\(path) is not a checkpoint (expected a PyTorch .pt zip archive or a .safetensors file): it looks "
                + "like \(looksLike)"
        case .truncated(let path, let detail):
            return "checkpoint \(path) is truncated: \(detail); download or copy it again"
        case .corruptArchive(let path, let detail):
            return "checkpoint \(path) is corrupt: \(detail)"
        case .corruptEntry(let path, let entry, let detail):
            return "checkpoint \(path) is corrupt: entry \(entry): \(detail)"
        case .foreignGlobal(let path, let global):
            return "refusing pickle global \(global) in \(path): only tensor state dicts can be read"
        case .unsupportedOpcode(let path, let opcode, let offset):
            let printable = (0x21..<0x7f).contains(opcode) ? " '\(Character(Unicode.Scalar(opcode)))'" : ""
            return
                "unsupported pickle opcode 0x\(String(opcode, radix: 16))\(printable) at byte \(offset) of \(path): "
                + "only tensor state dicts (pickle protocol 2-5) can be read"
        case .malformedPickle(let path, let detail):
            return "cannot read the pickle in \(path): \(detail)"
        case .unknownDType(let path, let key, let dtype):
            return
                "tensor \(key) in \(path) has element type \(dtype); supported: float32, float16, bfloat16, float64, "
                + "int64, int32, int16, int8, uint8, bool"
        case .bigEndian(let path):
            return "checkpoint \(path) was saved on a big-endian machine; re-save it on a little-endian one"
        case .missingKey(let source, let key):
            return "weight \(key) is missing from \(source)"
        case .misShapedKey(let source, let key, let expected, let found):
            return "weight \(key) in \(source) has shape \(found), expected \(expected)"
        case .unusedKeys(let source, let keys, let count):
            let more = count > keys.count ? " and \(count - keys.count) more" : ""
            return
                "\(count) weight\(count == 1 ? "" : "s") in \(source) \(count == 1 ? "was" : "were") not used by the "
                + "model: \(keys.joined(separator: ", "))\(more)"
        case .duplicateKey(let source, let key):
            return "two weights in \(source) map onto the same name \(key)"
        }
    }
}
