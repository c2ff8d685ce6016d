// `sam2 models`: the models `--model` knows, with their sizes, where each is cached and whether it is
// there; `sam2 models pull NAME` downloads, verifies and caches one; `sam2 models rm NAME` removes it.

import Foundation
import SAM2
import SAM2Workflows

enum ModelsCommand: Command {
    static let help = """
        usage: sam2 models [list] [--json]
               sam2 models pull NAME [--file FILE] [--revision REV] [--config NAME] [--offline] [--quiet]
               sam2 models rm NAME [--file FILE] [--revision REV]

        Lists the models --model takes — tiny, small, base_plus, large (SAM 2.1), the eight configuration
        names (the official release files) and the eight Hugging Face ids — with their download size, whether
        each is cached and where. `pull` downloads one (verified, then cached) and prints its path; `rm`
        removes a cached one.

        Release files are cached in $SAM2_CACHE (default $XDG_CACHE_HOME/sam2, else ~/.cache/sam2) and come from
        $SAM2_MODEL_BASE_URL (default \(ModelStore.officialReleaseBaseURL)). Hub files are cached
        in the Hugging Face cache ($HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub), shared with
        Python's huggingface_hub, and come from $HF_ENDPOINT (default \(ModelStore.officialHubEndpoint)).

          --json                  list: one JSON object per model and line: names, configuration, url, path,
                                  cached, bytes, approximate_bytes, partial_bytes
          --file FILE             the checkpoint's file in a Hub repo (any repo id needs it)
          --revision REV          the Hub repo's branch, tag or commit (default main)
          --config NAME           pull: the configuration the download is checked against (default: the name's)
          --offline               pull: never use the network (also SAM2_OFFLINE=1, HF_HUB_OFFLINE=1)
          --quiet                 pull: no progress bar
        """

    static func run(_ args: inout Arguments) throws {
        let json = args.flag("--json")
        let file = try args.value("--file")
        let revision = try args.value("--revision")
        let configName = try args.value("--config")
        let offline = args.flag("--offline")
        let quiet = args.flag("--quiet")
        let words = try args.positionals()
        let action = words.first ?? "list"
        func usage(_ message: String) -> ToolError { .usage("models: \(message) (see sam2 models --help)") }
        switch action {
        case "list":
            guard words.count <= 1 else { throw usage("list takes no name") }
            guard file == nil && revision == nil && configName == nil && !offline else {
                throw usage("list takes only --json")
            }
            list(json: json)
        case "pull", "rm":
            guard words.count == 2 else { throw usage("\(action) takes one model name") }
            guard !json else { throw usage("--json goes with list") }
            let reference = try ModelOptions.reference(words[1], file: file, revision: revision, command: "models")
            if action == "pull" {
                let options = ModelOptions(
                    reference: reference, configuration: configName, offline: offline, quiet: quiet)
                print(try options.checkpointFile().path)
            } else {
                guard configName == nil && !offline else { throw usage("rm takes only --file and --revision") }
                do {
                    for url in try ModelStore().remove(reference) { print("removed \(url.path)") }
                } catch {
                    throw ToolError.runtime(error.description)
                }
            }
        default:
            throw usage("unknown action '\(action)': expected list, pull or rm")
        }
    }

    private static func list(json: Bool) {
        let statuses = ModelStore().statuses()
        if json {
            for status in statuses { print(JSONCoding.line(status)) }
            return
        }
        let rows = statuses.map { status -> [String] in
            let size = status.bytes.map { ByteCount.text($0) } ?? "≈" + ByteCount.text(Int64(status.approximateBytes))
            let state =
                status.cached ? "yes" : status.partialBytes.map { "part (\(ByteCount.text($0)))" } ?? "no"
            return [status.names.joined(separator: ", "), status.configuration, size, state, status.path]
        }
        let header = ["NAME", "CONFIG", "SIZE", "CACHED", "PATH"]
        let widths = (0..<4).map { column in (rows + [header]).map { $0[column].count }.max()! }
        for row in [header] + rows {
            let padded = (0..<4).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
            print((padded + [row[4]]).joined(separator: "  "))
        }
    }
}
