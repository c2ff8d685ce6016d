// InputFile: reading a whole input file (an image, a .npy, a prompts or detections file) safely: only a
// regular file is read — a folder, a FIFO (which would block) or a device such as /dev/zero (which
// never ends) is refused by what it is — and never one larger than the caller's limit.

import Foundation

public enum InputFile {
    /// Why a file could not be read, in words for an error message ("it is a folder", …).
    public struct Failure: Error, Equatable {
        public var reason: String
    }

    /// The bytes of the regular file at `url`, at most `maxBytes` of them.
    public static func read(_ url: URL, maxBytes: Int = 2 << 30) throws(Failure) -> Data {
        var info = stat()
        guard stat(url.path, &info) == 0 else { throw Failure(reason: String(cString: strerror(errno))) }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw Failure(reason: "it is a folder, not a file")
        default: throw Failure(reason: "not a regular file (a pipe or a device)")
        }
        guard info.st_size <= maxBytes else {
            throw Failure(reason: "\(info.st_size) bytes, more than the \(maxBytes) such a file may have")
        }
        do {
            return try Data(contentsOf: url)
        } catch {
            throw Failure(reason: AtomicFile.reason(error))
        }
    }
}
