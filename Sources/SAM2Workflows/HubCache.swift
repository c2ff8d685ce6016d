// HubCache: one repository's folder in the Hugging Face cache, exactly as huggingface_hub lays it out
// (file_download.py), so that what Python fetched is found here and what we fetch serves Python:
//
//   <hub cache>/models--<namespace>--<name>/
//     refs/<revision>            the commit the revision named when last fetched (no newline)
//     snapshots/<commit>/<file>  a relative symlink to ../../blobs/<blob> (one ../ more per folder in <file>)
//     blobs/<blob>               the bytes, named by the file's ETag (an LFS file's SHA-256)
//   <hub cache>/.locks/models--<namespace>--<name>/<blob>.lock   held while the blob is written
//
// A server that sends no commit id gets a snapshot named after the revision (and refs/<revision>
// naming itself, so that huggingface_hub finds it offline too). No CACHEDIR.TAG is written: recent
// huggingface_hub versions write one, older ones' scan_cache_dir reports it as a corrupted repo.

import Foundation
import SAM2IO

struct HubCache {
    let cache: URL
    let repo: String

    /// `models--<namespace>--<name>`.
    var folderName: String { "models--" + repo.replacingOccurrences(of: "/", with: "--") }
    var folder: URL { cache.appendingPathComponent(folderName, isDirectory: true) }

    func blob(_ name: String) -> URL { folder.appendingPathComponent("blobs/\(name)") }
    func partial(_ name: String) -> URL { folder.appendingPathComponent("blobs/\(name).incomplete") }
    func lock(_ name: String) -> URL { cache.appendingPathComponent(".locks/\(folderName)/\(name).lock") }

    func snapshotFile(_ file: String, commit: String) -> URL {
        folder.appendingPathComponent("snapshots/\(commit)/\(file)")
    }

    /// The commit `refs/<revision>` names, else the revision itself (a commit id, or a snapshot named
    /// after a revision), as huggingface_hub's try_to_load_from_cache reads it.
    func commit(for revision: String) -> String {
        let ref = folder.appendingPathComponent("refs/\(revision)")
        guard let text = try? String(contentsOf: ref, encoding: .utf8) else { return revision }
        let commit = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let safe =
            !commit.isEmpty && commit != "." && commit != ".."
            && commit.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) }
        return safe ? commit : revision
    }

    /// The cached file of `revision`, or nil (a dangling symlink or a folder is not a file).
    func cachedFile(_ file: String, revision: String) -> URL? {
        let path = snapshotFile(file, commit: commit(for: revision))
        var info = stat()
        guard stat(path.path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        return path
    }

    /// Moves a verified download into place: the blob, the snapshot's symlink to it, the ref.
    func store(partial: URL, blob name: String, file: String, commit: String, revision: String) throws(ModelError)
        -> URL
    {
        let blobURL = blob(name)
        guard rename(partial.path, blobURL.path) == 0 else {
            throw .cannotWrite(path: blobURL.path, reason: String(cString: strerror(errno)))
        }
        return try link(blob: name, file: file, commit: commit, revision: revision)
    }

    /// Points the snapshot's file at an existing blob and the revision's ref at the snapshot.
    func link(blob name: String, file: String, commit: String, revision: String) throws(ModelError) -> URL {
        let pointer = snapshotFile(file, commit: commit)
        do {
            try FileManager.default.createDirectory(
                at: pointer.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw .cannotWrite(path: pointer.deletingLastPathComponent().path, reason: AtomicFile.reason(error))
        }
        let depth = file.split(separator: "/").count + 1
        let target = String(repeating: "../", count: depth) + "blobs/\(name)"
        let temporary = pointer.deletingLastPathComponent().appendingPathComponent(
            ".\(pointer.lastPathComponent).\(getpid()).tmp")
        unlink(temporary.path)
        guard symlink(target, temporary.path) == 0, rename(temporary.path, pointer.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary.path)
            throw .cannotWrite(path: pointer.path, reason: reason)
        }
        if revision != commit || !ModelRegistry.isCommitID(revision) {
            let ref = folder.appendingPathComponent("refs/\(revision)")
            do {
                try AtomicFile.createDirectory(ref.deletingLastPathComponent())
                try AtomicFile.write(Data(commit.utf8), to: ref)
            } catch {
                throw .cannotWrite(path: ref.path, reason: AtomicFile.reason(error))
            }
        }
        return pointer
    }

    /// The file of `revision` and what only it used: its symlink, its blob when no other snapshot
    /// points at it, the snapshot folder once empty and the refs naming it. Returns the paths removed,
    /// empty when the file was not cached.
    func remove(_ file: String, revision: String) -> [URL] {
        let commit = commit(for: revision)
        let pointer = snapshotFile(file, commit: commit)
        var info = stat()
        guard lstat(pointer.path, &info) == 0 else { return [] }
        var removed: [URL] = []
        let blobName = (try? FileManager.default.destinationOfSymbolicLink(atPath: pointer.path))
            .flatMap {
                $0.hasPrefix("../") && $0.contains("/blobs/") ? URL(fileURLWithPath: $0).lastPathComponent : nil
            }
        if unlink(pointer.path) == 0 { removed.append(pointer) }
        if let blobName, !snapshotLinks(to: blobName), unlink(blob(blobName).path) == 0 {
            removed.append(blob(blobName))
        }
        // Empty folders up to the snapshot, then the refs that named it.
        let snapshot = folder.appendingPathComponent("snapshots/\(commit)")
        var dir = pointer.deletingLastPathComponent()
        while dir.path.hasPrefix(snapshot.path), rmdir(dir.path) == 0 {
            if dir.path == snapshot.path { break }
            dir.deleteLastPathComponent()
        }
        if !FileManager.default.fileExists(atPath: snapshot.path) {
            let refs = folder.appendingPathComponent("refs")
            for name in FileManager.default.subpaths(atPath: refs.path) ?? [] {
                let ref = refs.appendingPathComponent(name)
                if let text = try? String(contentsOf: ref, encoding: .utf8),
                    text.trimmingCharacters(in: .whitespacesAndNewlines) == commit, unlink(ref.path) == 0
                {
                    removed.append(ref)
                }
            }
        }
        return removed
    }

    /// True when a file of some snapshot is a symlink to blobs/<name>.
    private func snapshotLinks(to name: String) -> Bool {
        let snapshots = folder.appendingPathComponent("snapshots")
        for path in FileManager.default.subpaths(atPath: snapshots.path) ?? [] {
            let link = try? FileManager.default.destinationOfSymbolicLink(
                atPath: snapshots.appendingPathComponent(path).path)
            if let link, link.hasSuffix("blobs/\(name)") { return true }
        }
        return false
    }
}
