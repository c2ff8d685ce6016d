// TorchCheckpoint: a `.pt` file as torch.save writes it (torch/serialization.py, zip format):
// `<name>/data.pkl` (the pickled object, storages as persistent ids), `<name>/data/<key>` (raw
// little-endian storage bytes), `<name>/byteorder`, `<name>/version`. Reads the state dict in
// `{"model": state_dict}` or a bare state dict; tensors are views of the mapped file when possible.

import Foundation
import SAM2Tensor

public final class TorchCheckpoint: Sendable {
    public let archive: ZipArchive
    /// The archive's top folder (torch uses the file's stem, or `archive`).
    public let prefix: String
    /// Every tensor of the state dict, by key.
    public let tensors: [String: TensorInfo]
    /// Keys sorted.
    public let keys: [String]
    private let layouts: [String: (storage: ZipEntry, tensor: StoredTensor)]
    /// Bytes of each storage member that its tensors reach: all that is inflated of a deflated one.
    private let reached: [String: Int]

    public var path: String { archive.path }

    public convenience init(url: URL) throws {
        try self.init(archive: ZipArchive(url: url))
    }

    public init(archive: ZipArchive) throws {
        self.archive = archive
        let path = archive.path
        let pickles = archive.entries.filter { entry in
            let parts = entry.name.split(separator: "/", omittingEmptySubsequences: false)
            return parts.count == 2 && parts[1] == "data.pkl"
        }
        guard let pickleEntry = pickles.first else {
            throw CheckpointError.notACheckpoint(
                path: path, looksLike: "a zip archive without a <name>/data.pkl member (not written by torch.save)")
        }
        guard pickles.count == 1 else {
            throw CheckpointError.corruptArchive(
                path: path, detail: "\(pickles.count) data.pkl members (\(pickles.map(\.name).joined(separator: ", ")))"
            )
        }
        let prefix = String(pickleEntry.name.dropLast("/data.pkl".count))
        self.prefix = prefix

        if let order = try archive.contents(named: prefix + "/byteorder", limit: 16) {
            let text = order.string(0, order.count).trimmingCharacters(in: .whitespacesAndNewlines)
            if text == "big" { throw CheckpointError.bigEndian(path: path) }
            guard text == "little" else {
                throw CheckpointError.corruptEntry(
                    path: path, entry: prefix + "/byteorder",
                    detail: "says \"\(text.prefix(20))\", expected little or big")
            }
        }

        let pickle = try archive.contents(of: pickleEntry, limit: Self.maximumPickleBytes)
        let top = try Unpickler.load(source: path, bytes: pickle.bytes) {
            try Self.storage(persistentID: $0, path: path)
        }

        guard case .dict(let outer) = top else {
            throw CheckpointError.malformedPickle(
                path: path, detail: "the pickle holds a \(top.kind), not a state dict")
        }
        var stateDict = outer
        for wrapper in ["model", "state_dict"] {
            if case .dict(let inner)? = outer[wrapper] {
                stateDict = inner
                break
            }
        }

        var infos: [String: TensorInfo] = [:]
        var layouts: [String: (storage: ZipEntry, tensor: StoredTensor)] = [:]
        var storageTypes: [String: StoredDType] = [:]
        /// Bytes of each storage that its tensors reach.
        var reached: [String: Int] = [:]
        for (keyValue, value) in stateDict.items {
            // Non-tensor entries (optimizer settings, epochs, _metadata) are ignored; any foreign
            // global among them was refused while reading.
            guard case .tensor(let t) = value else { continue }
            guard case .string(let key) = keyValue else {
                throw CheckpointError.malformedPickle(path: path, detail: "a tensor under a \(keyValue.kind) key")
            }
            let storageName = prefix + "/data/" + t.storage.key
            guard let storageEntry = archive.entry(named: storageName) else {
                throw CheckpointError.corruptEntry(
                    path: path, entry: storageName, detail: "storage of tensor \(key) is missing")
            }
            if let seen = storageTypes[t.storage.key], seen != t.storage.dtype {
                throw CheckpointError.corruptEntry(
                    path: path, entry: storageName, detail: "storage is used as both \(seen) and \(t.storage.dtype)")
            }
            storageTypes[t.storage.key] = t.storage.dtype
            let stored = StoredTensor(
                info: TensorInfo(dtype: t.storage.dtype, shape: t.shape), strides: t.strides, offset: t.offset)
            let size = t.storage.dtype.byteSize
            // torch.save writes each storage whole: its member holds exactly the pickle's element count.
            let (storageBytes, tooLarge) = t.storage.count.multipliedReportingOverflow(by: size)
            guard !tooLarge, storageBytes == storageEntry.uncompressedSize else {
                throw CheckpointError.corruptEntry(
                    path: path, entry: storageName,
                    detail:
                        "holds \(storageEntry.uncompressedSize) bytes, but the pickle says its storage has "
                        + "\(t.storage.count) \(t.storage.dtype) elements"
                )
            }
            guard let extent = stored.extent, extent <= t.storage.count else {
                throw CheckpointError.corruptEntry(
                    path: path, entry: storageName,
                    detail:
                        "tensor \(key) (shape \(t.shape), strides \(t.strides), offset \(t.offset)) reaches past its "
                        + "storage of \(t.storage.count) \(t.storage.dtype) elements"
                )
            }
            // A tensor never has more elements than its storage (an expanded view, stride 0, would
            // turn a few stored bytes into any amount of memory).
            guard stored.info.count <= t.storage.count else {
                throw CheckpointError.corruptEntry(
                    path: path, entry: storageName,
                    detail:
                        "tensor \(key) has \(stored.info.count) elements (shape \(t.shape), strides \(t.strides)), "
                        + "more than its storage's \(t.storage.count)"
                )
            }
            reached[storageName] = max(reached[storageName] ?? 0, extent * size)
            infos[key] = stored.info
            layouts[key] = (storageEntry, stored)
        }
        self.tensors = infos
        self.layouts = layouts
        self.reached = reached
        self.keys = infos.keys.sorted()
    }

    /// The storage a persistent id of `data.pkl` names: ('storage', torch.<Type>Storage, key, location,
    /// element count).
    package static func storage(persistentID pid: PickleValue, path: String) throws -> PickleValue {
        guard case .tuple(let t, _) = pid, t.count == 5, case .string("storage") = t[0],
            case .global(.storageType(let dtype)) = t[1], case .string(let key) = t[2], case .int(let count) = t[4],
            count >= 0
        else {
            throw CheckpointError.malformedPickle(path: path, detail: "a persistent id that is not a torch storage")
        }
        return .storage(PickledStorage(key: key, dtype: dtype, count: count))
    }

    /// The largest `data.pkl` read: a state dict's pickle is about 100 bytes per tensor (tens of kB
    /// for the largest SAM 2 model); more is not a state dict.
    public static let maximumPickleBytes = 64 << 20

    public func info(_ key: String) -> TensorInfo? { tensors[key] }

    /// The tensor as contiguous float32 (a view of the file for aligned, contiguous float32 data
    /// in a stored member; a converted copy otherwise).
    public func tensor(_ key: String) throws -> Tensor {
        guard let layout = layouts[key] else { throw CheckpointError.missingKey(source: path, key: key) }
        let region = try archive.contents(of: layout.storage, keeping: reached[layout.storage.name] ?? 0)
        return layout.tensor.materialize(from: region)
    }
}
