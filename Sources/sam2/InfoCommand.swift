// `sam2 info CKPT`: the detected configuration, version, dtypes, tensor and value counts.

import Foundation
import SAM2
import SAM2IO
import SAM2Workflows

enum InfoCommand: Command {
    static let help = """
        usage: sam2 info CHECKPOINT [--config NAME] [--json]

        Prints what a checkpoint (.pt, .safetensors) holds: the configuration detected from its
        tensors (e.g. sam2.1_hiera_b+), the SAM version, the element types, the number of tensors
        and the number of values (the sum of all tensors' element counts).

          --config NAME   take this configuration instead of detecting it (a preset name or a .json file)
          --json          print one JSON object instead of text
        """

    static func run(_ args: inout Arguments) throws {
        let configName = try args.value("--config")
        let json = args.flag("--json")
        let paths = try args.positionals()
        guard paths.count == 1 else {
            throw ToolError.usage("info: expected one checkpoint path, got \(paths.count) (see sam2 info --help)")
        }
        let summary = try CheckpointSummary.read(
            URL(fileURLWithPath: paths[0]), configuration: configName.map { try SAM2Configuration.named($0) })
        if json {
            print(JSONCoding.line(summary))
        } else {
            print("config:  \(summary.configuration.name)")
            print("version: SAM \(summary.configuration.version)")
            print("format:  \(summary.format)")
            print("dtypes:  \(summary.dtypes.map { "\($0.key) (\($0.value) tensors)" }.joined(separator: ", "))")
            print("tensors: \(summary.tensorCount)")
            print("values:  \(summary.valueCount)")
        }
    }
}
