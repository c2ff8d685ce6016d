// Fuzz targets `pt` and `safetensors`: the bytes as a checkpoint file, opened by content
// (CheckpointFile.open) and every tensor read as float32. Seeds: the .pt / .safetensors fixtures.

import Foundation
import SAM2Checkpoint

extension FuzzTarget {
    static let pt = FuzzTarget(
        name: "pt", summary: "a .pt checkpoint opened and every tensor read", maxLength: 16 << 10,
        seeds: { try $0.files("Tests/SAM2CheckpointTests/Fixtures", extensions: ["pt"]) },
        entry: { data, scratch in try readCheckpoint(scratch.file(data, name: "input.pt")) })

    static let safetensors = FuzzTarget(
        name: "safetensors", summary: "a .safetensors checkpoint opened and every tensor read", maxLength: 16 << 10,
        seeds: { fixtures in
            try fixtures.files("Tests/SAM2CheckpointTests/Fixtures", extensions: ["safetensors"])
                + fixtures.files("Tests/SAM2Tests/Fixtures/model", extensions: ["safetensors"], maxBytes: 40 << 10)
        },
        entry: { data, scratch in try readCheckpoint(scratch.file(data, name: "input.safetensors")) })

    /// Opens a checkpoint and reads every tensor, checking each against its entry.
    private static func readCheckpoint(_ url: URL) throws -> String {
        let file = try CheckpointFile.open(url)
        var total: Float = 0
        for key in file.keys {
            guard let info = file.entry(key) else { throw FuzzViolation("key \(key) is listed without an entry") }
            let tensor = try file.tensor(key)
            guard tensor.shape == info.shape, tensor.count == info.count else {
                throw FuzzViolation("tensor \(key) has shape \(tensor.shape), its entry says \(info.shape)")
            }
            tensor.withUnsafeBufferPointer { values in for v in values { total += v } }  // touch every value
        }
        _ = (file.valueCount, file.dtypes)
        return "\(file.format) with \(file.keys.count) tensors (sum \(total))"
    }
}
