// FileLock: an exclusive flock(2) on a lock file, held while a download writes its partial file, so
// that two processes (two sam2 runs, or sam2 and Python's huggingface_hub, whose filelock takes the
// same kind of lock on the same .locks/ file) never write one file at once. Released on deinit.

import Foundation
import SAM2IO

final class FileLock {
    private let fd: Int32

    /// Takes the lock on `url` (created if missing, with its folder), calling `waiting` once first when
    /// another process holds it.
    init(_ url: URL, waiting: () -> Void) throws(ModelError) {
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw .cannotWrite(path: url.deletingLastPathComponent().path, reason: AtomicFile.reason(error))
        }
        fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o664)
        guard fd >= 0 else { throw .cannotWrite(path: url.path, reason: String(cString: strerror(errno))) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            waiting()
            while flock(fd, LOCK_EX) != 0 {
                guard errno == EINTR else {
                    let reason = String(cString: strerror(errno))
                    close(fd)
                    throw .cannotWrite(path: url.path, reason: "cannot lock: \(reason)")
                }
            }
        }
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
