// Where fuzz inputs become files (a scratch folder per process, emptied before each input) and where
// the seeds come from (the committed test fixtures of this checkout).

import Foundation

/// A folder of this process for the files an entry needs; emptied before each input.
public final class FuzzScratch: Sendable {
    public let folder: URL

    /// A new folder under `parent` (default: /dev/shm when writable, else the temporary folder).
    public init(parent: URL? = nil) throws {
        let shm = URL(fileURLWithPath: "/dev/shm")
        let base = parent ?? (access(shm.path, W_OK) == 0 ? shm : FileManager.default.temporaryDirectory)
        folder = base.appendingPathComponent("sam2-fuzz-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    /// Removes the folder and what is in it.
    public func remove() {
        try? FileManager.default.removeItem(at: folder)
    }

    func reset() {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: folder.path)) ?? [] {
            try? fm.removeItem(at: folder.appendingPathComponent(name))
        }
    }

    /// Writes `data` as file `name` of the scratch folder.
    func file(_ data: Data, name: String) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try data.write(to: url)
        return url
    }

    /// A new empty subfolder.
    func subfolder(_ name: String) throws -> URL {
        let url = folder.appendingPathComponent(name, isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// The checkout's test fixtures, the source of every seed.
public struct FuzzFixtures: Sendable {
    /// The package root (the folder holding Package.swift).
    public let root: URL

    public init(root: URL = FuzzFixtures.packageRoot) {
        self.root = root
    }

    /// Fuzz/Targets/FuzzSupport.swift → the package root.
    public static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public func url(_ path: String) -> URL { root.appendingPathComponent(path) }

    public func data(_ path: String) throws -> Data { try Data(contentsOf: url(path)) }

    /// The files of `folder` (relative to the root, not recursive) with one of `extensions`, at most
    /// `maxBytes` each, sorted by name.
    func files(_ folder: String, extensions: Set<String>, maxBytes: Int = 256 << 10) throws -> [(
        name: String, data: Data
    )] {
        let dir = url(folder)
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted().compactMap { name in
            let file = dir.appendingPathComponent(name)
            guard extensions.contains(file.pathExtension.lowercased()) else { return nil }
            let data = try Data(contentsOf: file)
            return data.count <= maxBytes ? (name, data) : nil
        }
    }
}
