// `sam2 bench`: median times of set_image and predict (one point at the centre, three masks,
// upsampled to the image size) on a checkpoint.

import Foundation
import SAM2
import SAM2IO
import SAM2Workflows

enum BenchCommand: Command {
    static let help = """
        usage: sam2 bench --checkpoint CKPT|--model NAME [--image IMAGE] [--repeat N] [--threads N] [--config NAME]
                          [--json] [--quiet] [--max-megapixels N]

        Times set_image and predict (one point at the image centre, three masks, upsampling to the
        image size included) after one warm-up run, and prints the medians. Without --image a
        1024×1024 synthetic image is used. With --json: {"config", "threads", "precision",
        "set_image_ms", "predict_ms"}.

        \(ModelOptions.help())
        """

    static func run(_ args: inout Arguments) throws {
        let options = try ModelOptions(&args)
        let limits = try args.imageLimits()
        let imagePath = try args.value("--image")
        let repeats = try args.int("--repeat", default: 5, range: 1...10_000)!
        let json = args.flag("--json")
        let quiet = args.flag("--quiet")
        let extra = try args.positionals()
        guard extra.isEmpty else {
            throw ToolError.usage("bench: unexpected argument '\(extra[0])' (see sam2 bench --help)")
        }
        options.applyThreads()

        let image =
            try imagePath.map { try ImageIO.readImage(URL(fileURLWithPath: $0), limits: limits) }
            ?? Benchmark.syntheticImage(side: 1024)
        let model = try options.load()
        let progress = ProgressBar("bench", total: 2 * repeats, quiet: quiet)
        let result = try Benchmark.run(model: model, image: image, repeats: repeats) { progress.advance() }
        progress.finish()
        if json {
            print(
                JSONCoding.line(
                    BenchmarkReport(
                        config: model.configuration.name, threads: Runtime.threadCount, precision: model.precision,
                        weightBytes: model.weightBytes, result: result)))
        } else {
            print(
                "config \(model.configuration.name), \(model.precision.shortName), \(Runtime.threadCount) threads, "
                    + "\(image.width)×\(image.height) image, median of \(repeats)"
            )
            print(String(format: "set_image  %.1f ms", result.setImageMilliseconds))
            print(String(format: "predict    %.1f ms", result.predictMilliseconds))
            print(String(format: "weights    %.1f MB", Double(model.weightBytes) / 1e6))
        }
    }
}
