// FolderSegmentation: `sam2 segment DIR` — every image of a folder (or of its shard) encoded once and
// its masks written to OUT/<image stem>/ (mask_K.png, cutout_K.png, overlay.png, then masks.json last,
// which marks the image done), each file atomically; decoding, encoding and writing overlap.

import Foundation
import SAM2
import SAM2IO

public struct FolderSegmentation: Sendable {
    public var images: [ImageInput]
    public var output: URL
    public var prompts: SegmentPrompts
    public var cutout: SegmentationResult.CutoutStyle?
    public var overlay = false
    public var sortByScore = false
    /// Redo images that are done already.
    public var overwrite = false
    /// Largest image read.
    public var limits = ImageLimits()
    /// The COCO id of an image (by relative path) when the detection file names none.
    public var imageNumbers: [String: Int] = [:]

    public init(images: [ImageInput], output: URL, prompts: SegmentPrompts) {
        self.images = images
        self.output = output
        self.prompts = prompts
    }

    public func directory(for image: ImageInput) -> URL { output.appendingPathComponent(image.stem) }

    public func recordURL(for image: ImageInput) -> URL {
        directory(for: image).appendingPathComponent(SegmentationRecord.fileName)
    }

    /// An image is done when its record exists (it is written after all of its other files).
    public func isDone(_ image: ImageInput) -> Bool {
        FileManager.default.fileExists(atPath: recordURL(for: image).path)
    }

    /// The images a run will process: all with `overwrite`, else those not done.
    public var pending: [ImageInput] { overwrite ? images : images.filter { !isDone($0) } }

    /// Segments the pending images; `onImage` is called on the caller's thread with each image's
    /// record as soon as its masks are made (its files are written in the background). On an error,
    /// every image reported before it is completely written and none after it is marked done.
    public func run(predictor: SAM2ImagePredictor, onImage: (ImageInput, SegmentationRecord) -> Void) throws {
        try OverlappedPipeline.run(
            pending,
            decode: { [limits] input in
                try ImageIO.readImage(URL(fileURLWithPath: input.path), limits: limits)
            },
            process: { input, image -> (SegmentationResult, SegmentationRecord) in
                try predictor.setImage(image)
                let (result, imageID) = try prompts.result(
                    for: image, input: input, predictor: predictor, sortByScore: sortByScore)
                let record = result.record(
                    image: input.relativePath, imageID: imageID ?? imageNumbers[input.relativePath],
                    outputDirectory: directory(for: input).path, cutouts: cutout != nil)
                onImage(input, record)
                return (result, record)
            },
            write: { [self] input, output in
                let directory = directory(for: input)
                try Self.removePreviousOutputs(in: directory)
                try output.0.write(to: directory, cutout: cutout, overlay: overlay)
                try output.1.write(to: recordURL(for: input))
            })
    }

    /// The records of all images, in order (after `run`, each image has one).
    public func records() throws -> [SegmentationRecord] {
        try images.map { try SegmentationRecord.read(recordURL(for: $0)) }
    }

    /// Removes what an earlier run wrote for an image — its record first, so that the image counts as
    /// not done until it is rewritten — and temporary files an interrupted write left.
    static func removePreviousOutputs(in directory: URL) throws {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory.path) else { return }
        let ours = try NSRegularExpression(pattern: #"^((mask|cutout)_\d+\.png|overlay\.png|\..*\.tmp)$"#)
        let record = directory.appendingPathComponent(SegmentationRecord.fileName)
        if fm.fileExists(atPath: record.path) { try fm.removeItem(at: record) }
        for name in names where ours.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil {
            try fm.removeItem(at: directory.appendingPathComponent(name))
        }
    }
}
