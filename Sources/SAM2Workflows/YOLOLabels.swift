// YOLOLabels: reads one image's YOLO txt labels — a line `class cx cy w h [confidence]` per box, the
// box's centre and size as fractions of the image — as detections (SPEC §7).

import Foundation
import SAM2
import SAM2IO

enum YOLOLabels {
    /// The boxes of a label file; blank lines are skipped; any malformed line is an error naming the
    /// file and the line.
    static func read(_ url: URL) throws -> [Detection] {
        let text: String
        do {
            text = String(decoding: try InputFile.read(url, maxBytes: 256 << 20), as: UTF8.self)
        } catch {
            throw DatasetFileError.cannotRead(path: url.path, reason: error.reason)
        }
        var detections: [Detection] = []
        // Lines end in "\n", "\r\n" (one Character in Swift, which a split on "\n" would not cut) or "\r".
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.isEmpty { continue }
            func bad(_ problem: String) -> DatasetFileError {
                .invalidEntry(path: url.path, entry: "line \(index + 1)", problem: problem)
            }
            guard fields.count == 5 || fields.count == 6 else {
                throw bad("expected 5 or 6 columns (class cx cy w h [confidence]), found \(fields.count)")
            }
            guard let category = Int(fields[0]), category >= 0 else {
                throw bad("class '\(fields[0])' is not a non-negative integer")
            }
            var v: [Double] = []
            for (column, field) in fields.dropFirst().enumerated() {
                guard let x = Double(field), x.isFinite else {
                    let names = ["cx", "cy", "w", "h", "confidence"]
                    throw bad("\(names[column]) '\(field)' is not a finite number")
                }
                v.append(x)
            }
            guard v[2] >= 0 && v[3] >= 0 else { throw bad("negative width or height (\(v[2]), \(v[3]))") }
            detections.append(
                Detection(
                    box: .normalizedCenter(v[0], v[1], v[2], v[3]), categoryID: category,
                    score: v.count == 5 ? Float(v[4]) : nil, source: "\(url.path): line \(index + 1)"))
        }
        return detections
    }
}
