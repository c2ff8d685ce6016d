// `sam2 merge-coco OUT.json IN.json...`: merges COCO instances files — the --coco files of a sharded
// run's workers — into one (images and categories de-duplicated, annotations re-numbered).

import Foundation
import SAM2
import SAM2IO
import SAM2Workflows

enum MergeCOCOCommand: Command {
    static let help = """
        usage: sam2 merge-coco OUT.json IN.json [IN.json...]

        Merges COCO instances files into OUT.json, e.g. the --coco files of the workers of a sharded
        `sam2 segment DIR --shard K/N` run. Images and categories are kept once per id (the same id
        defined differently in two files is an error); annotations are re-numbered 1, 2, … in the order
        of the files; other top-level members (info, licenses) come from the first file that has them.
        OUT.json is written atomically (it may be one of the inputs).
        """

    static func run(_ args: inout Arguments) throws {
        let paths = try args.positionals()
        guard paths.count >= 2 else {
            throw ToolError.usage(
                "merge-coco: expected OUT.json and at least one IN.json, got \(paths.count) file(s) (see sam2 "
                    + "merge-coco --help)"
            )
        }
        let merged = try COCOMerge.merge(paths.dropFirst().map { URL(fileURLWithPath: $0) })
        try AtomicFile.write(merged, to: URL(fileURLWithPath: paths[0]))
    }
}
