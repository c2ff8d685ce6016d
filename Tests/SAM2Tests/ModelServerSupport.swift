// Support for the model download tests: tools/models/model_server.py on 127.0.0.1 (the official release
// and a Hub-like endpoint serving the small random checkpoint, with the faults the tests need), a
// folder standing for a user's home with its caches, and the binary run with only that environment.

import Foundation
import Testing

@testable import SAM2Workflows

/// One run of tools/models/model_server.py; stopped by `stop()` or when the test's process ends (the
/// server exits when its stdin closes).
final class ModelServer {
    static let commit = "0123456789abcdef0123456789abcdef01234567"
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("tools/models/model_server.py")

    /// A request as the server logged it.
    struct Request: Decodable {
        var method: String
        var path: String
        var host: String?
        var range: String?
        var proxied: Bool
        var status: Int
    }

    let root: URL
    let port: Int
    let log: URL
    private let process = Process()
    private let input = Pipe()

    /// Serves `root` with the server's fault options (`--cut-at N`, `--wrong-sha`, …).
    init(root: URL, options: [String] = []) throws {
        self.root = root
        log = root.deletingLastPathComponent().appendingPathComponent("requests-\(UUID().uuidString).jsonl")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script.path, "--root", root.path, "--log", log.path] + options
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        var text = ""
        while !text.contains("\n") {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        guard text.hasPrefix("port "), let port = Int(text.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            throw CocoaError(
                .fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "model_server.py said '\(text)'"])
        }
        self.port = port
    }

    deinit { stop() }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Closes the server's stdin (it exits) and kills it: a child of a test thread inherits a signal
    /// mask that blocks SIGTERM, which SIGKILL ignores.
    func stop() {
        guard process.isRunning else { return }
        try? input.fileHandleForWriting.close()
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// The requests served so far, in the order they were logged.
    func requests() -> [Request] {
        guard let data = try? Data(contentsOf: log) else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
            try? JSONDecoder().decode(Request.self, from: Data($0.utf8))
        }
    }

    /// The files the tests serve: the small random checkpoint as the release's tiny file and as the
    /// official Hub repo's, in a nested folder of another repo, and a copy with one byte flipped (its
    /// zip CRC-32 no longer matches) as the release's 2.0 small file.
    static func makeRoot(in folder: URL) throws -> URL {
        let root = folder.appendingPathComponent("served")
        let fixture = try Data(contentsOf: URL(fileURLWithPath: CLI.checkpoint))
        var corrupt = fixture
        corrupt[2_000_000] ^= 0xff
        for (path, data) in [
            ("092824/sam2.1_hiera_tiny.pt", fixture), ("facebook/sam2.1-hiera-tiny/sam2.1_hiera_tiny.pt", fixture),
            ("someone/custom-sam/weights/model.pt", fixture), ("072824/sam2_hiera_small.pt", corrupt),
        ] {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url)
        }
        return root
    }
}

/// A temporary home with its caches, and the binary run in it with only the variables the tests name.
struct ModelHome {
    let folder: URL
    var sam2Cache: URL { folder.appendingPathComponent("sam2-cache") }
    var hubCache: URL { folder.appendingPathComponent("hf/hub") }
    var hubRepo: URL { hubCache.appendingPathComponent("models--facebook--sam2.1-hiera-tiny") }

    init() throws {
        folder = try CLI.temporaryDirectory()
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }

    /// HOME, SAM2_CACHE, HF_HOME and both endpoints at `baseURL` (nothing else: no proxy variable).
    func environment(_ baseURL: String, _ extra: [String: String] = [:]) -> [String: String] {
        [
            "PATH": "/usr/bin:/bin", "HOME": folder.path, "SAM2_CACHE": sam2Cache.path,
            "HF_HOME": folder.appendingPathComponent("hf").path, "SAM2_MODEL_BASE_URL": baseURL,
            "HF_ENDPOINT": baseURL,
        ].merging(extra) { $1 }
    }

    /// `sam2 ARGUMENTS` with the environment above.
    func run(_ arguments: [String], _ baseURL: String, _ extra: [String: String] = [:]) throws -> CLI.Result {
        try CLI.run(arguments, environment: environment(baseURL, extra))
    }

    /// Every regular file and symlink under the home's caches (lock files aside), relative to the home.
    func cachedFiles() -> [String] {
        let paths = FileManager.default.subpaths(atPath: folder.path) ?? []
        return paths.filter { path in
            var info = stat()
            lstat(folder.appendingPathComponent(path).path, &info)
            let kind = info.st_mode & S_IFMT
            return (kind == S_IFREG || kind == S_IFLNK) && !path.contains(".locks/") && !path.hasPrefix("served/")
                && !path.hasPrefix("requests-")
        }.sorted()
    }
}

extension CLI.Result {
    /// True when stderr is exactly one line.
    var oneLineError: Bool { stderr.hasSuffix("\n") && stderr.split(separator: "\n").count == 1 }
}
