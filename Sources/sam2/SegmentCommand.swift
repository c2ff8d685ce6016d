// `sam2 segment IMAGE`: masks for point, box and mask prompts, written as PNGs, cut-outs, an
// overlay, logits (.npy) and/or a JSON summary.

import Foundation
import SAM2

enum SegmentCommand {
    static let help = """
        usage: sam2 segment IMAGE --checkpoint CKPT [options]

        Segments the object(s) pointed at in IMAGE (JPEG or PNG). Coordinates are pixels of the image.

          --checkpoint CKPT       model checkpoint (.pt or .safetensors), required
          --config NAME           configuration (preset name, alias tiny/small/base_plus/large, or .json); detected by default
          --point X,Y[,LABEL]     a click; LABEL 1 = foreground (default), 0 = background; repeatable
          --box X0,Y0,X1,Y1       a box; repeatable: several boxes give one mask set per box
          --mask-input FILE       a previous low-resolution logits .npy (256×256), or a mask PNG of the image's size
          --multimask | --single  three masks or one (default: three for points alone, one with a box or a mask)
          --sort                  order masks best score first (default: the model's order)
          --output DIR            write DIR/mask_K.png (0/255) for K = 0, 1, …
          --cutout                also write DIR/cutout_K.png (RGBA, transparent outside the mask)
          --overlay               also write DIR/overlay.png (the masks in colour over the image)
          --save-logits FILE.npy  write the mask logits at the image's size, float32, shape N×H×W
          --json                  print one JSON document: image size and, per mask, score, area, bbox, file
          --threads N             threads to use (default: all cores)
          --quiet                 no progress bar on stderr
        """

    static func run(_ args: inout Arguments) throws {
        if args.wantsHelp { print(help); return }
        guard let checkpoint = try args.value("--checkpoint") else { throw ToolError.usage("segment: --checkpoint CKPT is required (see sam2 segment --help)") }
        let configName = try args.value("--config")
        var points: [SIMD2<Float>] = []
        var labels: [Int] = []
        for text in try args.values("--point") {
            let v = try args.numbers(text, option: "--point", counts: [2, 3])
            guard v.count == 2 || v[2] == 0 || v[2] == 1 else {
                throw ToolError.usage("segment: --point '\(text)': label \(v[2]) is not 1 (foreground) or 0 (background)")
            }
            points.append(SIMD2(v[0], v[1]))
            labels.append(v.count == 3 ? Int(v[2]) : 1)
        }
        let boxes = try args.values("--box").map { text -> SIMD4<Float> in
            let v = try args.numbers(text, option: "--box", counts: [4])
            return SIMD4(v[0], v[1], v[2], v[3])
        }
        let maskInputPath = try args.value("--mask-input")
        let multimaskFlag = args.flag("--multimask")
        let singleFlag = args.flag("--single")
        guard !(multimaskFlag && singleFlag) else { throw ToolError.usage("segment: give --multimask or --single, not both") }
        let sort = args.flag("--sort")
        let outputDir = try args.value("--output")
        let cutout = args.flag("--cutout")
        let overlay = args.flag("--overlay")
        let logitsPath = try args.value("--save-logits")
        let json = args.flag("--json")
        let threads = try args.int("--threads", range: 1...1024)
        let quiet = args.flag("--quiet")
        let inputs = try args.positionals()
        guard inputs.count == 1 else { throw ToolError.usage("segment: expected one IMAGE, got \(inputs.count) (see sam2 segment --help)") }
        guard !points.isEmpty || !boxes.isEmpty || maskInputPath != nil else {
            throw ToolError.usage("segment: give a prompt: --point X,Y, --box X0,Y0,X1,Y1 or --mask-input FILE")
        }
        if (cutout || overlay) && outputDir == nil { throw ToolError.usage("segment: --cutout and --overlay need --output DIR") }
        if let threads { Runtime.setThreadCount(threads) }

        let progress = ProgressBar("segment", total: 3, quiet: quiet)
        defer { progress.finish() }
        let image = try ImageIO.readImage(URL(fileURLWithPath: inputs[0]))
        let configuration = try configName.map { try SAM2Configuration.named($0) }
        let model = try SAM2Model.load(checkpoint: URL(fileURLWithPath: checkpoint), configuration: configuration)
        progress.advance(note: "model loaded")
        let predictor = SAM2ImagePredictor(model: model)
        let maskInput = try maskInputPath.map { try MaskPrompt.read(URL(fileURLWithPath: $0), image: image, side: model.maskInputSize) }
        try predictor.setImage(image)
        progress.advance(note: "image encoded")
        let multimask = multimaskFlag || (!singleFlag && boxes.isEmpty && maskInput == nil)
        let predictions: [SAM2Prediction]
        if boxes.count > 1 {
            predictions = try predictor.predict(boxes: boxes, points: points.isEmpty ? nil : [points], labels: points.isEmpty ? nil : [labels],
                                                maskInput: maskInput, multimaskOutput: multimask, returnLogits: true)
        } else {
            predictions = [try predictor.predict(points: points, labels: labels, box: boxes.first, maskInput: maskInput,
                                                 multimaskOutput: multimask, returnLogits: true)]
        }
        progress.advance(note: "masks predicted")
        progress.finish()
        let result = SegmentationResult(image: image, predictions: predictions, threshold: predictor.maskThreshold, sortByScore: sort)
        if let outputDir {
            try result.write(to: URL(fileURLWithPath: outputDir), cutouts: cutout, overlay: overlay)
        }
        if let logitsPath { try result.writeLogits(to: URL(fileURLWithPath: logitsPath)) }
        if json {
            print(result.json(outputDirectory: outputDir))
        } else {
            for m in result.masks {
                let file = outputDir.map { " \(($0 as NSString).appendingPathComponent(m.fileName))" } ?? ""
                print("mask \(m.index): score \(String(format: "%.4f", m.score)), area \(m.area), bbox \(m.bbox.map(String.init).joined(separator: ","))\(file)")
            }
        }
    }
}
