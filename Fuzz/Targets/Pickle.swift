// Fuzz target `pickle`: the bytes as a torch data.pkl, read by the Unpickler with TorchCheckpoint's
// storage ids. Seeds: the .pkl fixtures and the data.pkl of every .pt fixture.

import Foundation
import SAM2Checkpoint

extension FuzzTarget {
    static let pickle = FuzzTarget(
        name: "pickle", summary: "a torch data.pkl read by the Unpickler",
        seeds: { fixtures in
            var seeds = try fixtures.files("Tests/SAM2CheckpointTests/Fixtures", extensions: ["pkl"])
            for (name, data) in try fixtures.files("Tests/SAM2CheckpointTests/Fixtures", extensions: ["pt"]) {
                seeds += try FuzzFixtures.zipMembers(data, named: name).filter { $0.name.hasSuffix("/data.pkl") }
            }
            return seeds
        },
        entry: { data, _ in
            try data.withUnsafeBytes { bytes in
                let value = try Unpickler.load(source: "input.pkl", bytes: bytes) {
                    try TorchCheckpoint.storage(persistentID: $0, path: "input.pkl")
                }
                return value.kind
            }
        })
}

extension FuzzFixtures {
    /// The members of a zip archive (for seeds taken out of .pt fixtures), named "<archive>:<member>".
    static func zipMembers(_ data: Data, named name: String) throws -> [(name: String, data: Data)] {
        let scratch = try FuzzScratch()
        defer { scratch.remove() }
        guard let archive = try? ZipArchive(url: scratch.file(data, name: "seed.zip")) else { return [] }
        return archive.entries.compactMap { entry in
            guard let region = try? archive.contents(of: entry) else { return nil }
            return ("\(name):\(entry.name)", Data(region.bytes))
        }
    }
}
