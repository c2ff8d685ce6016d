// CheckpointSummary: what `sam2 info` reports about a checkpoint, read without loading tensors.

import Foundation
import SAM2Checkpoint

/// Encodes as `sam2 info --json`'s object: config, version, format, dtypes, tensors, values.
public struct CheckpointSummary: Sendable, Encodable {
    public var configuration: SAM2Configuration
    public var format: String
    /// Element type name → number of tensors, sorted by name.
    public var dtypes: [(key: String, value: Int)]
    public var tensorCount: Int
    public var valueCount: Int

    /// Reads the checkpoint's index and detects its configuration unless one is given.
    public static func read(_ url: URL, configuration: SAM2Configuration? = nil) throws -> CheckpointSummary {
        let file = try CheckpointFile.open(url)
        let store = try HuggingFaceLayout.officialWeights(file)  // official key names, whatever the layout
        let shapes = Dictionary(uniqueKeysWithValues: store.keys.map { ($0, store.shape(of: $0)!) })
        let config = try configuration ?? SAM2Configuration.detect(shapes: shapes)
        let dtypes = file.dtypes.map { (key: $0.key.rawValue, value: $0.value) }.sorted { $0.key < $1.key }
        let format =
            file.format.rawValue
            + (HuggingFaceLayout.matches(keys: file.keys) ? " (Hugging Face transformers layout)" : "")
        return CheckpointSummary(
            configuration: config, format: format, dtypes: dtypes,
            tensorCount: file.keys.count, valueCount: file.valueCount)
    }

    enum CodingKeys: String, CodingKey { case config, version, format, dtypes, tensors, values }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(configuration.name, forKey: .config)
        try c.encode(configuration.version, forKey: .version)
        try c.encode(format, forKey: .format)
        try c.encode(Dictionary(uniqueKeysWithValues: dtypes.map { ($0.key, $0.value) }), forKey: .dtypes)
        try c.encode(tensorCount, forKey: .tensors)
        try c.encode(valueCount, forKey: .values)
    }
}
