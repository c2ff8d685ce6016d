// sam2: the command-line tool. Parses arguments, calls the SAM2 library, prints results; errors
// are one line on stderr (exit 2 for usage errors, 1 for runtime failures).

import Foundation
import SAM2
import SAM2IO
import SAM2Workflows

let usage = """
    sam2 — SAM 2 (Segment Anything Model 2) segmentation, natively.

    usage: sam2 <command> [options]

    commands:
      segment     masks for points, boxes, a mask prompt or a detector's boxes on an image or a folder
      auto        every mask in images (automatic mask generation), as JSON, PNGs or COCO
      track       track objects through a video file, a folder of frames or a live stream (-, a URL, a camera)
      bench       time set_image and predict on a checkpoint
      info        what a checkpoint holds: configuration, version, dtypes, sizes
      merge-coco  merge COCO instances files (the shards of a sharded run) into one
      models      the models --model NAME takes, where they are cached; pull or remove one
      serve       a local web page and JSON API for annotating images and videos by clicking

    Run `sam2 <command> --help` for a command's options.
    """

/// A subcommand: its `--help` text, and what it does with the rest of the arguments.
protocol Command {
    static var help: String { get }
    static func run(_ args: inout Arguments) throws
}

let commands: [String: any Command.Type] = [
    "info": InfoCommand.self,
    "segment": SegmentCommand.self,
    "auto": AutoCommand.self,
    "track": TrackCommand.self,
    "bench": BenchCommand.self,
    "merge-coco": MergeCOCOCommand.self,
    "models": ModelsCommand.self,
    "serve": ServeCommand.self,
]

func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data("sam2: \(message)\n".utf8))
    exit(status)
}

var argv = Array(CommandLine.arguments.dropFirst())
guard let name = argv.first else {
    FileHandle.standardError.write(Data((usage + "\n").utf8))
    exit(2)
}
if name == "--help" || name == "-h" || name == "help" {
    print(usage)
    exit(0)
}
guard let command = commands[name] else {
    fail(
        "unknown command '\(name)'; expected one of \(commands.keys.sorted().joined(separator: ", ")) (see sam2 "
            + "--help)",
        status: 2)
}
var arguments = Arguments(command: name, Array(argv.dropFirst()))
if arguments.wantsHelp {
    print(command.help)
    exit(0)
}
do {
    try command.run(&arguments)
} catch let error as ToolError {
    switch error {
    case .usage(let message): fail(message, status: 2)
    case .runtime(let message): fail(message, status: 1)
    }
} catch let error as CocoaError {
    // A file-system failure that reached here unwrapped: the file and the reason, on one line.
    let path = error.userInfo[NSFilePathErrorKey] as? String ?? (error.userInfo[NSURLErrorKey] as? URL)?.path
    fail("\(path.map { "'\($0)': " } ?? "")\(AtomicFile.reason(error))", status: 1)
} catch {
    fail(String(describing: error), status: 1)
}
