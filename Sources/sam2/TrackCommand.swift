// `sam2 track VIDEO|FRAME_DIR`: applies a prompts file's clicks, boxes and masks, tracks the
// objects through the video and writes per-frame masks (indexed PNGs, per-object PNGs, logits)
// and/or JSON lines. The video, the prompts and the output folder are checked before any work.

import Foundation
import SAM2
import SAM2IO
import SAM2Workflows

enum TrackCommand: Command {
    static let help = """
        usage: sam2 track VIDEO|FRAME_DIR --checkpoint CKPT|--model NAME --prompts PROMPTS.json --output DIR [options]

        Tracks objects through a video file (MP4/H.264, anything the system's libavformat decodes) or a
        folder of JPEG frames named by integer (00000.jpg, ...). PROMPTS.json is a list of
          {"frame": F, "object": ID, "points": [[x, y], ...], "labels": [1, 0, ...], "box": [x0, y0, x1, y1],
           "mask": "file.png"}
        (pixels of the video; labels 1 = foreground, 0 = background; a mask path is relative to the prompts
        file), applied in file order before tracking.

        \(ModelOptions.help())
          --config NAME           configuration (preset name, alias tiny/small/base_plus/large, or .json);
                                  detected by default
          --prompts FILE          the prompts file, required
          --output DIR            write DIR/<frame:05d>.png: pixel = object id (1…255), DAVIS palette, required
          --per-object            write binary masks DIR/<object>/<frame:05d>.png (0/255) instead
          --save-logits           also write the logits at the video's size, float32, DIR/<object>/<frame:05d>.npy
          --start-frame F         frame to start from (default: the first frame with a prompt)
          --reverse               track backwards from the start frame
          --max-frames N          track at most N frames after the start frame (default: to the end)
          --json                  print one line per frame: {"frame", "objects": [{"id", "area", "score"}]}
                                  (score: the object-presence logit, > 0 present)
          --max-megapixels N      refuse frames over N megapixels (default 50)
          --threads N             threads to use (default: all cores)
          --quiet                 no progress bar on stderr
        """

    static func run(_ args: inout Arguments) throws {
        let model = try ModelOptions(&args)
        let limits = try args.imageLimits()
        guard let promptsPath = try args.value("--prompts") else {
            throw ToolError.usage("track: --prompts FILE is required (see sam2 track --help)")
        }
        guard let outputPath = try args.value("--output") else {
            throw ToolError.usage("track: --output DIR is required (see sam2 track --help)")
        }
        let perObject = args.flag("--per-object")
        let saveLogits = args.flag("--save-logits")
        let startFrame = try args.int("--start-frame", range: 0...Int.max)
        let reverse = args.flag("--reverse")
        let maxFrames = try args.int("--max-frames", range: 0...Int.max)
        let json = args.flag("--json")
        let quiet = args.flag("--quiet")
        let inputs = try args.positionals()
        guard inputs.count == 1 else {
            throw ToolError.usage("track: expected one VIDEO or FRAME_DIR, got \(inputs.count) (see sam2 track --help)")
        }
        model.applyThreads()

        // Everything that can be checked without the model, before anything is written.
        let video = try openVideo(URL(fileURLWithPath: inputs[0]), limits: limits)
        let prompts = try TrackingPrompts.read(
            URL(fileURLWithPath: promptsPath), frameCount: video.frameCount,
            width: video.width, height: video.height)
        if let startFrame, startFrame >= video.frameCount {
            throw ToolError.runtime(
                "track: --start-frame \(startFrame) does not exist: '\(inputs[0])' has frames 0…\(video.frameCount - 1)"
            )
        }
        var objectIDs: [Int] = []
        for p in prompts where !objectIDs.contains(p.object) { objectIDs.append(p.object) }
        let output = try TrackingOutput(
            directory: URL(fileURLWithPath: outputPath), perObject: perObject,
            saveLogits: saveLogits, objectIDs: objectIDs)

        let predictor = SAM2VideoPredictor(model: try model.load())
        try predictor.initState(frames: video)
        let prompting = ProgressBar("prompts", total: prompts.count, quiet: quiet)
        for p in prompts {
            if let mask = p.mask {
                try predictor.addMask(
                    frame: p.frame, object: p.object, mask: mask, width: video.width, height: video.height)
            } else {
                try predictor.addPoints(
                    frame: p.frame, object: p.object, points: p.points, labels: p.labels, box: p.box)
            }
            prompting.advance()
        }
        prompting.finish()

        let order = try predictor.propagationOrder(start: startFrame, maxFrames: maxFrames, reverse: reverse)
        let progress = ProgressBar("track", total: order.count, quiet: quiet)
        defer { progress.finish() }
        try predictor.propagate(start: startFrame, maxFrames: maxFrames, reverse: reverse) { result in
            let summary = try output.write(result)
            if json {
                progress.finish()
                FileHandle.standardOutput.write(Data((JSONCoding.line(summary) + "\n").utf8))
            }
            progress.advance(note: "frame \(result.frameIndex)")
        }
        progress.finish()
        if !json { print("tracked \(objectIDs.count) objects over \(order.count) frames into \(outputPath)") }
    }
}
