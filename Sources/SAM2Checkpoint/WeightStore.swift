// WeightStore: strict, scoped weight lookup by the reference's checkpoint key names
// (`image_encoder.trunk.blocks.0.attn.qkv.weight`). Each module asks its scope for its weights with
// the shape it needs; a missing or mis-shaped key is an error, and so is a key nobody asked for.

import Foundation
import SAM2Tensor
import Synchronization

/// A weight whose shape is known up front and whose values are loaded on first request.
public struct LazyTensor: Sendable {
    public let shape: [Int]
    public let load: @Sendable () throws -> Tensor

    public init(shape: [Int], load: @escaping @Sendable () throws -> Tensor) {
        self.shape = shape
        self.load = load
    }

    /// An already loaded tensor.
    public init(_ tensor: Tensor) {
        shape = tensor.shape
        load = { tensor }
    }
}

public final class WeightStore: Sendable {
    /// Names the weights' origin in errors (the checkpoint path).
    public let source: String
    /// Every weight name, sorted.
    public let keys: [String]
    private let entries: [String: LazyTensor]
    private let used = Mutex<Set<String>>([])
    /// Bytes each loaded weight is held in: float32 as read, or its packed size once packed.
    private let held = Mutex<[String: Int]>([:])

    /// A store over named lazily loaded tensors (e.g. built by a key-layout converter).
    public init(entries: [String: LazyTensor], source: String) {
        self.entries = entries
        self.source = source
        self.keys = entries.keys.sorted()
    }

    /// A store over tensors in memory (tests, converted weights).
    public convenience init(tensors: [String: Tensor], source: String = "in-memory weights") {
        self.init(entries: tensors.mapValues { LazyTensor($0) }, source: source)
    }

    /// A store over a checkpoint's tensors. `keyMapping` renames each checkpoint key to the name
    /// the model asks for (nil leaves the key out); two keys mapping to one name is an error.
    public convenience init(checkpoint: CheckpointFile, keyMapping: ((String) -> String?)? = nil) throws {
        var entries: [String: LazyTensor] = [:]
        for key in checkpoint.keys {
            guard let name = keyMapping.map({ $0(key) }) ?? key else { continue }
            guard entries[name] == nil else { throw CheckpointError.duplicateKey(source: checkpoint.path, key: name) }
            entries[name] = LazyTensor(shape: checkpoint.entry(key)!.shape) { try checkpoint.tensor(key) }
        }
        self.init(entries: entries, source: checkpoint.path)
    }

    /// Opens a checkpoint file (any supported format) as a store.
    public static func open(_ url: URL, keyMapping: ((String) -> String?)? = nil) throws -> WeightStore {
        try WeightStore(checkpoint: CheckpointFile.open(url), keyMapping: keyMapping)
    }

    /// The view that prefixes every key with `prefix` and a dot; the modules built from it keep their
    /// products' weights in `precision`.
    public func scoped(_ prefix: String, precision: Precision = .float32) -> WeightScope {
        WeightScope(store: self, prefix: prefix, precision: precision)
    }

    public func contains(_ key: String) -> Bool { entries[key] != nil }

    public func shape(of key: String) -> [Int]? { entries[key]?.shape }

    /// The weight `key`, which must have exactly `shape`; marks it used.
    public func tensor(_ key: String, shape: [Int]) throws -> Tensor {
        guard let entry = entries[key] else { throw CheckpointError.missingKey(source: source, key: key) }
        guard entry.shape == shape else {
            throw CheckpointError.misShapedKey(source: source, key: key, expected: shape, found: entry.shape)
        }
        return try load(key, entry)
    }

    /// The weight `key` whatever its shape; marks it used.
    public func tensor(_ key: String) throws -> Tensor {
        guard let entry = entries[key] else { throw CheckpointError.missingKey(source: source, key: key) }
        return try load(key, entry)
    }

    private func load(_ key: String, _ entry: LazyTensor) throws -> Tensor {
        let tensor = try entry.load()
        guard tensor.shape == entry.shape else {
            throw CheckpointError.misShapedKey(source: source, key: key, expected: entry.shape, found: tensor.shape)
        }
        _ = used.withLock { $0.insert(key) }
        held.withLock { bytes in if bytes[key] == nil { bytes[key] = tensor.count * MemoryLayout<Float>.stride } }
        return tensor
    }

    /// The weight `key` is held in `bytes` (packed for products) instead of float32.
    func holds(_ key: String, inBytes bytes: Int) { held.withLock { $0[key] = bytes } }

    /// Bytes of the weights loaded so far, as they are held (float32, or packed in bf16 or int8).
    public var heldBytes: Int { held.withLock { $0.values.reduce(0, +) } }

    /// Counts keys as used without loading them (weights a model deliberately does not need).
    public func markUsed(_ keys: some Sequence<String>) {
        used.withLock { set in for key in keys where entries[key] != nil { set.insert(key) } }
    }

    /// Counts every key under `prefix` (a dotted path) as used.
    public func markUsed(prefix: String) {
        markUsed(keys.filter { $0 == prefix || $0.hasPrefix(prefix + ".") })
    }

    public var usedKeys: [String] { used.withLock { $0.sorted() } }

    public var unusedKeys: [String] {
        let seen = used.withLock { $0 }
        return keys.filter { !seen.contains($0) }
    }

    /// Throws naming (a few of) the keys no module asked for.
    public func verifyAllUsed() throws {
        let unused = unusedKeys
        guard unused.isEmpty else {
            throw CheckpointError.unusedKeys(source: source, keys: Array(unused.prefix(5)), count: unused.count)
        }
    }
}

/// A module's view of the store: keys are relative to `prefix`.
public struct WeightScope: Sendable {
    public let store: WeightStore
    /// Dotted path of the module (empty at the root).
    public let prefix: String
    /// The precision the module keeps its products' weights in (its sub-modules inherit it).
    public let precision: Precision

    public init(store: WeightStore, prefix: String, precision: Precision = .float32) {
        self.store = store
        self.prefix = prefix
        self.precision = precision
    }

    /// The same view, its modules keeping their products' weights in `precision`.
    public func with(precision: Precision) -> WeightScope {
        WeightScope(store: store, prefix: prefix, precision: precision)
    }

    /// The full key of a name in this scope.
    public func key(_ name: String) -> String {
        prefix.isEmpty ? name : name.isEmpty ? prefix : prefix + "." + name
    }

    public func scoped(_ name: String) -> WeightScope {
        WeightScope(store: store, prefix: key(name), precision: precision)
    }

    public func tensor(_ name: String, shape: [Int]) throws -> Tensor { try store.tensor(key(name), shape: shape) }

    public func tensor(_ name: String) throws -> Tensor { try store.tensor(key(name)) }

    /// The weight `name` [out, in] of a product, kept in the scope's precision. Once converted to
    /// bf16 or int8 its float32 values are not read again, so their checkpoint pages are released.
    public func packedLinear(_ name: String, shape: [Int]) throws -> PackedLinear {
        let weight = try tensor(name, shape: shape)
        let packed = PackedLinear(weight, precision: precision)
        if precision != .float32 {
            MappedFile.releasePages(of: weight)
            store.holds(key(name), inBytes: packed.byteCount)
        }
        return packed
    }

    public func contains(_ name: String) -> Bool { store.contains(key(name)) }

    public func shape(of name: String) -> [Int]? { store.shape(of: key(name)) }
}
