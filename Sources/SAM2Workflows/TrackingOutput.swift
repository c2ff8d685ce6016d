// What `sam2 track` writes for each propagated frame (SPEC §3): an indexed PNG per frame
// (`<frame:05d>.png`, pixel = object id, DAVIS palette), or with per-object output binary masks
// `<object>/<frame:05d>.png`; optionally the logits `<object>/<frame:05d>.npy`; and a JSON line of
// each object's area and score. Every file is written atomically.

import Foundation
import SAM2
import SAM2IO

/// One frame's summary: each object's area (pixels with logit > 0) and object-presence logit; its JSON
/// is `sam2 track --json`'s line: `{"frame": F, "objects": [{"area", "id", "score"}]}`.
public struct TrackedFrameSummary: Sendable, Encodable {
    public struct Object: Sendable, Encodable {
        public var id: Int
        public var area: Int
        /// The object-score logit (> 0: present); nil (JSON null) when the object has no output on the frame.
        public var score: Float?

        enum CodingKeys: String, CodingKey { case id, area, score }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(area, forKey: .area)
            try c.encode(score.map(NullableFloat.init), forKey: .score)
        }
    }

    public var frame: Int
    public var objects: [Object]
    /// Frames of a live source dropped so far (`--realtime`); absent otherwise.
    public var dropped: Int?
}

public struct TrackingOutputError: Error, CustomStringConvertible, Equatable {
    public var description: String
}

/// Writes the tracker's frames into a directory, created on the first write, and, on request, a video
/// of the frames with the masks drawn over them (`--render`).
public struct TrackingOutput {
    public let directory: URL
    public let perObject: Bool
    public let saveLogits: Bool
    /// Where to render the overlay video (each written frame with its objects' masks in colour — object
    /// k in the k-th overlay colour — and their outlines) and at what frame rate; it is started at the
    /// first frame (whose size it takes) and finished by `finish`.
    public var render: (url: URL, framesPerSecond: Double)?
    /// Write the mask files (PNGs, logits); false: only the overlay video, when rendering.
    public var writesMasks = true
    private let renderer = Renderer()

    private final class Renderer {
        var writer: VideoWriter?
    }

    /// The encoder of the overlay video, once it is started.
    public var renderCodec: String? { renderer.writer?.codec }

    /// Checks that `directory` can be an output folder and that every object id fits the chosen
    /// output (an indexed PNG holds ids 1…255; 0 is the background); writes nothing.
    public init(directory: URL, perObject: Bool, saveLogits: Bool, objectIDs: [Int]) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw TrackingOutputError(description: "output '\(directory.path)' exists and is not a folder")
        }
        let range = perObject ? 0...Int.max : 1...255
        if let bad = objectIDs.first(where: { !range.contains($0) }) {
            throw TrackingOutputError(
                description: perObject
                    ? "object id \(bad) is negative: ids name the output folders DIR/<object>/"
                    : "object id \(bad) does not fit an indexed PNG: ids must be 1…255 (0 is the background), or use "
                        + "--per-object"
            )
        }
        self.directory = directory
        self.perObject = perObject
        self.saveLogits = saveLogits
    }

    /// Finishes the overlay video, if any (until then it is under a temporary name).
    public func finish() throws {
        try renderer.writer?.finish()
    }

    /// `<frame:05d>` as the reference's frame names.
    public static func frameName(_ frame: Int) -> String { String(format: "%05d", frame) }

    /// Writes one frame's files; returns its summary. Where objects overlap in the indexed PNG the
    /// smaller id wins, as the reference's `tools/vos_inference.py` (`put_per_obj_mask`) paints them.
    /// `image`, the frame itself, is needed when rendering.
    @discardableResult
    public func write(_ result: VideoFrameResult, image: RGBImage? = nil) throws -> TrackedFrameSummary {
        let (n, h, w) = (result.masks.dim(0), result.masks.dim(1), result.masks.dim(2))
        if let render, let image {
            if renderer.writer == nil {
                renderer.writer = try VideoWriter(
                    url: render.url, width: image.width, height: image.height, framesPerSecond: render.framesPerSecond)
            }
            let masks = result.masks.withUnsafeBufferPointer { logits in
                (0..<n).map { k in (0..<(h * w)).map { logits[k * h * w + $0] > 0 ? UInt8(1) : 0 } }
            }
            try renderer.writer!.append(MaskRendering.overlay(image, masks: masks))
        }
        let logits = result.masks.scalars
        let plane = h * w
        let name = Self.frameName(result.frameIndex)
        if writesMasks { try AtomicFile.createDirectory(directory) }
        var objects: [TrackedFrameSummary.Object] = []
        var indexed = [UInt8](repeating: 0, count: perObject ? 0 : plane)
        for k in 0..<n {
            let id = result.objectIDs[k]
            let values = logits[(k * plane)..<((k + 1) * plane)]
            let inside = values.map { $0 > 0 ? UInt8(1) : 0 }
            objects.append(.init(id: id, area: inside.reduce(0) { $0 + Int($1) }, score: result.objectScores[k]))
            guard writesMasks else { continue }
            if perObject || saveLogits {
                try AtomicFile.createDirectory(directory.appendingPathComponent(String(id)))
            }
            if perObject {
                try ImageIO.writeGrayPNG(
                    inside, width: w, height: h, to: directory.appendingPathComponent("\(id)/\(name).png"))
            }
            if saveLogits {
                try NPY.write(Array(values), shape: [h, w], to: directory.appendingPathComponent("\(id)/\(name).npy"))
            }
        }
        if writesMasks && !perObject {
            for k in (0..<n).sorted(by: { result.objectIDs[$0] > result.objectIDs[$1] }) {
                guard let id = UInt8(exactly: result.objectIDs[k]), id > 0 else {
                    throw TrackingOutputError(
                        description: "object id \(result.objectIDs[k]) does not fit an indexed PNG: ids must be 1…255 "
                            + "(0 is the background), or use --per-object")
                }
                for i in 0..<plane where logits[k * plane + i] > 0 { indexed[i] = id }
            }
            try ImageIO.writeIndexedPNG(
                indexed, width: w, height: h, palette: ImageIO.davisPalette,
                to: directory.appendingPathComponent("\(name).png"))
        }
        return TrackedFrameSummary(frame: result.frameIndex, objects: objects)
    }
}
