// AtomicFile: writes a file under a temporary name in its directory and renames it into place, so an
// interrupted or failed write never leaves a half-written file or touches an existing one (SPEC §6).

import Foundation
import SAM2

/// A failure of `AtomicFile`: the temporary file could not be created, synced or renamed.
public enum AtomicFileError: Error, CustomStringConvertible, Equatable {
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotWrite(let path, let reason):
            return "cannot write '\(path)': \(reason)"
        }
    }
}

/// Atomic file writing used by every writer in SAM2 (and the CLI).
public enum AtomicFile {
    /// Calls `body` with a unique temporary URL in the destination's directory; `body` must create the
    /// file there. On success the file is synced and renamed onto `url` (replacing any existing
    /// file); if `body` throws or the rename fails, the temporary file is removed and the error rethrown.
    public static func write(to url: URL, _ body: (URL) throws -> Void) throws {
        let temporary = try stage(to: url, body)
        do {
            try commit(temporary, to: url)
        } catch {
            unlink(temporary.path)
            throw error
        }
    }

    /// `.<name>.<process id>.<8 hex digits>.tmp` beside the destination; the name is shortened so that
    /// the whole stays within the 255 bytes a file name may have.
    static func temporaryURL(for url: URL) -> URL {
        var name = url.lastPathComponent
        while name.utf8.count > 200 { name.removeLast() }
        let random = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let tag = String(repeating: "0", count: 8 - random.count) + random
        return url.deletingLastPathComponent().appendingPathComponent(".\(name).\(getpid()).\(tag).tmp")
    }

    /// Writes the temporary file of `url` with `body` and syncs it; returns it (nothing renamed yet).
    static func stage(to url: URL, _ body: (URL) throws -> Void) throws -> URL {
        let temporary = temporaryURL(for: url)
        do {
            try body(temporary)
            try sync(temporary, destination: url)
        } catch {
            unlink(temporary.path)
            throw error
        }
        return temporary
    }

    static func commit(_ temporary: URL, to url: URL) throws {
        if rename(temporary.path, url.path) != 0 {
            throw AtomicFileError.cannotWrite(path: url.path, reason: String(cString: strerror(errno)))
        }
    }

    /// Removes the temporary files in `directory` that a process which is gone left behind (killed
    /// mid-write); those of running processes are left alone. Returns how many were removed.
    @discardableResult
    public static func removeStaleTemporaries(in directory: URL) -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return 0 }
        var removed = 0
        for name in names where name.hasPrefix(".") && name.hasSuffix(".tmp") {
            let parts = name.dropLast(4).split(separator: ".")
            guard parts.count >= 3, parts.last!.count == 8, let pid = Int32(parts[parts.count - 2]) else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH && unlink(directory.appendingPathComponent(name).path) == 0 {
                removed += 1
            }
        }
        return removed
    }

    /// Several files that replace their destinations together: each is written to its temporary file
    /// as it comes (`add`); `commit` renames them all into place, then removes `stale` files. Until then
    /// nothing at the destinations changes, and a batch dropped uncommitted removes its temporaries —
    /// so a run that fails midway (a full disk) leaves the earlier set of files whole.
    public final class Batch {
        private var staged: [(temporary: URL, destination: URL)] = []
        private var committed = false

        public init() {}

        deinit {
            if !committed { for file in staged { unlink(file.temporary.path) } }
        }

        /// Writes `data` to the temporary file of `url`.
        public func add(_ data: Data, to url: URL) throws {
            staged.append(
                (
                    try AtomicFile.stage(to: url) { temporary in
                        do {
                            try data.write(to: temporary)
                        } catch {
                            throw AtomicFileError.cannotWrite(path: url.path, reason: AtomicFile.reason(error))
                        }
                    }, url
                ))
        }

        /// Renames every file into place, then removes the files of `stale` that the batch did not write.
        public func commit(removing stale: [URL] = []) throws {
            committed = true
            for (i, file) in staged.enumerated() {
                do {
                    try AtomicFile.commit(file.temporary, to: file.destination)
                } catch {
                    for rest in staged[(i + 1)...] { unlink(rest.temporary.path) }
                    throw error
                }
            }
            let written = Set(staged.map(\.destination.standardizedFileURL.path))
            for url in stale where !written.contains(url.standardizedFileURL.path) {
                unlink(url.path)
            }
        }
    }

    /// Creates `url` and the folders above it if missing; a failure names the folder and the reason.
    public static func createDirectory(_ url: URL) throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw AtomicFileError.cannotWrite(path: url.path, reason: reason(error))
        }
    }

    /// Writes `data` to `url` atomically.
    public static func write(_ data: Data, to url: URL) throws {
        try write(to: url) { temporary in
            do {
                try data.write(to: temporary)
            } catch {
                throw AtomicFileError.cannotWrite(path: url.path, reason: reason(error))
            }
        }
    }

    /// Flushes the temporary file to disk so that the rename never exposes a file with missing data.
    private static func sync(_ temporary: URL, destination: URL) throws {
        let fd = open(temporary.path, O_RDONLY)
        if fd < 0 {
            throw AtomicFileError.cannotWrite(
                path: destination.path, reason: "temporary file missing: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        if fsync(fd) != 0 {
            throw AtomicFileError.cannotWrite(path: destination.path, reason: String(cString: strerror(errno)))
        }
    }

    /// The POSIX reason behind a Foundation error, else its description.
    public static func reason(_ error: Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain
        {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if nsError.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(nsError.code)))
        }
        if nsError.domain == NSCocoaErrorDomain {
            switch nsError.code {
            case NSFileNoSuchFileError, NSFileReadNoSuchFileError: return String(cString: strerror(ENOENT))
            case NSFileReadNoPermissionError, NSFileWriteNoPermissionError: return String(cString: strerror(EACCES))
            case NSFileWriteOutOfSpaceError: return String(cString: strerror(ENOSPC))
            case NSFileWriteVolumeReadOnlyError: return String(cString: strerror(EROFS))
            default: break
            }
        }
        return nsError.localizedDescription
    }
}
