// The prompts file of `sam2 track` (SPEC §3): a JSON list of `{"frame", "object", "points",
// "labels", "box", "mask"}`, read and checked in full against the video (frames that exist, points
// and boxes on the frame, labels 0/1, mask files that decode at the video's size) before any work.

import Foundation
import SAM2
import SAM2Checkpoint
import SAM2IO

/// One prompt of a prompts file: clicks and/or a box, or a mask, for one object on one frame.
public struct TrackingPrompt: Sendable {
    public var frame: Int
    public var object: Int
    public var points: [SIMD2<Float>]
    public var labels: [Int]
    public var box: SIMD4<Float>?
    /// A mask (nonzero inside) at the video's size, read from the entry's `mask` file.
    public var mask: [UInt8]?
}

public struct TrackingPromptError: Error, CustomStringConvertible, Equatable {
    public var description: String
}

public enum TrackingPrompts {
    static let keys: Set<String> = ["frame", "object", "points", "labels", "box", "mask"]

    /// Reads and checks `url` against a video of `frameCount` frames of `width`×`height` (a live source:
    /// no frame count, and the size when the source says it before its first frame); mask paths are
    /// relative to the prompts file's folder.
    public static func read(_ url: URL, frameCount: Int?, width: Int?, height: Int?) throws -> [TrackingPrompt] {
        let data: Data
        do {
            data = try InputFile.read(url, maxBytes: 256 << 20)
        } catch {
            throw TrackingPromptError(description: "cannot read prompts '\(url.path)': \(error.reason)")
        }
        let document: JSONValue
        do {
            document = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw TrackingPromptError(
                description:
                    "prompts '\(url.path)' is not valid JSON (expected a list of {\"frame\", \"object\", \"points\", "
                    + "\"labels\", \"box\", \"mask\"})"
            )
        }
        guard case .array(let entries) = document, !entries.isEmpty else {
            throw TrackingPromptError(
                description:
                    "prompts '\(url.path)' must be a non-empty JSON list of {\"frame\", \"object\", ...} objects")
        }
        let folder = url.deletingLastPathComponent()
        return try entries.enumerated().map { k, entry in
            func fail(_ message: String) -> TrackingPromptError {
                TrackingPromptError(description: "prompts '\(url.path)' entry \(k): \(message.oneLine())")
            }
            guard case .object(let fields) = entry else {
                throw fail("expected an object {\"frame\", \"object\", ...}")
            }
            if let unknown = fields.keys.sorted().first(where: { !keys.contains($0) }) {
                throw fail("unknown key \"\(unknown)\" (expected frame, object, points, labels, box, mask)")
            }
            guard let frameValue = fields["frame"] else { throw fail("\"frame\" is missing") }
            guard let frame = frameValue.integer else { throw fail("\"frame\" \(frameValue) is not an integer") }
            guard frame >= 0 && frame < frameCount ?? Int.max else {
                throw fail("frame \(frame) does not exist: the video has frames 0…\((frameCount ?? 1) - 1)")
            }
            guard let objectValue = fields["object"] else { throw fail("\"object\" is missing") }
            guard let object = objectValue.integer else { throw fail("object id \(objectValue) is not an integer") }
            var prompt = TrackingPrompt(frame: frame, object: object, points: [], labels: [])
            if let value = fields["points"] {
                guard case .array(let list) = value else { throw fail("\"points\" is not a list of [x, y]") }
                prompt.points = try list.map { p in
                    guard let xy = floats(p), xy.count == 2 else {
                        throw fail("point \(p) is not [x, y] (two finite numbers)")
                    }
                    guard xy[0] >= 0 && xy[1] >= 0 && xy[0] <= Float(width ?? .max) && xy[1] <= Float(height ?? .max)
                    else {
                        throw fail("point (\(xy[0]), \(xy[1])) is outside the \(width ?? 0)×\(height ?? 0) frame")
                    }
                    return SIMD2(xy[0], xy[1])
                }
            }
            if let value = fields["labels"] {
                guard case .array(let list) = value else { throw fail("\"labels\" is not a list of 0/1") }
                prompt.labels = try list.map { l in
                    guard let label = l.integer, label == 0 || label == 1 else {
                        throw fail("label \(l) is not 1 (foreground) or 0 (background)")
                    }
                    return label
                }
            }
            guard prompt.points.count == prompt.labels.count else {
                throw fail(
                    "\(prompt.points.count) points but \(prompt.labels.count) labels: give one label (0 or 1) per point"
                )
            }
            if let value = fields["box"] {
                guard let b = floats(value), b.count == 4 else {
                    throw fail("box \(value) is not [x0, y0, x1, y1] (four finite numbers)")
                }
                guard b[2] >= b[0] && b[3] >= b[1] else { throw fail("box \(value) has x1 < x0 or y1 < y0") }
                guard b[2] >= 0 && b[3] >= 0 && b[0] <= Float(width ?? .max) && b[1] <= Float(height ?? .max) else {
                    throw fail("box \(value) is wholly outside the \(width ?? 0)×\(height ?? 0) frame")
                }
                prompt.box = SIMD4(b[0], b[1], b[2], b[3])
            }
            if let value = fields["mask"] {
                guard case .string(let path) = value, !path.isEmpty else { throw fail("\"mask\" is not a file name") }
                guard prompt.points.isEmpty && prompt.box == nil else {
                    throw fail("give a mask or points/box, not both, in one entry")
                }
                let file = path.hasPrefix("/") ? URL(fileURLWithPath: path) : folder.appendingPathComponent(path)
                func wrongSize(_ w: Int, _ h: Int) -> TrackingPromptError {
                    fail("mask '\(file.path)' is \(w)×\(h) but the video is \(width ?? 0)×\(height ?? 0)")
                }
                let mask: (width: Int, height: Int, values: [UInt8])
                do {
                    // The size is checked from the file's header before the mask is decoded.
                    mask = try ImageIO.readMask(file, expectedSize: width.flatMap { w in height.map { (w, $0) } })
                } catch ImageIOError.wrongSize(_, let w, let h, _, _) {
                    throw wrongSize(w, h)
                } catch {
                    throw fail("mask: \(error)")
                }
                guard mask.width == width ?? mask.width && mask.height == height ?? mask.height else {
                    throw wrongSize(mask.width, mask.height)
                }
                prompt.mask = mask.values
            }
            guard !prompt.points.isEmpty || prompt.box != nil || prompt.mask != nil else {
                throw fail("no prompt: give \"points\" with \"labels\", a \"box\" or a \"mask\"")
            }
            return prompt
        }
    }
}

/// The numbers of a JSON list as Floats, nil unless each is a finite Float (1e39 is a finite Double
/// but an infinite Float).
private func floats(_ value: JSONValue) -> [Float]? {
    guard let values = value.numbers?.map(Float.init), values.allSatisfy(\.isFinite) else { return nil }
    return values
}
