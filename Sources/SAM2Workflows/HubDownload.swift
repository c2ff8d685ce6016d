// HubDownload: one file of a Hugging Face Hub repository into the Hugging Face cache, the way
// huggingface_hub's hf_hub_download does it: a HEAD on <endpoint>/<repo>/resolve/<revision>/<file>
// whose answer (the redirect to the CDN, for an LFS file) carries the commit (X-Repo-Commit), the
// ETag (X-Linked-Etag: an LFS file's SHA-256) and the size (X-Linked-Size); then the download from
// where it points into blobs/<etag>.incomplete under the lock huggingface_hub takes, checked (length,
// SHA-256, the caller's verification) and stored in HubCache's layout.

import Foundation
import SAM2IO

struct HubDownload {
    let store: ModelStore
    let reference: ModelReference
    let repo: String
    let file: String
    let revision: String

    func fetch(url: String, events: @escaping @Sendable (ModelStoreEvent) -> Void, verify: (URL) throws -> Void)
        throws(ModelError) -> URL
    {
        let cache = HubCache(cache: store.hubCache, repo: repo)
        let head: HTTPHead
        do {
            head = try HTTPTransfer.head(URL(string: url)!)
        } catch {
            throw store.modelError(error, reference: reference, url: url, partial: cache.folder)
        }
        guard (200..<400).contains(head.status) else {
            throw store.modelError(.status(head), reference: reference, url: url, partial: cache.folder)
        }
        let commit = head.header("X-Repo-Commit").flatMap(Self.safeName) ?? revision
        let etag = (head.header("X-Linked-Etag") ?? head.header("ETag")).map(Self.normalizedETag)
        let sha256 = etag.flatMap { Self.isSHA256($0) ? $0 : nil }
        let size = (head.header("X-Linked-Size") ?? (head.status == 200 ? head.header("Content-Length") : nil))
            .flatMap { Int64($0) }
        var location = head.url
        if (300..<400).contains(head.status), let target = head.header("Location") {
            location = URL(string: target, relativeTo: head.url)?.absoluteURL ?? head.url
        }
        let blobName = etag.flatMap(Self.safeName)
        if let blobName, FileManager.default.fileExists(atPath: cache.blob(blobName).path) {
            // The bytes are cached already (another revision, or Python fetched them): link them.
            return try cache.link(blob: blobName, file: file, commit: commit, revision: revision)
        }
        // Without a usable ETag the blob is named by its SHA-256 once downloaded.
        let partName = blobName ?? "sam2-" + SHA256.hexDigest(Data(location.absoluteString.utf8)).prefix(16)
        let lock = try FileLock(cache.lock(partName)) { events(.waiting(file: file)) }
        defer { withExtendedLifetime(lock) {} }
        if let blobName, FileManager.default.fileExists(atPath: cache.blob(blobName).path) {
            return try cache.link(blob: blobName, file: file, commit: commit, revision: revision)
        }
        let partial = cache.partial(partName)
        do {
            try FileManager.default.createDirectory(
                at: partial.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw .cannotWrite(path: partial.deletingLastPathComponent().path, reason: AtomicFile.reason(error))
        }
        let digest = try store.download(
            reference, from: location, to: partial, expectedSize: size, sha256: sha256 != nil || blobName == nil,
            events: events)
        events(.verifying(file: file))
        if let sha256, let digest, digest != sha256 {
            unlink(partial.path)
            throw .checksumMismatch(url: url, expected: sha256, found: digest)
        }
        try ModelStore.verified(partial, url: url, verify: verify)
        return try cache.store(
            partial: partial, blob: blobName ?? digest!, file: file, commit: commit, revision: revision)
    }

    /// `W/"abc"` or `"abc"` → `abc`, as huggingface_hub's _normalize_etag.
    static func normalizedETag(_ etag: String) -> String {
        var text = Substring(etag)
        if text.hasPrefix("W/") { text = text.dropFirst(2) }
        return text.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }

    static func isSHA256(_ text: String) -> Bool {
        text.count == 64 && text.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    /// A header value usable as one file name (a commit id, an ETag), else nil.
    static func safeName(_ text: String) -> String? {
        let valid =
            !text.isEmpty && text.count <= 128 && text != "." && text != ".."
            && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
        return valid ? text : nil
    }
}
