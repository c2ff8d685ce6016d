// VideoExport: a video's masks written under PROJECT/export/<video>/ — DAVIS indexed PNGs
// (davis/<frame:05d>.png, as `sam2 track` writes them), a COCO instances file (one image per frame
// with masks, one category per object) and the overlay video (overlay.mp4, as `sam2 track --render`),
// through the track workflow's TrackingOutput.

import Foundation
import SAM2
import SAM2IO
import SAM2Workflows

extension VideoSession {
    static let exportFormats: Set<String> = ["davis", "coco", "mp4"]

    /// Writes the formats asked for (any of `exportFormats`); returns the files, relative to the project.
    func export(formats: [String], project: ProjectFolder) throws -> [String] {
        if let unknown = formats.first(where: { !Self.exportFormats.contains($0) }) {
            throw APIError.badRequest("unknown export format '\(unknown)'; use davis, coco or mp4")
        }
        guard !isRunning else { throw APIError(409, "video '\(name)' is being tracked; export when the job ends") }
        let tracked = allMasks
        guard !tracked.isEmpty else {
            throw APIError(409, "video '\(name)' has no masks yet: prompt and track it first")
        }
        let ids = info.objects
        let base = "export/\(name)"
        let dir = try project.internalDirectory(base)
        var written: [String] = []
        let (davis, mp4) = (formats.contains("davis"), formats.contains("mp4"))
        if davis || mp4 {
            let davisDir = dir.appendingPathComponent("davis")
            if davis { try removeStaleFrames(in: try project.internalDirectory(base + "/davis")) }
            var output = try TrackingOutput(
                directory: davisDir, perObject: false, saveLogits: false, objectIDs: davis ? ids : [])
            output.writesMasks = davis
            if mp4 { output.render = (dir.appendingPathComponent("overlay.mp4"), framesPerSecond ?? 30) }
            for frame in tracked {
                try output.write(result(frame, ids: ids), image: mp4 ? try frames.frame(frame.frame) : nil)
                if davis { written.append("\(base)/davis/\(TrackingOutput.frameName(frame.frame)).png") }
            }
            try output.finish()
            if mp4 { written.append("\(base)/overlay.mp4") }
        }
        if formats.contains("coco") {
            var document = COCOInstances()
            for frame in tracked {
                let image = document.addImage(
                    id: frame.frame + 1, fileName: "\(TrackingOutput.frameName(frame.frame)).jpg", width: frames.width,
                    height: frames.height)
                for o in frame.objects where o.area > 0 {
                    var a = COCOAnnotation(
                        imageID: image, categoryID: o.id, segmentation: o.mask, score: nil, area: o.area, bbox: o.bbox)
                    a.label = "object \(o.id)"
                    document.addAnnotation(a)
                }
            }
            document.setCategories(ids.map { COCOCategory(id: $0, name: "object \($0)") })
            try document.write(to: dir.appendingPathComponent("instances.json"))
            written.append("\(base)/instances.json")
        }
        return written
    }

    /// A frame's masks as the tracker's result (logit 1 inside, −1 outside), every object of `ids` in
    /// order (an object without a mask there is empty), so that each keeps its colour in the video.
    private func result(_ frame: FrameMasks, ids: [Int]) -> VideoFrameResult {
        let (w, h) = (frames.width, frames.height)
        var values = [Float](repeating: -1, count: ids.count * w * h)
        var scores: [Float?] = Array(repeating: nil, count: ids.count)
        for (k, id) in ids.enumerated() {
            guard let o = frame.objects.first(where: { $0.id == id }),
                let rle = UncompressedRLE(cocoString: o.mask.counts, height: h, width: w)
            else { continue }
            scores[k] = o.score
            for (i, inside) in rle.mask().enumerated() where inside != 0 { values[k * w * h + i] = 1 }
        }
        return VideoFrameResult(
            frameIndex: frame.frame, objectIDs: ids, masks: Tensor(shape: [ids.count, h, w], scalars: values),
            objectScores: scores)
    }

    /// Removes `<frame:05d>.png` files of an earlier export.
    private func removeStaleFrames(in dir: URL) throws {
        for file in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        where file.hasSuffix(".png") && Int(file.dropLast(4)) != nil {
            try FileManager.default.removeItem(at: dir.appendingPathComponent(file))
        }
    }
}
