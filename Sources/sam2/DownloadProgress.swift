// DownloadProgress: a one-line bar on stderr for a model download — bytes, rate and time left — drawn
// like ProgressBar only when stderr is a terminal and --quiet is not given. Download events arrive on
// URLSession's queue, so the state is behind a lock.

import Foundation
import SAM2Workflows

final class DownloadProgress: @unchecked Sendable {
    private let enabled: Bool
    private let lock = NSLock()
    private var start: Date?
    private var startBytes: Int64 = 0
    private var lastDraw = Date.distantPast
    private var drawn = false

    init(quiet: Bool) {
        enabled = !quiet && isatty(STDERR_FILENO) == 1
    }

    func show(_ event: ModelStoreEvent) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .waiting(let file):
            write("\r\(file): waiting for another process downloading it\u{1B}[K")
        case .verifying(let file):
            write("\r\(file): verifying\u{1B}[K")
        case .downloading(let file, let received, let total):
            let now = Date()
            if start == nil {
                start = now
                startBytes = received
            }
            guard now.timeIntervalSince(lastDraw) >= 0.1 || received == total else { return }
            lastDraw = now
            let elapsed = max(now.timeIntervalSince(start!), 1e-3)
            let rate = Double(received - startBytes) / elapsed
            var line = "\r\(file) "
            if let total, total > 0 {
                let width = 24
                let filled = Int(Int64(width) * min(received, total) / total)
                line += String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
                line += " \(ByteCount.text(received))/\(ByteCount.text(total))"
                let left = rate > 0 ? Double(total - received) / rate : 0
                line += "  \(ByteCount.text(Int64(rate)))/s  \(clock(left)) left"
            } else {
                line += "\(ByteCount.text(received))  \(ByteCount.text(Int64(rate)))/s"
            }
            write(line + "\u{1B}[K")
        }
    }

    /// Clears the bar's line, if one was drawn.
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        drawn = false
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
        drawn = true
    }

    private func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600
            ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
