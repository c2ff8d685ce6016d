// `sam2 segment IMAGE|DIR`: masks for point, box and mask prompts or a detector's boxes, written as
// PNGs, cut-outs, an overlay, logits (.npy), a COCO file and/or JSON; folders resumable and sharded.

import Foundation
import SAM2
import SAM2IO
import SAM2Workflows

enum SegmentCommand: Command {
    static let help = """
        usage: sam2 segment IMAGE|DIR --checkpoint CKPT|--model NAME [options]

        Segments the object(s) pointed at in IMAGE (JPEG or PNG), or in every image of DIR (its .jpg, .jpeg
        and .png files, not recursive). Coordinates are pixels of the image.

        prompts (the same for every image of DIR):
          --point X,Y[,LABEL]     a click; LABEL 1 = foreground (default), 0 = background; repeatable
          --box X0,Y0,X1,Y1       a box; repeatable: several boxes give one mask set per box
          --mask-input FILE       a previous low-resolution logits .npy (256×256), or a mask PNG of the image's size
                                  (one IMAGE only)
          --multimask | --single  three masks or one (default: three for points alone, one with a box or a mask)
        or boxes from a detector, one mask per box (all of an image's boxes in one batched prediction):
          --boxes-from FILE       COCO detection results ([{image_id, bbox: [x,y,w,h], score, category_id}]), a COCO
                                  instances file ({images, annotations, categories}), or YOLO labels (a folder of
                                  <image stem>.txt, or one .txt for one IMAGE) with lines `class cx cy w h [confidence]`
                                  as fractions of the image. COCO image_id → file: through images[].file_name of an
                                  instances file (path relative to DIR, or file name); for results alone the file
                                  whose stem is the integer image_id (000000123456.jpg is 123456)
          --images-json FILE      a COCO instances file whose images[] (and categories) map the results' image_id
          --min-score S           drop boxes whose score is below S (boxes without a score are kept)

        outputs:
          --output DIR            IMAGE: DIR/mask_K.png (0/255) for K = 0, 1, …;
                                  DIR of images: OUT/<image stem>/mask_K.png
                                  and OUT/<image stem>/masks.json (the --json record, written last: the image is done)
          --cutout                also write cutout_K.png (RGBA: the image, transparent outside the mask)
          --invert                cut-outs keep everything but the mask (background removal's complement)
          --crop                  cut-outs are cut to the bounding box of what they keep (with --invert: of the
                                  pixels outside the mask); an empty cut-out keeps the image's size
          --overlay               also write overlay.png (the masks in colour over the image)
          --coco FILE.json        write a COCO instances file: the images, one annotation per mask (RLE, category_id
                                  and score of its detector box; category 1 and the predicted IoU without one)
          --save-logits FILE.npy  write the mask logits at the image's size, float32, shape N×H×W (one IMAGE only)
          --json                  print the masks as JSON: image size and, per mask, score, area, bbox, COCO RLE,
                                  file, detector box, category and score; one line per image for DIR
          --sort                  order masks best score first (default: the model's order)

        folders:
          --overwrite             redo images that are done (by default a re-run skips them: runs are resumable)
          --shard K/N             only the images of part K of N (0 ≤ K < N): each image's path relative to DIR,
                                  hashed (64-bit FNV-1a) mod N, picks its part — the same on every run and machine

        \(ModelOptions.help())
          --config NAME           configuration (preset name, alias tiny/small/base_plus/large, or .json);
                                  detected by default
          --max-megapixels N      refuse images over N megapixels, from their header (default 50; segmenting
                                  takes about 30 MB a megapixel)
          --threads N             threads to use (default: all cores)
          --quiet                 no progress bar on stderr
        """

    static func run(_ args: inout Arguments) throws {
        let model = try ModelOptions(&args)
        let limits = try args.imageLimits()
        var prompts = SegmentPrompts()
        for text in try args.values("--point") {
            let v = try args.numbers(text, option: "--point", counts: [2, 3])
            guard v.count == 2 || v[2] == 0 || v[2] == 1 else {
                throw ToolError.usage(
                    "segment: --point '\(text)': label \(v[2]) is not 1 (foreground) or 0 (background)")
            }
            prompts.points.append(SIMD2(v[0], v[1]))
            prompts.labels.append(v.count == 3 ? Int(v[2]) : 1)
        }
        prompts.boxes = try args.values("--box").map { text -> SIMD4<Float> in
            let v = try args.numbers(text, option: "--box", counts: [4])
            return SIMD4(v[0], v[1], v[2], v[3])
        }
        let maskInputPath = try args.value("--mask-input")
        let multimaskFlag = args.flag("--multimask")
        let singleFlag = args.flag("--single")
        guard !(multimaskFlag && singleFlag) else {
            throw ToolError.usage("segment: give --multimask or --single, not both")
        }
        if multimaskFlag || singleFlag { prompts.multimask = multimaskFlag }
        let boxesFrom = try args.value("--boxes-from")
        let imagesJSON = try args.value("--images-json")
        prompts.minScore = try args.float("--min-score")
        let sort = args.flag("--sort")
        let outputDir = try args.value("--output")
        let cutout = args.flag("--cutout")
        let invert = args.flag("--invert")
        let crop = args.flag("--crop")
        let overlay = args.flag("--overlay")
        let cocoPath = try args.value("--coco")
        let logitsPath = try args.value("--save-logits")
        let json = args.flag("--json")
        let overwrite = args.flag("--overwrite")
        let shard = try args.value("--shard").map { text -> Shard in
            guard let shard = Shard(text) else {
                throw ToolError.usage("segment: --shard '\(text)' is not K/N with 0 ≤ K < N (e.g. 0/4)")
            }
            return shard
        }
        let quiet = args.flag("--quiet")
        let inputs = try args.positionals()
        guard inputs.count == 1 else {
            throw ToolError.usage("segment: expected one IMAGE or DIR, got \(inputs.count) (see sam2 segment --help)")
        }
        let hasPrompt = !prompts.points.isEmpty || !prompts.boxes.isEmpty || maskInputPath != nil
        if boxesFrom != nil {
            guard !hasPrompt else {
                throw ToolError.usage("segment: --boxes-from gives the prompts; drop --point, --box and --mask-input")
            }
            guard !multimaskFlag else {
                throw ToolError.usage("segment: --boxes-from makes one mask per box; drop --multimask")
            }
        } else {
            guard hasPrompt else {
                throw ToolError.usage(
                    "segment: give a prompt: --point X,Y, --box X0,Y0,X1,Y1, --mask-input FILE or --boxes-from FILE")
            }
            if imagesJSON != nil || prompts.minScore != nil {
                throw ToolError.usage("segment: --images-json and --min-score need --boxes-from FILE")
            }
        }
        if (cutout || overlay) && outputDir == nil {
            throw ToolError.usage("segment: --cutout and --overlay need --output DIR")
        }
        if (invert || crop) && !cutout {
            throw ToolError.usage("segment: --invert and --crop shape cut-outs; add --cutout")
        }
        let style = cutout ? SegmentationResult.CutoutStyle(invert: invert, crop: crop) : nil
        var isDirectory: ObjCBool = false
        let folder =
            FileManager.default.fileExists(atPath: inputs[0], isDirectory: &isDirectory) && isDirectory.boolValue
        if folder {
            guard outputDir != nil else {
                throw ToolError.usage(
                    "segment: a folder needs --output DIR (each image's masks and its done marker go there)")
            }
            if maskInputPath != nil || logitsPath != nil {
                throw ToolError.usage("segment: --mask-input and --save-logits apply to one IMAGE, not a folder")
            }
            if boxesFrom.map({ $0.lowercased().hasSuffix(".txt") }) ?? false {
                throw ToolError.usage(
                    "segment: --boxes-from \(boxesFrom!) is one image's YOLO labels; give the folder of labels for a "
                        + "folder of images"
                )
            }
        } else if shard != nil || overwrite {
            throw ToolError.usage("segment: --shard and --overwrite apply to a folder of images")
        }
        model.applyThreads()

        let all = try ImageInputs.list(inputs)
        if let boxesFrom {
            prompts.detections = try DetectionSet.read(
                URL(fileURLWithPath: boxesFrom), imagesFrom: imagesJSON.map { URL(fileURLWithPath: $0) })
            if let set = prompts.detections, !set.namesAny(of: all.map(\.relativePath)) {
                let warning =
                    "sam2: warning: no image of \(inputs[0]) has boxes in \(boxesFrom) (see sam2 segment --help on "
                    + "how images are matched)\n"
                FileHandle.standardError.write(Data(warning.utf8))
            }
        }
        let outputs = Outputs(
            directory: outputDir, cutout: style, overlay: overlay, coco: cocoPath, json: json, sort: sort, quiet: quiet)
        if folder {
            if let duplicate = ImageInputs.duplicateStem(all) {
                throw ToolError.usage(
                    "segment: two images of \(inputs[0]) are named '\(duplicate)'; their outputs would share "
                        + "OUT/\(duplicate)"
                )
            }
            var job = FolderSegmentation(
                images: shard.map { s in all.filter { s.contains($0.relativePath) } } ?? all,
                output: URL(fileURLWithPath: outputDir!), prompts: prompts)
            job.cutout = style
            job.overlay = overlay
            job.sortByScore = sort
            job.overwrite = overwrite
            job.limits = limits
            job.imageNumbers = Dictionary(uniqueKeysWithValues: all.enumerated().map { ($1.relativePath, $0 + 1) })
            try runFolder(job, model: model, outputs: outputs)
        } else {
            try runImage(
                all[0], prompts: prompts, maskInput: maskInputPath, model: model, limits: limits, outputs: outputs,
                logits: logitsPath)
        }
    }

    /// What to write and print, for one image or a folder.
    private struct Outputs {
        var directory: String?
        var cutout: SegmentationResult.CutoutStyle?
        var overlay: Bool
        var coco: String?
        var json: Bool
        var sort: Bool
        var quiet: Bool
    }

    /// One image: masks in OUT/ directly, logits on request, the record or a line per mask on stdout.
    private static func runImage(
        _ input: ImageInput, prompts: SegmentPrompts, maskInput: String?, model options: ModelOptions,
        limits: ImageLimits, outputs: Outputs, logits: String?
    ) throws {
        var prompts = prompts
        let progress = ProgressBar("segment", total: 3, quiet: outputs.quiet)
        defer { progress.finish() }
        let image = try ImageIO.readImage(URL(fileURLWithPath: input.path), limits: limits)
        let model = try options.load()
        progress.advance(note: "model loaded")
        let predictor = SAM2ImagePredictor(model: model)
        prompts.maskInput = try maskInput.map {
            try MaskPrompt.read(URL(fileURLWithPath: $0), image: image, side: model.maskInputSize)
        }
        try predictor.setImage(image)
        progress.advance(note: "image encoded")
        let (result, imageID) = try prompts.result(
            for: image, input: input, predictor: predictor, sortByScore: outputs.sort, keepLogits: logits != nil)
        progress.advance(note: "masks predicted")
        progress.finish()
        if let directory = outputs.directory {
            try result.write(to: URL(fileURLWithPath: directory), cutout: outputs.cutout, overlay: outputs.overlay)
        }
        if let logits { try result.writeLogits(to: URL(fileURLWithPath: logits)) }
        let record = result.record(
            image: input.path, imageID: imageID ?? 1, outputDirectory: outputs.directory, cutouts: outputs.cutout != nil
        )
        if let coco = outputs.coco { try writeCOCO([record], detections: prompts.detections, to: coco) }
        if outputs.json {
            print(record.json)
        } else {
            for m in record.masks {
                let file = m.file.map { " \($0)" } ?? ""
                print(
                    "mask \(m.index): score \(String(format: "%.4f", m.score)), area \(m.area), bbox "
                        + "\(m.bbox.map(String.init).joined(separator: ","))\(file)"
                )
            }
        }
    }

    /// A folder (or its shard): images done already are skipped (unless --overwrite), a progress bar
    /// counts the others, and --coco gathers every image's record at the end.
    private static func runFolder(
        _ job: FolderSegmentation, model: ModelOptions, outputs: Outputs
    ) throws {
        let (json, coco, quiet) = (outputs.json, outputs.coco, outputs.quiet)
        let pending = job.pending
        let skipped = job.images.count - pending.count
        if skipped > 0 && !quiet {
            FileHandle.standardError.write(
                Data("sam2: \(skipped) of \(job.images.count) images are done already (--overwrite redoes them)\n".utf8)
            )
        }
        if !pending.isEmpty {
            let predictor = SAM2ImagePredictor(model: try model.load())
            let progress = ProgressBar("segment", total: pending.count, quiet: quiet)
            defer { progress.finish() }
            try job.run(predictor: predictor) { input, record in
                if json { print(record.json) }
                progress.advance(note: input.relativePath)
            }
        }
        if let coco { try writeCOCO(try job.records(), detections: job.prompts.detections, to: coco) }
    }

    /// The COCO file of the records: the detection file's categories (others named by their id), or
    /// category 1 "object" for masks of points and boxes.
    private static func writeCOCO(_ records: [SegmentationRecord], detections: DetectionSet?, to path: String) throws {
        var instances = COCOInstances()
        for record in records { instances.add(record, imageID: record.imageId, fileName: record.image ?? "") }
        instances.setCategories(
            detections?.categories ?? [COCOCategory(id: 1, name: "object", supercategory: "object")])
        try instances.write(to: URL(fileURLWithPath: path))
    }
}
