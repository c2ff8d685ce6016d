// `sam2 info CKPT`: the detected configuration, version, dtypes, tensor and value counts, and the
// precisions this CPU accelerates.

import Foundation
import SAM2
import SAM2IO
import SAM2Workflows

enum InfoCommand: Command {
    static let help = """
        usage: sam2 info CHECKPOINT|--model NAME [--file FILE] [--revision REV] [--offline] [--config NAME] [--json]

        Prints what a checkpoint (.pt, .safetensors) holds: the configuration detected from its
        tensors (e.g. sam2.1_hiera_b+), the SAM version, the element types, the number of tensors
        and the number of values (the sum of all tensors' element counts), then the instruction set
        oneDNN uses on this CPU and the precisions (--precision) it accelerates. With --model, the named
        model's checkpoint (downloaded and cached when missing; see sam2 models).

          --config NAME   take this configuration instead of detecting it (a preset name or a .json file)
          --json          print one JSON object instead of text
        """

    static func run(_ args: inout Arguments) throws {
        let configName = try args.value("--config")
        let json = args.flag("--json")
        var model = try ModelOptions.parse(&args)
        model?.configuration = configName
        let paths = try args.positionals()
        guard paths.count == (model == nil ? 1 : 0) else {
            let expected = model == nil ? "one checkpoint path" : "no path with --model"
            throw ToolError.usage("info: expected \(expected), got \(paths.count) (see sam2 info --help)")
        }
        let url = try model?.checkpointFile() ?? URL(fileURLWithPath: paths[0])
        let summary = try CheckpointSummary.read(url, configuration: configName.map { try SAM2Configuration.named($0) })
        if json {
            print(JSONCoding.line(summary))
        } else {
            print("config:  \(summary.configuration.name)")
            print("version: SAM \(summary.configuration.version)")
            print("format:  \(summary.format)")
            print("dtypes:  \(summary.dtypes.map { "\($0.key) (\($0.value) tensors)" }.joined(separator: ", "))")
            print("tensors: \(summary.tensorCount)")
            print("values:  \(summary.valueCount)")
            let accelerated = Precision.allCases.filter(\.isAccelerated).map(\.shortName).joined(separator: ", ")
            print(
                "cpu:     \(Precision.instructionSet) (oneDNN), \(Precision.kernelInstructionSet) (own kernels); "
                    + "accelerated precisions: \(accelerated)")
        }
    }
}
