// `--model NAME` through the binary against a local server (ModelServerSupport): an alias and a Hub id
// are downloaded, cached and reused with the server stopped; the Hugging Face cache is laid out as
// huggingface_hub lays it out (and one laid out by it is read); downloads resume with Range, go
// through a proxy from the environment, and two processes fetching one file download it once.

import Foundation
import Synchronization
import Testing

@testable import SAM2
@testable import SAM2Workflows

@Suite struct ModelDownloadTests {
    static let fixture = try! Data(contentsOf: URL(fileURLWithPath: CLI.checkpoint))
    static let fixtureSHA256 = SHA256.hexDigest(fixture)
    static let segment = ["segment", CLI.image, "--point", "40,50", "--single"]

    @Test func aliasIsDownloadedCachedAndReusedWithTheServerStopped() throws {
        let home = try ModelHome()
        defer { home.remove() }
        let server = try ModelServer(root: try ModelServer.makeRoot(in: home.folder))
        let pull = try home.run(["models", "pull", "tiny", "--config", CLI.config], server.baseURL)
        let cached = home.sam2Cache.appendingPathComponent("sam2.1_hiera_tiny.pt")
        #expect(pull.status == 0 && pull.stdout == cached.path + "\n", "\(pull.stderr)")
        #expect(try Data(contentsOf: cached) == Self.fixture)
        #expect(home.cachedFiles() == ["sam2-cache/sam2.1_hiera_tiny.pt"])
        let requests = server.requests()
        #expect(requests.map(\.path) == ["/092824/sam2.1_hiera_tiny.pt"] && requests[0].range == nil)
        server.stop()

        let expected = try CLI.run(Self.segment + ["--checkpoint", CLI.checkpoint, "--config", CLI.config])
        let reused = try home.run(Self.segment + ["--model", "tiny", "--config", CLI.config], server.baseURL)
        #expect(reused.status == 0 && reused.stdout == expected.stdout, "\(reused.stderr)")
        // The configuration name of the same file is the same cache entry.
        let byConfig = try home.run(Self.segment + ["--model", "sam2.1_hiera_t", "--config", CLI.config], "")
        #expect(byConfig.status == 0 && byConfig.stdout == expected.stdout, "\(byConfig.stderr)")
        let list = try home.run(["models", "--json"], server.baseURL)
        let tiny = try #require(list.stdout.split(separator: "\n").first { $0.contains("\"tiny\"") })
        #expect(tiny.contains("\"cached\":true") && tiny.contains("\"bytes\":\(Self.fixture.count)"), "\(tiny)")
    }

    @Test func hubIDIsDownloadedIntoTheHuggingFaceLayoutAndReused() throws {
        let home = try ModelHome()
        defer { home.remove() }
        let server = try ModelServer(root: try ModelServer.makeRoot(in: home.folder))
        let model = ["--model", "facebook/sam2.1-hiera-tiny", "--config", CLI.config]
        let first = try home.run(Self.segment + model, server.baseURL)
        #expect(first.status == 0, "\(first.stderr)")
        // huggingface_hub's layout: refs/main names the commit (no newline), the snapshot's file is a
        // relative symlink to the blob named by the SHA-256 the server announced.
        let repo = home.hubRepo
        let pointer = repo.appendingPathComponent("snapshots/\(ModelServer.commit)/sam2.1_hiera_tiny.pt")
        #expect(try String(contentsOf: repo.appendingPathComponent("refs/main"), encoding: .utf8) == ModelServer.commit)
        #expect(
            try FileManager.default.destinationOfSymbolicLink(atPath: pointer.path)
                == "../../blobs/\(Self.fixtureSHA256)")
        #expect(try Data(contentsOf: pointer) == Self.fixture)
        #expect(
            home.cachedFiles() == [
                "hf/hub/models--facebook--sam2.1-hiera-tiny/blobs/\(Self.fixtureSHA256)",
                "hf/hub/models--facebook--sam2.1-hiera-tiny/refs/main",
                "hf/hub/models--facebook--sam2.1-hiera-tiny/snapshots/\(ModelServer.commit)/sam2.1_hiera_tiny.pt",
            ])
        #expect(server.requests().map(\.method).sorted() == ["GET", "HEAD"])
        server.stop()
        let again = try home.run(Self.segment + model, server.baseURL)
        #expect(again.status == 0 && again.stdout == first.stdout, "\(again.stderr)")
        let pull = try home.run(["models", "pull", "facebook/sam2.1-hiera-tiny"], server.baseURL)
        #expect(pull.status == 0 && pull.stdout == pointer.path + "\n", "\(pull.stderr)")
    }

    @Test func anyRepoWithAFileInAFolder() throws {
        let home = try ModelHome()
        defer { home.remove() }
        let server = try ModelServer(root: try ModelServer.makeRoot(in: home.folder))
        let r = try home.run(
            ["models", "pull", "someone/custom-sam", "--file", "weights/model.pt", "--config", CLI.config],
            server.baseURL)
        let pointer = home.hubCache.appendingPathComponent(
            "models--someone--custom-sam/snapshots/\(ModelServer.commit)/weights/model.pt")
        #expect(r.status == 0 && r.stdout == pointer.path + "\n", "\(r.stderr)")
        #expect(
            try FileManager.default.destinationOfSymbolicLink(atPath: pointer.path)
                == "../../../blobs/\(Self.fixtureSHA256)")
        // A revision the server does not know is its 404, in one line.
        let unknown = try home.run(
            ["models", "pull", "someone/custom-sam", "--file", "weights/model.pt", "--revision", "v9"], server.baseURL)
        #expect(
            unknown.status == 1 && unknown.oneLineError && unknown.stderr.contains("404 Not Found (RevisionNotFound)"))
    }

    @Test func withoutACommitIDTheSnapshotIsNamedAfterTheRevision() throws {
        let home = try ModelHome()
        defer { home.remove() }
        let server = try ModelServer(root: try ModelServer.makeRoot(in: home.folder), options: ["--no-commit"])
        let r = try home.run(["models", "pull", "facebook/sam2.1-hiera-tiny", "--config", CLI.config], server.baseURL)
        let pointer = home.hubRepo.appendingPathComponent("snapshots/main/sam2.1_hiera_tiny.pt")
        #expect(r.status == 0 && r.stdout == pointer.path + "\n", "\(r.stderr)")
        #expect(try String(contentsOf: home.hubRepo.appendingPathComponent("refs/main"), encoding: .utf8) == "main")
    }

    /// What huggingface_hub writes (tools/models/check_hf_cache.py checks it against the package itself):
    /// another commit, a blob named by its ETag, refs/main and a tag; read offline, by revision too.
    @Test func aCacheLaidOutByHuggingFaceHubIsRead() throws {
        let home = try ModelHome()
        defer { home.remove() }
        let commit = "fedcba9876543210fedcba9876543210fedcba98"
        let blob = home.hubRepo.appendingPathComponent("blobs/\(Self.fixtureSHA256)")
        try FileManager.default.createDirectory(
            at: blob.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Self.fixture.write(to: blob)
        let snapshot = home.hubRepo.appendingPathComponent("snapshots/\(commit)")
        try FileManager.default.createDirectory(at: snapshot, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: snapshot.appendingPathComponent("sam2.1_hiera_tiny.pt").path,
            withDestinationPath: "../../blobs/\(Self.fixtureSHA256)")
        try FileManager.default.createDirectory(
            at: home.hubRepo.appendingPathComponent("refs"), withIntermediateDirectories: true)
        try Data(commit.utf8).write(to: home.hubRepo.appendingPathComponent("refs/main"))
        try Data(commit.utf8).write(to: home.hubRepo.appendingPathComponent("refs/v1.0"))
        let refused = "http://127.0.0.1:9"
        for extra in [[], ["--revision", "v1.0"], ["--revision", commit]] {
            let r = try home.run(
                Self.segment + ["--model", "facebook/sam2.1-hiera-tiny", "--config", CLI.config, "--offline"] + extra,
                refused)
            #expect(r.status == 0, "\(extra): \(r.stderr)")
        }
        let list = try home.run(["models"], refused)
        #expect(list.stdout.contains("facebook/sam2.1-hiera-tiny") && list.stdout.contains(snapshot.path))
    }

    @Test func anInterruptedDownloadResumesInTheSameRunAndInTheNext() throws {
        let home = try ModelHome()
        defer { home.remove() }
        let root = try ModelServer.makeRoot(in: home.folder)
        // The first response stops at 1 MB; the run carries on from there with a Range request.
        let once = try ModelServer(root: root, options: ["--cut-once", "1000000"])
        let r = try home.run(["models", "pull", "tiny", "--config", CLI.config], once.baseURL)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(once.requests().map { $0.range ?? "-" } == ["-", "bytes=1000000-"])
        #expect(once.requests().map(\.status) == [200, 206])
        #expect(try Data(contentsOf: home.sam2Cache.appendingPathComponent("sam2.1_hiera_tiny.pt")) == Self.fixture)
        once.stop()

        // Every response stops at 1 MB: the run fails keeping the part; the next run (a good server)
        // asks only for the rest — for a release file and a Hub file alike.
        let cut = try ModelServer(root: root, options: ["--cut-at", "1000000"])
        let hub = ["models", "pull", "facebook/sam2.1-hiera-tiny", "--config", CLI.config]
        let failed = try home.run(hub, cut.baseURL)
        #expect(failed.status == 1 && failed.oneLineError && failed.stderr.contains("run the command again to resume"))
        cut.stop()
        let good = try ModelServer(root: root)
        let resumed = try home.run(hub, good.baseURL)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(good.requests().filter { $0.method == "GET" }.map(\.range) == ["bytes=1000000-"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: String(resumed.stdout.dropLast()))) == Self.fixture)
        #expect(!home.cachedFiles().contains { $0.hasSuffix(".incomplete") })
    }

    @Test func aServerIgnoringRangeRestartsTheDownload() throws {
        let home = try ModelHome()
        defer { home.remove() }
        let root = try ModelServer.makeRoot(in: home.folder)
        try FileManager.default.createDirectory(at: home.sam2Cache, withIntermediateDirectories: true)
        try Data(repeating: 7, count: 500_000).write(
            to: home.sam2Cache.appendingPathComponent("sam2.1_hiera_tiny.pt.incomplete"))
        // The same for a Hub blob, whose SHA-256 is computed as the bytes arrive: restarted with them.
        let blobs = home.hubRepo.appendingPathComponent("blobs")
        try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
        try Data(repeating: 7, count: 500_000).write(
            to: blobs.appendingPathComponent("\(Self.fixtureSHA256).incomplete"))
        let server = try ModelServer(root: root, options: ["--no-range"])
        let r = try home.run(["models", "pull", "tiny", "--config", CLI.config], server.baseURL)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(server.requests().map { "\($0.range ?? "-") \($0.status)" } == ["bytes=500000- 200"])
        #expect(try Data(contentsOf: home.sam2Cache.appendingPathComponent("sam2.1_hiera_tiny.pt")) == Self.fixture)
        let hub = try home.run(
            ["models", "pull", "facebook/sam2.1-hiera-tiny", "--config", CLI.config], server.baseURL)
        #expect(hub.status == 0, "\(hub.stderr)")
        #expect(try Data(contentsOf: blobs.appendingPathComponent(Self.fixtureSHA256)) == Self.fixture)
    }

    @Test func proxiesComeFromTheEnvironment() throws {
        let home = try ModelHome()
        defer { home.remove() }
        let server = try ModelServer(root: try ModelServer.makeRoot(in: home.folder))
        // models.invalid resolves nowhere: only the proxy can answer for it.
        let r = try home.run(
            ["models", "pull", "tiny", "--config", CLI.config], "http://models.invalid",
            ["http_proxy": server.baseURL])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(server.requests().map { "\($0.proxied) \($0.host ?? "")" } == ["true models.invalid"])
    }

    @Test func twoProcessesFetchingOneFileDownloadItOnce() throws {
        let home = try ModelHome()
        defer { home.remove() }
        let server = try ModelServer(
            root: try ModelServer.makeRoot(in: home.folder), options: ["--chunk-delay", "0.01"])
        let results = Recorder<CLI.Result>()
        let base = server.baseURL
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            let r = try? home.run(["models", "pull", "tiny", "--config", CLI.config, "--quiet"], base)
            results.append(r!)
        }
        let both = results.items
        #expect(both.allSatisfy { $0.status == 0 }, "\(both.map(\.stderr))")
        #expect(server.requests().count == 1)
    }

    /// The library's entry point, in this process: SAM2Model.load(model:) with a store on the test's
    /// caches, then from the cache alone.
    @Test func libraryLoadsAModelByName() throws {
        let home = try ModelHome()
        defer { home.remove() }
        let server = try ModelServer(root: try ModelServer.makeRoot(in: home.folder))
        let config = try SAM2Configuration.named(CLI.config)
        let events = Recorder<String>()
        let model = try SAM2Model.load(
            model: "facebook/sam2.1-hiera-tiny", configuration: config,
            store: ModelStore(environment: home.environment(server.baseURL))
        ) { event in
            switch event {
            case .downloading(_, let received, let total): events.append("\(received)/\(total ?? -1)")
            case .verifying: events.append("verifying")
            case .waiting: events.append("waiting")
            }
        }
        #expect(model.configuration.name == config.name)
        let seen = events.items
        #expect(seen.last == "verifying" && seen.dropLast().last == "\(Self.fixture.count)/\(Self.fixture.count)")
        server.stop()
        let offline = ModelStore(environment: home.environment(server.baseURL), offline: true)
        let again = try SAM2Model.load(model: "facebook/sam2.1-hiera-tiny", configuration: config, store: offline)
        #expect(again.configuration.name == config.name)
    }
}

/// Values appended from several threads.
final class Recorder<T: Sendable>: Sendable {
    private let storage = Mutex<[T]>([])
    func append(_ value: T) { storage.withLock { $0.append(value) } }
    var items: [T] { storage.withLock { $0 } }
}
