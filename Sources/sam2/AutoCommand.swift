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
        \(Arguments.generatorOptionsHelp)
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
        var options = try args.generatorOptions()
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
}
