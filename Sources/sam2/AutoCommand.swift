// `sam2 auto IMAGE|DIR...`: every mask of each image from a grid of point prompts (the automatic
// mask generator), as JSON lines, mask PNGs with an overlay, and/or a COCO instances file.

import Foundation
import SAM2
import SAM2IO
import SAM2Workflows

enum AutoCommand: Command {
    static let help = """
        usage: sam2 auto IMAGE|DIR... --checkpoint CKPT|--model NAME [options]

        Finds every mask in each image (a folder stands for its .jpg/.jpeg/.png files) with the automatic
        mask generator: a grid of point prompts, filtered by predicted IoU and stability, de-duplicated by box NMS.

        \(ModelOptions.help(column: 40))
          --config NAME                         configuration (preset, alias or .json); detected by default
          --points-per-side N                   grid points per side, 1…256 (default 32)
          --points-per-batch N                  points run together in one decoder pass, 1…1024 (default 64)
          --pred-iou-thresh T                   keep masks whose predicted IoU is above T, in [0, 1] (default 0.8)
          --stability-score-thresh T            keep masks whose stability score is at least T, in [0, 1] (default 0.95)
          --stability-score-offset D            logit offset of the stability score (default 1)
          --mask-threshold T                    logit threshold of the masks (default 0)
          --box-nms-thresh T                    box IoU above which duplicates are dropped, in [0, 1] (default 0.7)
          --crop-n-layers N                     layers of image crops run again, 0…4 (default 0; layer k has 4^k crops)
          --crop-nms-thresh T                   box NMS threshold between crops, in [0, 1] (default 0.7)
          --crop-overlap-ratio R                overlap of the first layer's crops, in [0, 1) (default 512/1500)
          --crop-n-points-downscale-factor N    points per side divided by N^layer in crop layers (default 1)
          --min-mask-region-area A              fill holes and drop specks of at most A low-resolution pixels
                                                (default 0)
          --use-m2m                             refine each mask once with its own logits as a mask prompt
          --no-multimask                        one mask per point instead of three
          --output-mode binary|rle|coco_rle     form of "segmentation" in --json (default coco_rle)
          --json                                print one JSON object per image per line:
                                                {"image", "width", "height", "masks": [records]}
          --output DIR                          write DIR/<image name>/mask_K.png (0/255) and overlay.png
          --coco FILE.json                      write a COCO instances file (RLE masks, one category) for all images
          --max-megapixels N                    refuse images over N megapixels, from their header (default 50)
          --threads N                           threads to use (default: all cores)
          --quiet                               no progress bar on stderr
        """

    static func run(_ args: inout Arguments) throws {
        let model = try ModelOptions(&args)
        let limits = try args.imageLimits()
        var options = try generatorOptions(&args)
        let modeText = try args.value("--output-mode") ?? "coco_rle"
        let modes: [String: AutomaticMaskOutputMode] = [
            "binary": .binaryMask, "rle": .uncompressedRLE, "coco_rle": .cocoRLE,
        ]
        guard let mode = modes[modeText] else {
            throw ToolError.usage("auto: --output-mode '\(modeText)' is not binary, rle or coco_rle")
        }
        options.outputMode = mode
        let json = args.flag("--json")
        let outputDir = try args.value("--output")
        let cocoPath = try args.value("--coco")
        let quiet = args.flag("--quiet")
        let inputs = try args.positionals()
        guard !inputs.isEmpty else {
            throw ToolError.usage("auto: expected one or more IMAGE or DIR (see sam2 auto --help)")
        }
        let images = try ImageInputs.list(inputs)
        if outputDir != nil, let duplicate = ImageInputs.duplicateStem(images) {
            throw ToolError.usage("auto: two images are named '\(duplicate)'; --output DIR needs distinct names")
        }
        model.applyThreads()

        let generator: SAM2AutomaticMaskGenerator
        do {
            generator = try SAM2AutomaticMaskGenerator(model: model.load(), options: options)
        } catch let error as AutomaticMaskGeneratorError {
            throw ToolError.usage("auto: \(error)")
        }
        var job = AutomaticMaskJob(
            images: images, output: outputDir.map { URL(fileURLWithPath: $0) },
            coco: cocoPath.map { URL(fileURLWithPath: $0) })
        job.limits = limits
        let progress = ProgressBar("auto", total: images.count, quiet: quiet)
        try job.run(
            generator: generator,
            progress: { input, done in progress.advance(0, note: "\(input.stem) \(Int(done * 100))%") },
            onImage: { input, image, masks in
                if json {
                    let line = AutomaticMaskLine(
                        image: input.path, width: image.width, height: image.height, masks: masks)
                    print(JSONCoding.line(line))
                }
                progress.advance()
            })
        progress.finish()
    }

    /// The generator options given on the command line; out-of-range values are usage errors.
    private static func generatorOptions(_ args: inout Arguments) throws -> SAM2AutomaticMaskGenerator.Options {
        var o = SAM2AutomaticMaskGenerator.Options()
        let counts = 1...Int(Int32.max)
        typealias Bounds = SAM2AutomaticMaskGenerator.Options
        o.pointsPerSide = try args.int("--points-per-side", default: 32, range: 1...Bounds.maxPointsPerSide)
        o.pointsPerBatch = try args.int(
            "--points-per-batch", default: o.pointsPerBatch, range: 1...Bounds.maxPointsPerBatch)!
        o.cropNLayers = try args.int("--crop-n-layers", default: o.cropNLayers, range: 0...Bounds.maxCropNLayers)!
        o.cropNPointsDownscaleFactor = try args.int(
            "--crop-n-points-downscale-factor", default: o.cropNPointsDownscaleFactor, range: counts)!
        o.minMaskRegionArea = try args.int(
            "--min-mask-region-area", default: o.minMaskRegionArea, range: 0...Int(Int32.max))!
        func finite(_ name: String, _ fallback: Double) throws -> Double {
            guard let text = try args.value(name) else { return fallback }
            guard let v = Double(text), v.isFinite else {
                throw ToolError.usage("auto: \(name) '\(text)' is not a finite number")
            }
            return v
        }
        func probability(_ name: String, _ fallback: Double) throws -> Double {
            guard let text = try args.value(name) else { return fallback }
            guard let v = Double(text), v >= 0 && v <= 1 else {
                throw ToolError.usage("auto: \(name) '\(text)' is not a number in [0, 1]")
            }
            return v
        }
        o.predIoUThresh = try probability("--pred-iou-thresh", o.predIoUThresh)
        o.stabilityScoreThresh = try probability("--stability-score-thresh", o.stabilityScoreThresh)
        o.boxNMSThresh = try probability("--box-nms-thresh", o.boxNMSThresh)
        o.cropNMSThresh = try probability("--crop-nms-thresh", o.cropNMSThresh)
        o.stabilityScoreOffset = try finite("--stability-score-offset", o.stabilityScoreOffset)
        o.maskThreshold = try finite("--mask-threshold", o.maskThreshold)
        if let text = try args.value("--crop-overlap-ratio") {
            guard let v = Double(text), v >= 0 && v < 1 else {
                throw ToolError.usage("auto: --crop-overlap-ratio '\(text)' is not a number in [0, 1)")
            }
            o.cropOverlapRatio = v
        }
        o.useM2M = args.flag("--use-m2m")
        o.multimaskOutput = !args.flag("--no-multimask")
        return o
    }
}
