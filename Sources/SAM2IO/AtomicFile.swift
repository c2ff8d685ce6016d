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
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(
            ".\(url.lastPathComponent).\(UUID().uuidString.prefix(8)).tmp")
        do {
            try body(temporary)
            try sync(temporary, destination: url)
            if rename(temporary.path, url.path) != 0 {
                throw AtomicFileError.cannotWrite(path: url.path, reason: String(cString: strerror(errno)))
            }
        } catch {
            unlink(temporary.path)
            throw error
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
