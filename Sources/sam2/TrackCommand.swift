// `sam2 track VIDEO|FRAME_DIR|-|URL|DEVICE`: applies a prompts file's clicks, boxes and masks (or finds
// every object with --auto), tracks the objects and writes per-frame masks (indexed PNGs, per-object
// PNGs, logits) and/or JSON lines. A file or folder is checked whole before any work and may be tracked
// from any frame, backwards too; a live source (standard input, a URL, a camera) is tracked as its
// frames arrive, until it ends or the process is told to stop (SIGINT, SIGTERM).

import Foundation
import SAM2
import SAM2IO
import SAM2Workflows

enum TrackCommand: Command {
    static let help = """
        usage: sam2 track VIDEO|FRAME_DIR|-|URL|/dev/videoN --checkpoint CKPT|--model NAME
                          (--prompts PROMPTS.json | --auto) --output DIR [options]

        Tracks objects through a video file (MP4/H.264, anything the system's libavformat decodes), a folder
        of JPEG frames named by integer (00000.jpg, ...), or a live source: - (standard input: concatenated
        JPEGs, y4m, or any container libavformat recognises), a URL (rtsp://, http://, udp://, ...) or a
        capture device (/dev/video0). PROMPTS.json is a list of
          {"frame": F, "object": ID, "points": [[x, y], ...], "labels": [1, 0, ...], "box": [x0, y0, x1, y1],
           "mask": "file.png"}
        (pixels of the video; labels 1 = foreground, 0 = background; a mask path is relative to the prompts
        file), applied in file order before tracking — on a live source, when frame F arrives.

        \(ModelOptions.help())
          --config NAME           configuration (preset name, alias tiny/small/base_plus/large, or .json);
                                  detected by default
          --prompts FILE          the prompts file (required unless --auto)
          --output DIR            write DIR/<frame:05d>.png: pixel = object id (1…255), DAVIS palette, required
          --per-object            write binary masks DIR/<object>/<frame:05d>.png (0/255) instead
          --save-logits           also write the logits at the video's size, float32, DIR/<object>/<frame:05d>.npy
          --start-frame F         frame to start from (default: the first frame with a prompt; files and folders)
          --reverse               track backwards from the start frame (files and folders)
          --max-frames N          track at most N frames after the start frame (default: to the end)
          --render OUT.mp4        also write the video with the masks drawn over it in colour, outlined (H.264
                                  where this system's libavcodec has an H.264 encoder, else MPEG-4 Part 2)
          --fps N                 the rendered video's frame rate (default: the video's, else 30)
          --json                  print one line per frame: {"frame", "objects": [{"id", "area", "score"}]}
                                  (score: the object-presence logit, > 0 present; "dropped" with --realtime),
                                  and on a live source a last line {"summary": {...}}
          --max-megapixels N      refuse frames over N megapixels (default 50)
          --threads N             threads to use (default: all cores)
          --quiet                 no progress bar on stderr

        live sources:
          --input-format NAME     force libavformat's demuxer or device (e.g. mjpeg, yuv4mpegpipe, video4linux2)
          --frames N              the stream's length, when known (it matters to the model under 16 frames)
          --realtime              drop the frames that arrive while a frame is being tracked, instead of
                                  reading every frame (a camera); they are counted
          --auto                  segment the first frame with the automatic mask generator and track every mask
                                  as an object (ids 1…N in the generator's order); its options as in sam2 auto:
        \(Arguments.generatorOptionsHelp)
          --auto-every N          run the generator again every N frames and add the masks that overlap no
                                  tracked object as new objects
          --new-object-iou T      a mask whose IoU with every tracked object is below T is new (default 0.3)
        """

    static func run(_ args: inout Arguments) throws {
        let model = try ModelOptions(&args)
        let limits = try args.imageLimits()
        let promptsPath = try args.value("--prompts")
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
        let renderPath = try args.value("--render")
        let fps = try args.float("--fps", range: 0.01...1000)
        let inputFormat = try args.value("--input-format")
        var live = LiveTracking.Options()
        live.realtime = args.flag("--realtime")
        live.expectedLength = try args.int("--frames", range: 1...Int.max)
        let automatic = args.flag("--auto")
        let automaticOptions = try args.generatorOptions()
        live.automaticEvery = try args.int("--auto-every", range: 1...Int.max)
        live.newObjectIoU = try args.float("--new-object-iou", default: 0.3, range: 0...1)!
        let inputs = try args.positionals()
        guard inputs.count == 1 else {
            throw ToolError.usage(
                "track: expected one VIDEO, FRAME_DIR, - or URL, got \(inputs.count) (see sam2 track --help)")
        }
        let source = inputs[0]
        let isLive =
            source == "-" || source.contains("://") || source.hasPrefix("/dev/") || inputFormat != nil
            || live.realtime || automatic
        guard automatic != (promptsPath != nil) else {
            throw ToolError.usage("track: give --prompts FILE or --auto (see sam2 track --help)")
        }
        if isLive {
            guard startFrame == nil && !reverse else {
                throw ToolError.usage("track: --start-frame and --reverse need a video file or a folder of frames")
            }
            if automatic { live.automatic = automaticOptions }
            live.maxFrames = maxFrames
        } else if live.automaticEvery != nil {
            throw ToolError.usage("track: --auto-every goes with --auto")
        }
        model.applyThreads()
        if isLive {
            try trackLive(
                source, inputFormat: inputFormat, prompts: promptsPath, options: live, model: model, limits: limits,
                output: (outputPath, perObject, saveLogits), render: renderPath.map { ($0, fps) }, json: json,
                quiet: quiet)
            return
        }
        guard let promptsPath else { return }

        // Everything that can be checked without the model, before anything is written.
        let video = try openVideo(URL(fileURLWithPath: source), limits: limits)
        let prompts = try TrackingPrompts.read(
            URL(fileURLWithPath: promptsPath), frameCount: video.frameCount,
            width: video.width, height: video.height)
        if let startFrame, startFrame >= video.frameCount {
            throw ToolError.runtime(
                "track: --start-frame \(startFrame) does not exist: '\(source)' has frames 0…\(video.frameCount - 1)"
            )
        }
        var objectIDs: [Int] = []
        for p in prompts where !objectIDs.contains(p.object) { objectIDs.append(p.object) }
        var output = try TrackingOutput(
            directory: URL(fileURLWithPath: outputPath), perObject: perObject,
            saveLogits: saveLogits, objectIDs: objectIDs)
        if let renderPath {
            let rate = fps.map(Double.init) ?? (video as? VideoFileFrames)?.framesPerSecond ?? 30
            output.render = (URL(fileURLWithPath: renderPath), rate)
        }

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
            let summary = try output.write(
                result, image: output.render == nil ? nil : try video.frame(result.frameIndex))
            if json {
                progress.finish()
                FileHandle.standardOutput.write(Data((JSONCoding.line(summary) + "\n").utf8))
            }
            progress.advance(note: "frame \(result.frameIndex)")
        }
        progress.finish()
        try output.finish()
        Self.reportRender(output, quiet: quiet)
        if !json { print("tracked \(objectIDs.count) objects over \(order.count) frames into \(outputPath)") }
    }

    /// Says on stderr which encoder wrote the overlay video.
    private static func reportRender(_ output: TrackingOutput, quiet: Bool) {
        guard let render = output.render, let codec = output.renderCodec, !quiet else { return }
        FileHandle.standardError.write(Data("sam2: wrote \(render.url.path) (\(codec))\n".utf8))
    }

    /// A live source: frames tracked as they arrive until the end of the stream, --max-frames, or
    /// SIGINT/SIGTERM (the frame in flight is finished and written; exit 0).
    private static func trackLive(
        _ source: String, inputFormat: String?, prompts promptsPath: String?, options: LiveTracking.Options,
        model: ModelOptions, limits: ImageLimits, output: (path: String, perObject: Bool, saveLogits: Bool),
        render: (path: String, fps: Float?)?, json: Bool, quiet: Bool
    ) throws {
        // Ctrl-C and SIGTERM are taken by a thread of their own, in every thread, before any starts.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        let stop = LiveTracking.Stop()
        let signalSet = signals
        Thread.detachNewThread {
            var set = signalSet
            var received: Int32 = 0
            sigwait(&set, &received)
            stop.request()
        }
        let video: LiveVideo
        do {
            video = try LiveVideo(source, inputFormat: inputFormat, limits: limits, interrupt: stop.interrupt)
        } catch  where stop.isRequested {
            let line: [String: LiveTracking.Summary] = ["summary": LiveTracking.Summary(stopped: true)]
            print(json ? JSONCoding.line(line) : "stopped before any frame")
            return
        }
        let prompts = try promptsPath.map {
            try TrackingPrompts.read(
                URL(fileURLWithPath: $0), frameCount: nil, width: video.declaredSize?.width,
                height: video.declaredSize?.height)
        }
        var objectIDs: [Int] = []
        for p in prompts ?? [] where !objectIDs.contains(p.object) { objectIDs.append(p.object) }
        var writer = try TrackingOutput(
            directory: URL(fileURLWithPath: output.path), perObject: output.perObject,
            saveLogits: output.saveLogits, objectIDs: objectIDs)
        if let render { writer.render = (URL(fileURLWithPath: render.path), Double(render.fps ?? 30)) }
        let tracking = LiveTracking(model: try model.load(), options: options, prompts: prompts ?? [], output: writer)
        let summary = try tracking.run(source: video, stop: stop) { frame in
            if json { FileHandle.standardOutput.write(Data((JSONCoding.line(frame) + "\n").utf8)) }
        }
        reportRender(writer, quiet: quiet)
        if json {
            let line: [String: LiveTracking.Summary] = ["summary": summary]
            print(JSONCoding.line(line))
        } else {
            let dropped = options.realtime ? ", \(summary.dropped) dropped" : ""
            let why = summary.stopped ? " (stopped)" : ""
            print(
                "tracked \(summary.objects) objects over \(summary.frames) frames\(dropped) into \(output.path)\(why)")
        }
    }
}
