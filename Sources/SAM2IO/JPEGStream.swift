// JPEGStream: concatenated JPEG files on a pipe (what `cat frames/*.jpg` or an MJPEG camera tool
// writes), split into one JPEG per frame by walking their markers — each frame is handed over as soon as
// its end-of-image marker arrives, and decoded as a folder's frames are (libjpeg, as PIL).

import Foundation
import SAM2

final class JPEGStream {
    /// What went wrong, for the caller to report with the frame's index.
    struct Failure: Error {
        var reason: String
    }

    private let fd: Int32
    private let interrupt: VideoInterrupt
    /// Bytes read and not yet handed over.
    private var buffer: [UInt8]
    private var atEnd = false
    /// The largest frame accepted.
    static let maxFrameBytes = 256 << 20

    /// `head`: the stream's first bytes, which the caller read to tell its format.
    init(fd: Int32, head: [UInt8], interrupt: VideoInterrupt) {
        self.fd = fd
        self.interrupt = interrupt
        buffer = head
    }

    /// The next JPEG file of the stream; nil at its end (or when interrupted). Throws when the stream
    /// breaks off inside a JPEG or holds something else between them.
    func next() throws -> Data? {
        guard try available(1) else { return nil }
        func fail(_ detail: String) -> Failure { Failure(reason: detail) }
        guard try available(2), buffer[0] == 0xFF, buffer[1] == 0xD8 else {
            throw fail("the stream holds something that is not a JPEG image between frames")
        }
        var p = 2
        func need(_ count: Int) throws {
            guard try available(p + count) else {
                throw fail(interrupt.isFired ? "stopped" : "the stream broke off inside a JPEG image")
            }
            guard p + count <= Self.maxFrameBytes else { throw fail("a JPEG image larger than 256 MB") }
        }
        while true {
            try need(2)
            guard buffer[p] == 0xFF else { throw fail("a JPEG image holds garbage (no marker where one must be)") }
            var marker = buffer[p + 1]
            while marker == 0xFF {  // fill bytes
                p += 1
                try need(2)
                marker = buffer[p + 1]
            }
            p += 2
            switch marker {
            case 0xD9:  // end of image
                let frame = Data(buffer[0..<p])
                buffer.removeFirst(p)
                return frame
            case 0x01, 0xD0...0xD7:
                continue
            default:
                try need(2)
                let length = Int(buffer[p]) << 8 | Int(buffer[p + 1])
                guard length >= 2 else { throw fail("a JPEG segment of length \(length)") }
                try need(length)
                p += length
                if marker == 0xDA {
                    // Entropy-coded data: its 0xFF bytes are followed by 0x00 (stuffing) or a restart marker.
                    while true {
                        try need(2)
                        if buffer[p] != 0xFF {
                            p += 1
                            continue
                        }
                        let next = buffer[p + 1]
                        if next == 0x00 || (0xD0...0xD7).contains(next) {
                            p += 2
                        } else if next == 0xFF {
                            p += 1
                        } else {
                            break
                        }
                    }
                }
            }
        }
    }

    /// Reads until `count` bytes are buffered; false when the stream ends (or is interrupted) first.
    private func available(_ count: Int) throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while buffer.count < count {
            if atEnd || interrupt.isFired { return false }
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let polled = poll(&ready, 1, 100)
            if polled < 0 && errno != EINTR {
                throw Failure(reason: String(cString: strerror(errno)))
            }
            if polled <= 0 { continue }
            let n = read(fd, &chunk, chunk.count)
            if n > 0 {
                buffer += chunk[0..<n]
            } else if n == 0 {
                atEnd = true
            } else if errno != EINTR && errno != EAGAIN {
                throw Failure(reason: String(cString: strerror(errno)))
            }
        }
        return true
    }
}
