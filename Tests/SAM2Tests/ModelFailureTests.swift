// `--model NAME` when things go wrong, through the binary: a server that closes mid-body, a 404, a
// refused connection, a wrong SHA-256, a corrupt or foreign checkpoint — each one clear line, exit 1,
// nothing usable in any cache; offline with nothing cached says what to fetch from where and where to
// put it, without a request; names and options that make no sense are usage errors (exit 2).

import Foundation
import Testing

@testable import SAM2Workflows

@Suite struct ModelFailureTests {
    static let pullTiny = ["models", "pull", "tiny", "--config", CLI.config]
    static let pullHub = ["models", "pull", "facebook/sam2.1-hiera-tiny", "--config", CLI.config]

    /// Nothing a reader would take: no release file, no blob, snapshot or ref (parts may stay).
    static func nothingUsable(_ home: ModelHome) -> Bool {
        home.cachedFiles().allSatisfy { $0.hasSuffix(".incomplete") }
    }

    @Test func aServerClosingMidBody() throws {
        let home = try ModelHome()
        defer { home.remove() }
        let server = try ModelServer(
            root: try ModelServer.makeRoot(in: home.folder), options: ["--cut-at", "1000000"])
        for arguments in [Self.pullTiny, Self.pullHub] {
            let r = try home.run(arguments, server.baseURL)
            #expect(r.status == 1 && r.oneLineError, "\(r.stderr)")
            #expect(r.stderr.contains("stopped after 1.0 MB of 3.8 MB"), "\(r.stderr)")
            #expect(r.stderr.contains("run the command again to resume"), "\(r.stderr)")
        }
        #expect(Self.nothingUsable(home), "\(home.cachedFiles())")
        #expect(
            home.cachedFiles() == [
                "hf/hub/models--facebook--sam2.1-hiera-tiny/blobs/\(ModelDownloadTests.fixtureSHA256).incomplete",
                "sam2-cache/sam2.1_hiera_tiny.pt.incomplete",
            ])
        let list = try home.run(["models", "--json"], server.baseURL)
        let tiny = try #require(list.stdout.split(separator: "\n").first { $0.contains("\"tiny\"") })
        #expect(tiny.contains("\"cached\":false") && tiny.contains("\"partial_bytes\":1000000"), "\(tiny)")
    }

    @Test func aMissingFileIsA404() throws {
        let home = try ModelHome()
        defer { home.remove() }
        let server = try ModelServer(root: try ModelServer.makeRoot(in: home.folder))
        let release = try home.run(["models", "pull", "small"], server.baseURL)
        #expect(release.status == 1 && release.oneLineError, "\(release.stderr)")
        #expect(release.stderr.contains("\(server.baseURL)/092824/sam2.1_hiera_small.pt answered 404 Not Found"))
        let hub = try home.run(["models", "pull", "facebook/sam2.1-hiera-small"], server.baseURL)
        #expect(hub.status == 1 && hub.oneLineError, "\(hub.stderr)")
        #expect(hub.stderr.contains("resolve/main/sam2.1_hiera_small.pt answered 404 Not Found (EntryNotFound)"))
        #expect(home.cachedFiles().isEmpty, "\(home.cachedFiles())")
    }

    @Test func aRefusedConnectionSaysWhatToFetchAndWhereToPutIt() throws {
        let home = try ModelHome()
        defer { home.remove() }
        let server = try ModelServer(root: try ModelServer.makeRoot(in: home.folder))
        server.stop()
        let release = try home.run(Self.pullTiny, server.baseURL)
        #expect(release.status == 1 && release.oneLineError, "\(release.stderr)")
        let destination = home.sam2Cache.appendingPathComponent("sam2.1_hiera_tiny.pt").path
        #expect(release.stderr.contains("\(server.baseURL)/092824/sam2.1_hiera_tiny.pt cannot be reached"))
        #expect(release.stderr.contains("put it at \(destination)"), "\(release.stderr)")
        let hub = try home.run(
            ["segment", CLI.image, "--point", "1,1", "--model", "facebook/sam2.1-hiera-tiny"], server.baseURL)
        #expect(hub.status == 1 && hub.oneLineError, "\(hub.stderr)")
        #expect(hub.stderr.contains("/facebook/sam2.1-hiera-tiny/resolve/main/sam2.1_hiera_tiny.pt cannot be reached"))
        #expect(hub.stderr.contains("put it at \(home.hubRepo.path)/snapshots/main/sam2.1_hiera_tiny.pt"))
        #expect(home.cachedFiles().isEmpty, "\(home.cachedFiles())")
    }

    @Test func aWrongSHA256LeavesNothing() throws {
        let home = try ModelHome()
        defer { home.remove() }
        let server = try ModelServer(root: try ModelServer.makeRoot(in: home.folder), options: ["--wrong-sha"])
        let r = try home.run(Self.pullHub, server.baseURL)
        #expect(r.status == 1 && r.oneLineError, "\(r.stderr)")
        #expect(r.stderr.contains("has SHA-256 \(ModelDownloadTests.fixtureSHA256), not the"), "\(r.stderr)")
        #expect(home.cachedFiles().isEmpty, "\(home.cachedFiles())")
    }

    @Test func aCorruptOrForeignCheckpointIsNotCached() throws {
        let home = try ModelHome()
        defer { home.remove() }
        let server = try ModelServer(root: try ModelServer.makeRoot(in: home.folder))
        // One flipped byte in a tensor: the zip member's CRC-32 says so.
        let corrupt = try home.run(["models", "pull", "sam2_hiera_s", "--config", CLI.config], server.baseURL)
        #expect(corrupt.status == 1 && corrupt.oneLineError, "\(corrupt.stderr)")
        #expect(corrupt.stderr.contains("is not a usable checkpoint") && corrupt.stderr.contains("CRC-32"))
        // Whole, but not the architecture the name promises (the small test model is not tiny).
        let foreign = try home.run(["segment", CLI.image, "--point", "1,1", "--model", "tiny"], server.baseURL)
        #expect(foreign.status == 1 && foreign.oneLineError, "\(foreign.stderr)")
        #expect(
            foreign.stderr.contains("is not a usable checkpoint") && foreign.stderr.contains("expected [96, 3, 7, 7]"))
        #expect(home.cachedFiles().isEmpty, "\(home.cachedFiles())")
    }

    @Test(arguments: [
        (["--offline"], [:]), ([], ["SAM2_OFFLINE": "1"]), ([], ["HF_HUB_OFFLINE": "1"]),
        ([], ["HF_HUB_OFFLINE": "true"]), ([], ["SAM2_OFFLINE": "YES"]),
    ])
    func offlineWithNothingCached(flags: [String], variables: [String: String]) throws {
        let home = try ModelHome()
        defer { home.remove() }
        let server = try ModelServer(root: try ModelServer.makeRoot(in: home.folder))
        let release = try home.run(Self.pullTiny + flags, server.baseURL, variables)
        #expect(release.status == 1 && release.oneLineError, "\(release.stderr)")
        let destination = home.sam2Cache.appendingPathComponent("sam2.1_hiera_tiny.pt").path
        #expect(
            release.stderr.contains(
                "downloads are off (--offline, SAM2_OFFLINE or HF_HUB_OFFLINE): fetch "
                    + "\(server.baseURL)/092824/sam2.1_hiera_tiny.pt and put it at \(destination)"),
            "\(release.stderr)")
        let hub = try home.run(Self.pullHub + flags, server.baseURL, variables)
        #expect(hub.status == 1 && hub.oneLineError, "\(hub.stderr)")
        #expect(
            hub.stderr.contains(
                "fetch \(server.baseURL)/facebook/sam2.1-hiera-tiny/resolve/main/sam2.1_hiera_tiny.pt and put it at "
                    + "\(home.hubRepo.path)/snapshots/main/sam2.1_hiera_tiny.pt"), "\(hub.stderr)")
        #expect(server.requests().isEmpty && home.cachedFiles().isEmpty)
        // Cached, offline runs work without a request either.
        let online = try home.run(Self.pullTiny, server.baseURL)
        let requests = server.requests().count
        let cached = try home.run(Self.pullTiny + flags, server.baseURL, variables)
        #expect(online.status == 0 && cached.status == 0 && cached.stdout == online.stdout)
        #expect(server.requests().count == requests)
    }

    @Test(arguments: [
        (["--model", "bogus"], "unknown model 'bogus'"),
        (["--model", "tiny", "--checkpoint", "x.pt"], "give --checkpoint or --model, not both"),
        (["--model", "tiny", "--file", "x.pt"], "--file applies to a Hugging Face repo id, not to 'tiny'"),
        (["--model", "large", "--revision", "v1"], "--revision applies to a Hugging Face repo id"),
        (["--model", "someone/repo"], "name the checkpoint in it with --file FILE"),
        (["--model", "a/../b", "--file", "x.pt"], "'a/../b' is not a Hugging Face repo id"),
        (["--model", "someone/a--b", "--file", "x.pt"], "is not a Hugging Face repo id"),
        (["--model", "someone/repo", "--file", "../x.pt"], "--file '../x.pt' is not a file path"),
        (["--model", "facebook/sam2-hiera-large", "--revision", "../main"], "--revision '../main' is not"),
        (["--checkpoint", "x.pt", "--revision", "main"], "--revision goes with --model NAME"),
        ([], "--checkpoint CKPT or --model NAME is required"),
        (["--model", CLI.checkpoint], "is a file: pass it with --checkpoint"),
    ])
    func namesAndOptionsThatMakeNoSenseAreUsageErrors(arguments: [String], message: String) throws {
        let r = try CLI.run(
            ["segment", CLI.image, "--point", "1,1"] + arguments, environment: ["HOME": "/nonexistent"])
        #expect(r.status == 2 && r.oneLineError && r.stderr.contains(message), "\(r.stderr)")
    }

    @Test func modelsCommandUsage() throws {
        for (arguments, message) in [
            (["models", "frob"], "unknown action 'frob'"), (["models", "pull"], "pull takes one model name"),
            (["models", "rm", "tiny", "--offline"], "rm takes only --file and --revision"),
            (["models", "list", "--file", "x"], "list takes only --json"),
            (["models", "pull", "tiny", "--json"], "--json goes with list"),
        ] {
            let r = try CLI.run(arguments, environment: ["HOME": "/nonexistent"])
            #expect(r.status == 2 && r.oneLineError && r.stderr.contains(message), "\(arguments): \(r.stderr)")
        }
    }

    @Test func modelsListsPullsAndRemoves() throws {
        let home = try ModelHome()
        defer { home.remove() }
        let server = try ModelServer(root: try ModelServer.makeRoot(in: home.folder))
        let before = try home.run(["models", "--json"], server.baseURL)
        let lines = before.stdout.split(separator: "\n").map {
            try? JSONDecoder().decode(ListedModel.self, from: Data($0.utf8))
        }
        #expect(lines.count == 16 && lines.allSatisfy { $0 != nil && !$0!.cached })
        #expect(lines.first??.names == ["tiny", "sam2.1_hiera_t"] && lines.first??.approximateBytes == 155_851_016)
        #expect(lines.last??.url == "\(server.baseURL)/facebook/sam2-hiera-large/resolve/main/sam2_hiera_large.pt")
        let text = try home.run(["models"], server.baseURL)
        #expect(text.stdout.hasPrefix("NAME") && text.stdout.contains("≈155.9 MB  no"), "\(text.stdout)")

        #expect(try home.run(Self.pullTiny, server.baseURL).status == 0)
        #expect(try home.run(Self.pullHub, server.baseURL).status == 0)
        let hub = try home.run(["models", "rm", "facebook/sam2.1-hiera-tiny"], server.baseURL)
        #expect(hub.status == 0 && hub.stdout.split(separator: "\n").count == 3, "\(hub.stdout)")  // link, blob, ref
        #expect(home.cachedFiles() == ["sam2-cache/sam2.1_hiera_tiny.pt"])
        let release = try home.run(["models", "rm", "tiny"], server.baseURL)
        #expect(release.status == 0 && release.stdout.contains("sam2.1_hiera_tiny.pt"))
        let again = try home.run(["models", "rm", "sam2.1_hiera_t"], server.baseURL)
        #expect(
            again.status == 1 && again.oneLineError && again.stderr.contains("model 'sam2.1_hiera_t' is not cached"))
    }

    struct ListedModel: Decodable {
        var names: [String]
        var url: String
        var cached: Bool
        var approximateBytes: Int

        enum CodingKeys: String, CodingKey {
            case names, url, cached
            case approximateBytes = "approximate_bytes"
        }
    }
}
