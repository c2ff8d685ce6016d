// ProgressBar: a one-line bar on stderr with count, rate and time left, for work longer than a
// second. Drawn only when stderr is a terminal and --quiet is not given; never on stdout.

import Foundation

final class ProgressBar {
    private let label: String
    private let total: Int
    private let enabled: Bool
    private let start = Date()
    private var done = 0
    private var drawn = false

    init(_ label: String, total: Int, quiet: Bool) {
        self.label = label
        self.total = max(total, 1)
        enabled = !quiet && isatty(STDERR_FILENO) == 1
    }

    /// Marks `count` more units done and redraws (after the first second).
    func advance(_ count: Int = 1, note: String = "") {
        done = min(done + count, total)
        draw(note: note)
    }

    /// Clears the bar's line, if one was drawn.
    func finish() {
        guard drawn else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        drawn = false
    }

    private func draw(note: String) {
        let elapsed = Date().timeIntervalSince(start)
        guard enabled, elapsed >= 1 else { return }
        let width = 24
        let filled = width * done / total
        let rate = Double(done) / max(elapsed, 1e-9)
        let left = rate > 0 ? Double(total - done) / rate : 0
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let line = String(
            format: "\r%@ %@ %d/%d  %.2f/s  %@ left %@\u{1B}[K", label, bar, done, total, rate, clock(left), note)
        FileHandle.standardError.write(Data(line.utf8))
        drawn = true
    }

    private func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600
            ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
