// Fuzz target `zip`: the bytes as a zip archive (ZipArchive), every member read with its CRC-32
// checked. Seeds: the .pt fixtures (torch.save archives).

import Foundation
import SAM2Checkpoint

extension FuzzTarget {
    static let zip = FuzzTarget(
        name: "zip", summary: "a zip archive, every member read and checked", maxLength: 16 << 10,
        seeds: { try $0.files("Tests/SAM2CheckpointTests/Fixtures", extensions: ["pt"]) },
        entry: { data, scratch in
            let archive = try ZipArchive(url: scratch.file(data, name: "input.zip"))
            for entry in archive.entries {
                let region = try archive.contents(of: entry, verifyChecksum: true, limit: 64 << 20)
                guard region.count == entry.uncompressedSize else {
                    throw FuzzViolation(
                        "member \(entry.name) gave \(region.count) bytes, declares \(entry.uncompressedSize)")
                }
            }
            return "\(archive.entries.count) members"
        })
}
