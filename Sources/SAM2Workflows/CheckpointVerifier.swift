// CheckpointVerifier: reads a downloaded checkpoint through as the loader would before it is cached —
// the zip archive, the pickle and every storage's bounds (our strict reader), the CRC-32 of every
// member of a .pt archive, the official key names; and, when the configuration it must hold is known,
// the whole model built from it (every tensor used, every shape as the configuration says).

import Foundation
import SAM2
import SAM2Checkpoint

public enum CheckpointVerifier {
    /// Throws the reader's error for a file that is not a usable checkpoint; returns the model built
    /// when a configuration is given.
    @discardableResult
    public static func verify(_ url: URL, configuration: SAM2Configuration?) throws -> SAM2Model? {
        let file = try CheckpointFile.open(url)
        if file.format == .torch {
            let archive = try ZipArchive(url: url)
            for entry in archive.entries {
                _ = try archive.contents(of: entry, verifyChecksum: true, keeping: 0)
            }
        }
        _ = try HuggingFaceLayout.officialWeights(file)
        guard let configuration else { return nil }
        return try SAM2Model.load(checkpoint: url, configuration: configuration)
    }
}
