// The names `--model` takes and where they lead (the official release table, the reference's
// HF_MODEL_ID_TO_FILENAMES), the caches and endpoints read from the environment as huggingface_hub
// reads them, the sizes listed, SHA-256 against its published test vectors, ETags as the Hub sends them.

import Foundation
import Testing

@testable import SAM2
@testable import SAM2Workflows

@Suite struct ModelRegistryTests {
    static let official = ModelStore(environment: ["HOME": "/home/u"])

    @Test func releaseNamesLeadToTheOfficialURLs() throws {
        let base = "https://dl.fbaipublicfiles.com/segment_anything_2"
        let expected: [(names: [String], url: String, config: String)] = [
            (["tiny", "sam2.1_hiera_t"], "\(base)/092824/sam2.1_hiera_tiny.pt", "sam2.1_hiera_t"),
            (["small", "sam2.1_hiera_s"], "\(base)/092824/sam2.1_hiera_small.pt", "sam2.1_hiera_s"),
            (["base_plus", "sam2.1_hiera_b+"], "\(base)/092824/sam2.1_hiera_base_plus.pt", "sam2.1_hiera_b+"),
            (["large", "sam2.1_hiera_l"], "\(base)/092824/sam2.1_hiera_large.pt", "sam2.1_hiera_l"),
            (["sam2_hiera_t"], "\(base)/072824/sam2_hiera_tiny.pt", "sam2_hiera_t"),
            (["sam2_hiera_s"], "\(base)/072824/sam2_hiera_small.pt", "sam2_hiera_s"),
            (["sam2_hiera_b+"], "\(base)/072824/sam2_hiera_base_plus.pt", "sam2_hiera_b+"),
            (["sam2_hiera_l"], "\(base)/072824/sam2_hiera_large.pt", "sam2_hiera_l"),
        ]
        for entry in expected {
            for name in entry.names {
                let reference = try ModelRegistry.resolve(name)
                #expect(Self.official.remoteURL(reference) == entry.url, "\(name)")
                #expect(reference.configurationName == entry.config)
                #expect(
                    Self.official.destination(reference).path
                        == "/home/u/.cache/sam2/\(URL(string: entry.url)!.lastPathComponent)")
                // The configuration it names is a preset the model knows.
                #expect(try SAM2Configuration.named(entry.config).name == entry.config)
            }
        }
    }

    /// The reference's build_sam.py HF_MODEL_ID_TO_FILENAMES, as it reads (sam2 1.1.0).
    @Test func hubIDsMapToTheirFilesAsTheReferenceMapsThem() throws {
        let referenceMap = [
            "facebook/sam2-hiera-tiny": ("sam2_hiera_t", "sam2_hiera_tiny.pt"),
            "facebook/sam2-hiera-small": ("sam2_hiera_s", "sam2_hiera_small.pt"),
            "facebook/sam2-hiera-base-plus": ("sam2_hiera_b+", "sam2_hiera_base_plus.pt"),
            "facebook/sam2-hiera-large": ("sam2_hiera_l", "sam2_hiera_large.pt"),
            "facebook/sam2.1-hiera-tiny": ("sam2.1_hiera_t", "sam2.1_hiera_tiny.pt"),
            "facebook/sam2.1-hiera-small": ("sam2.1_hiera_s", "sam2.1_hiera_small.pt"),
            "facebook/sam2.1-hiera-base-plus": ("sam2.1_hiera_b+", "sam2.1_hiera_base_plus.pt"),
            "facebook/sam2.1-hiera-large": ("sam2.1_hiera_l", "sam2.1_hiera_large.pt"),
        ]
        #expect(ModelRegistry.known.filter { if case .hub = $0.source { true } else { false } }.count == 8)
        for (id, (config, file)) in referenceMap {
            let reference = try ModelRegistry.resolve(id)
            #expect(reference.source == .hub(repo: id, file: file, revision: "main"))
            #expect(reference.configurationName == config)
            #expect(Self.official.remoteURL(reference) == "https://huggingface.co/\(id)/resolve/main/\(file)")
            let folder = "models--" + id.replacingOccurrences(of: "/", with: "--")
            #expect(
                Self.official.destination(reference).path
                    == "/home/u/.cache/huggingface/hub/\(folder)/snapshots/main/\(file)")
        }
        // Another file of an official repo is not assumed to hold its preset; revisions are quoted whole.
        let other = try ModelRegistry.resolve("facebook/sam2.1-hiera-tiny", file: "model.safetensors")
        #expect(other.configurationName == nil)
        let pr = try ModelRegistry.resolve("someone/sam", file: "dir/w b.pt", revision: "refs/pr/1")
        #expect(Self.official.remoteURL(pr) == "https://huggingface.co/someone/sam/resolve/refs%2Fpr%2F1/dir/w%20b.pt")
    }

    @Test func cachesEndpointsAndOfflineFromTheEnvironment() {
        let defaults = ModelStore(environment: ["HOME": "/home/u"])
        #expect(defaults.releaseCache.path == "/home/u/.cache/sam2")
        #expect(defaults.hubCache.path == "/home/u/.cache/huggingface/hub")
        #expect(defaults.releaseBaseURL == "https://dl.fbaipublicfiles.com/segment_anything_2")
        #expect(defaults.hubEndpoint == "https://huggingface.co" && !defaults.offline)
        let xdg = ModelStore(environment: ["HOME": "/home/u", "XDG_CACHE_HOME": "/xdg"])
        #expect(xdg.releaseCache.path == "/xdg/sam2" && xdg.hubCache.path == "/xdg/huggingface/hub")
        let set = ModelStore(environment: [
            "HOME": "/home/u", "XDG_CACHE_HOME": "/xdg", "SAM2_CACHE": "~/models", "HF_HOME": "/hf",
            "SAM2_MODEL_BASE_URL": "http://mirror/sam2/", "HF_ENDPOINT": "https://hf-mirror.com/",
        ])
        #expect(set.releaseCache.path == "/home/u/models" && set.hubCache.path == "/hf/hub")
        #expect(set.releaseBaseURL == "http://mirror/sam2" && set.hubEndpoint == "https://hf-mirror.com")
        let hubCache = ModelStore(environment: ["HOME": "/h", "HF_HOME": "/hf", "HF_HUB_CACHE": "/hubcache"])
        #expect(hubCache.hubCache.path == "/hubcache")
        for (name, value, offline) in [
            ("SAM2_OFFLINE", "1", true), ("HF_HUB_OFFLINE", "on", true), ("TRANSFORMERS_OFFLINE", "True", true),
            ("HF_HUB_OFFLINE", "0", false), ("SAM2_OFFLINE", "", false), ("HF_HUB_OFFLINE", "no", false),
        ] {
            #expect(ModelStore(environment: ["HOME": "/h", name: value]).offline == offline, "\(name)=\(value)")
        }
        #expect(ModelStore(environment: ["HOME": "/h"], offline: true).offline)
    }

    /// The sizes listed: four bytes a value of each preset's state dict, counted from the
    /// architectures' key shapes (Fixtures/architectures, written from the reference's modules).
    @Test func listedSizesAreTheArchitecturesValueCounts() throws {
        struct Architecture: Decodable { var shapes: [String: [Int]] }
        for model in ModelRegistry.known {
            let url = ModelFixtures.url("architectures/\(model.configurationName).json")
            let architecture = try JSONDecoder().decode(Architecture.self, from: Data(contentsOf: url))
            let values = architecture.shapes.values.reduce(0) { $0 + $1.reduce(1, *) }
            #expect(model.parameters == values, "\(model.names)")
        }
    }

    @Test func sha256MatchesTheFIPSVectors() throws {
        #expect(SHA256.hexDigest(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            SHA256.hexDigest(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SHA256.hexDigest(Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        let million = Data(repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(SHA256.hexDigest(million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // Fed in uneven pieces, the same digest.
        var pieces = SHA256()
        var offset = 0
        for size in [1, 63, 64, 65, 1000, 7, 128] + Array(repeating: 99_999, count: 10) where offset < million.count {
            let end = min(offset + size, million.count)
            pieces.update(million[offset..<end])
            offset = end
        }
        pieces.update(million[offset...])
        #expect(pieces.hexDigest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func etagsAndHeaderNames() {
        #expect(HubDownload.normalizedETag("\"abc\"") == "abc" && HubDownload.normalizedETag("W/\"abc\"") == "abc")
        #expect(HubDownload.isSHA256(String(repeating: "a1", count: 32)))
        #expect(!HubDownload.isSHA256("0123456789abcdef0123456789abcdef01234567"))
        #expect(HubDownload.safeName("../x") == nil && HubDownload.safeName("a/b") == nil)
        #expect(HubDownload.safeName("0123abc-_.") == "0123abc-_.")
    }
}
