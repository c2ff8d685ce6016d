// ModelStore: where the checkpoints `--model` names are cached and fetched from, read from the
// environment as huggingface_hub and the XDG convention read it. Finds a cached file without touching
// the network; otherwise downloads it under a temporary name (resumable), checks its length, the SHA-256
// the Hub announces and the caller's checkpoint verification, and only then moves it into place.
//
//   release files (aliases, configuration names): $SAM2_CACHE, else $XDG_CACHE_HOME/sam2, else ~/.cache/sam2,
//     fetched from $SAM2_MODEL_BASE_URL (default https://dl.fbaipublicfiles.com/segment_anything_2)
//   Hub files: $HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else
//     ~/.cache/huggingface/hub (HubCache's layout), fetched from $HF_ENDPOINT (default https://huggingface.co)
//   offline: the caller's flag, SAM2_OFFLINE, HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE = 1/ON/YES/TRUE

import Foundation
import SAM2IO

/// What a fetch is doing, for a progress display.
public enum ModelStoreEvent: Sendable {
    /// Another process is downloading the same file; this one waits for it.
    case waiting(file: String)
    case downloading(file: String, received: Int64, total: Int64?)
    /// The download is whole and being checked.
    case verifying(file: String)
}

public struct ModelStore: Sendable {
    public static let officialReleaseBaseURL = "https://dl.fbaipublicfiles.com/segment_anything_2"
    public static let officialHubEndpoint = "https://huggingface.co"

    public var releaseCache: URL
    public var hubCache: URL
    public var releaseBaseURL: String
    public var hubEndpoint: String
    /// Never touch the network: a file that is not cached is an error saying where to get it.
    public var offline: Bool

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, offline: Bool = false) {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let home = value("HOME") ?? NSHomeDirectory()
        func path(_ text: String) -> URL {
            let expanded = text == "~" ? home : text.hasPrefix("~/") ? home + text.dropFirst() : text
            return URL(fileURLWithPath: expanded, isDirectory: true).standardizedFileURL
        }
        let xdg = value("XDG_CACHE_HOME").map(path) ?? path(home).appendingPathComponent(".cache")
        releaseCache = value("SAM2_CACHE").map(path) ?? xdg.appendingPathComponent("sam2")
        let hfHome = value("HF_HOME").map(path) ?? xdg.appendingPathComponent("huggingface")
        hubCache =
            (value("HF_HUB_CACHE") ?? value("HUGGINGFACE_HUB_CACHE")).map(path) ?? hfHome.appendingPathComponent("hub")
        func base(_ text: String?) -> String? {
            guard var text else { return nil }
            while text.hasSuffix("/") { text.removeLast() }
            return text
        }
        releaseBaseURL = base(value("SAM2_MODEL_BASE_URL")) ?? Self.officialReleaseBaseURL
        hubEndpoint = base(value("HF_ENDPOINT")) ?? Self.officialHubEndpoint
        let truthy: (String) -> Bool = { ["1", "ON", "YES", "TRUE"].contains(value($0)?.uppercased() ?? "") }
        self.offline = offline || truthy("SAM2_OFFLINE") || truthy("HF_HUB_OFFLINE") || truthy("TRANSFORMERS_OFFLINE")
    }

    /// Where the file is downloaded from.
    public func remoteURL(_ reference: ModelReference) -> String {
        switch reference.source {
        case .release(let folder, let file):
            return "\(releaseBaseURL)/\(folder)/\(file)"
        case .hub(let repo, let file, let revision):
            let segment = CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "/;?#"))
            let rev = revision.addingPercentEncoding(withAllowedCharacters: segment) ?? revision
            let path = file.split(separator: "/").map {
                String($0).addingPercentEncoding(withAllowedCharacters: segment) ?? String($0)
            }
            return "\(hubEndpoint)/\(repo)/resolve/\(rev)/\(path.joined(separator: "/"))"
        }
    }

    /// The cached file, or nil.
    public func cachedFile(_ reference: ModelReference) -> URL? {
        switch reference.source {
        case .release(_, let file):
            let url = releaseCache.appendingPathComponent(file)
            var info = stat()
            return stat(url.path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG ? url : nil
        case .hub(let repo, let file, let revision):
            return HubCache(cache: hubCache, repo: repo).cachedFile(file, revision: revision)
        }
    }

    /// Where the file is cached when present, and where to put it by hand.
    public func destination(_ reference: ModelReference) -> URL {
        switch reference.source {
        case .release(_, let file):
            return releaseCache.appendingPathComponent(file)
        case .hub(let repo, let file, let revision):
            let cache = HubCache(cache: hubCache, repo: repo)
            return cache.snapshotFile(file, commit: cache.commit(for: revision))
        }
    }

    /// Bytes of an interrupted download of a release file waiting to be resumed, or nil.
    public func partialBytes(_ reference: ModelReference) -> Int64? {
        guard case .release(_, let file) = reference.source else { return nil }
        return HTTPTransfer.fileSize(releaseCache.appendingPathComponent(file + ".incomplete"))
    }

    /// The checkpoint file: the cached one, else downloaded, checked (`verify` throws for a file that
    /// is not a usable checkpoint) and cached.
    public func checkpoint(
        for reference: ModelReference, events: @escaping @Sendable (ModelStoreEvent) -> Void = { _ in },
        verify: (URL) throws -> Void
    ) throws(ModelError) -> URL {
        if let cached = cachedFile(reference) { return cached }
        let url = remoteURL(reference)
        if offline {
            throw .offline(name: reference.name, url: url, destination: destination(reference).path)
        }
        switch reference.source {
        case .release(_, let file):
            return try fetchRelease(reference, file: file, url: url, events: events, verify: verify)
        case .hub(let repo, let file, let revision):
            return try HubDownload(store: self, reference: reference, repo: repo, file: file, revision: revision)
                .fetch(url: url, events: events, verify: verify)
        }
    }

    private func fetchRelease(
        _ reference: ModelReference, file: String, url: String,
        events: @escaping @Sendable (ModelStoreEvent) -> Void, verify: (URL) throws -> Void
    ) throws(ModelError) -> URL {
        let final = releaseCache.appendingPathComponent(file)
        let lock = try FileLock(releaseCache.appendingPathComponent(".locks/\(file).lock")) {
            events(.waiting(file: file))
        }
        defer { withExtendedLifetime(lock) {} }
        if let cached = cachedFile(reference) { return cached }  // another process finished it meanwhile
        let partial = releaseCache.appendingPathComponent(file + ".incomplete")
        try download(reference, from: URL(string: url)!, to: partial, expectedSize: nil, events: events)
        events(.verifying(file: file))
        try Self.verified(partial, url: url, verify: verify)
        guard rename(partial.path, final.path) == 0 else {
            throw .cannotWrite(path: final.path, reason: String(cString: strerror(errno)))
        }
        return final
    }

    /// Downloads into `partial`, naming the model and the paths in the errors; returns the file's
    /// SHA-256 when asked for.
    @discardableResult
    func download(
        _ reference: ModelReference, from url: URL, to partial: URL, expectedSize: Int64?, sha256: Bool = false,
        events: @escaping @Sendable (ModelStoreEvent) -> Void
    ) throws(ModelError) -> String? {
        let file = URL(fileURLWithPath: reference.source.file).lastPathComponent
        do {
            return try HTTPTransfer.download(url, to: partial, expectedSize: expectedSize, sha256: sha256) {
                received, total in
                events(.downloading(file: file, received: received, total: total))
            }
        } catch {
            throw modelError(error, reference: reference, url: remoteURL(reference), partial: partial)
        }
    }

    func modelError(_ error: TransferError, reference: ModelReference, url: String, partial: URL) -> ModelError {
        switch error {
        case .noResponse(let reason):
            return .unreachable(
                name: reference.name, url: url, destination: destination(reference).path, reason: reason)
        case .status(let head):
            var detail = head.header("X-Error-Message") ?? head.header("X-Error-Code") ?? ""
            if head.status == 401 || head.status == 403 {
                detail +=
                    (detail.isEmpty ? "" : "; ") + "a private or gated repository needs a token, which sam2 "
                    + "does not send: download the file and pass it with --checkpoint"
            }
            return .httpStatus(name: reference.name, url: url, status: head.status, detail: detail)
        case .interrupted(let received, let total, let reason):
            return .interrupted(url: url, received: received, total: total, partial: partial.path, reason: reason)
        case .lengthMismatch(let expected, let announced):
            unlink(partial.path)
            return .sizeMismatch(url: url, expected: expected, received: announced)
        case .notEnoughSpace(let needed, let available):
            return .notEnoughSpace(
                folder: partial.deletingLastPathComponent().path, needed: needed, available: available)
        case .cannotWrite(let reason):
            return .cannotWrite(path: partial.path, reason: reason)
        }
    }

    /// Runs the caller's verification on a whole download; a file that fails it is removed.
    static func verified(_ partial: URL, url: String, verify: (URL) throws -> Void) throws(ModelError) {
        do {
            try verify(partial)
        } catch {
            unlink(partial.path)
            throw .notACheckpoint(url: url, reason: String(describing: error))
        }
    }

    /// Removes the cached file (and an interrupted download of it); returns the paths removed.
    public func remove(_ reference: ModelReference) throws(ModelError) -> [URL] {
        var removed: [URL] = []
        switch reference.source {
        case .release(_, let file):
            for name in [file, file + ".incomplete"] {
                let url = releaseCache.appendingPathComponent(name)
                if unlink(url.path) == 0 {
                    removed.append(url)
                } else if errno != ENOENT {
                    throw .cannotWrite(path: url.path, reason: String(cString: strerror(errno)))
                }
            }
        case .hub(let repo, let file, let revision):
            removed = HubCache(cache: hubCache, repo: repo).remove(file, revision: revision)
        }
        if removed.isEmpty { throw .notCached(name: reference.name, path: destination(reference).path) }
        return removed
    }
}
