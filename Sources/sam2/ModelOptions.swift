// ModelOptions: what every command that runs the model shares — the checkpoint (a file, or a model
// by name: downloaded, verified and cached when missing), an explicit configuration, the thread
// count, the precision — parsed in one place, and the model loaded in one place.

import Foundation
import SAM2
import SAM2Workflows

struct ModelOptions {
    enum Source {
        case checkpoint(String)
        case model(ModelReference)
    }

    var source: Source
    var configuration: String?
    var threads: Int?
    var precision: Precision = .float32
    var offline: Bool
    /// No download bar (the command's --quiet, read here without taking it).
    var quiet: Bool

    /// The options' help lines for each command's --help, descriptions from `column` on.
    static func help(column: Int = 26) -> String {
        let entries = [
            ("--checkpoint CKPT", "model checkpoint (.pt or .safetensors)"),
            (
                "--model NAME",
                "or a model by name, downloaded and cached when missing: tiny, small, base_plus, large (SAM 2.1), a "
                    + "configuration name (sam2.1_hiera_t, …, sam2_hiera_l), a Hugging Face id "
                    + "(facebook/sam2.1-hiera-tiny, …) or a Hub repo id with --file (see sam2 models)"
            ),
            ("--file FILE", "the checkpoint's file in the Hub repo (default: the official repo's .pt)"),
            ("--revision REV", "the Hub repo's branch, tag or commit (default main)"),
            ("--offline", "never use the network (also SAM2_OFFLINE=1, HF_HUB_OFFLINE=1): the model must be cached"),
            (
                "--precision P",
                "fp32 (default, equal to the reference), bf16 or int8: the image encoder's and the tracking's products "
                    + "in reduced precision, faster where the CPU has the instructions (see sam2 info)"
            ),
        ]
        var lines: [String] = []
        for (option, description) in entries {
            var line = "  " + option.padding(toLength: column - 2, withPad: " ", startingAt: 0)
            for word in description.split(separator: " ") {
                if line.count + word.count + 1 > 112 && line.count > column {
                    lines.append(line)
                    line = String(repeating: " ", count: column)
                }
                line += (line.count == column ? "" : " ") + word
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    /// Parses `--checkpoint CKPT` or `--model NAME [--file FILE] [--revision REV] [--offline]` (one of the
    /// two is required), `--config NAME` and `--threads N`.
    init(_ args: inout Arguments) throws {
        guard let options = try Self.parse(&args) else {
            throw ToolError.usage(
                "\(args.command): --checkpoint CKPT or --model NAME is required (see sam2 \(args.command) --help)")
        }
        self = options
    }

    private init(source: Source, configuration: String?, threads: Int?, offline: Bool, quiet: Bool) {
        self.source = source
        self.configuration = configuration
        self.threads = threads
        self.offline = offline
        self.quiet = quiet
    }

    /// A named model's options, for `sam2 models pull`.
    init(reference: ModelReference, configuration: String?, offline: Bool, quiet: Bool) {
        self.init(source: .model(reference), configuration: configuration, threads: nil, offline: offline, quiet: quiet)
    }

    /// The options when `--checkpoint` or `--model` is given, nil when neither is.
    static func parse(_ args: inout Arguments) throws -> ModelOptions? {
        let checkpoint = try args.value("--checkpoint")
        let model = try args.value("--model")
        let file = try args.value("--file")
        let revision = try args.value("--revision")
        let offline = args.flag("--offline")
        let configuration = try args.value("--config")
        let threads = try args.int("--threads", range: 1...1024)
        let precisionName = try args.value("--precision")
        let precision = try precisionName.map { name in
            guard let precision = Precision(name: name) else {
                throw ToolError.usage("\(args.command): --precision '\(name)': expected fp32, bf16 or int8")
            }
            return precision
        }
        let source: Source
        switch (checkpoint, model) {
        case (nil, nil):
            if let option = file != nil ? "--file" : revision != nil ? "--revision" : nil {
                throw ToolError.usage("\(args.command): \(option) goes with --model NAME")
            }
            return nil
        case (.some, .some):
            throw ToolError.usage("\(args.command): give --checkpoint or --model, not both")
        case (let checkpoint?, nil):
            if let option = file != nil ? "--file" : revision != nil ? "--revision" : nil {
                throw ToolError.usage("\(args.command): \(option) goes with --model NAME, not --checkpoint")
            }
            source = .checkpoint(checkpoint)
        case (nil, let name?):
            source = .model(try reference(name, file: file, revision: revision, command: args.command))
        }
        var options = ModelOptions(
            source: source, configuration: configuration, threads: threads, offline: offline,
            quiet: args.contains("--quiet"))
        options.precision = precision ?? .float32
        return options
    }

    /// `--model NAME [--file] [--revision]` resolved, a bad name or option being a usage error.
    static func reference(_ name: String, file: String?, revision: String?, command: String) throws
        -> ModelReference
    {
        var info = stat()
        if stat(name, &info) == 0 && info.st_mode & S_IFMT == S_IFREG {
            throw ToolError.usage("\(command): --model '\(name)' is a file: pass it with --checkpoint")
        }
        do {
            return try ModelRegistry.resolve(name, file: file, revision: revision)
        } catch {
            throw ToolError.usage("\(command): --model: \(error)")
        }
    }

    /// Sets the thread count, when given (once the arguments are known to be good, before any work).
    func applyThreads() {
        if let threads { Runtime.setThreadCount(threads) }
    }

    /// The checkpoint file: `--checkpoint`'s, or the named model's, downloaded and verified (against
    /// `--config` when given, else the configuration the name holds) when it is not cached.
    func checkpointFile() throws -> URL {
        switch source {
        case .checkpoint(let path):
            return URL(fileURLWithPath: path)
        case .model(let reference):
            let configuration =
                try self.configuration.map { try SAM2Configuration.named($0) }
                ?? reference.configurationName.map { try SAM2Configuration.named($0) }
            let progress = DownloadProgress(quiet: quiet)
            defer { progress.finish() }
            do {
                return try ModelStore(offline: offline).checkpoint(for: reference, events: progress.show) {
                    try CheckpointVerifier.verify($0, configuration: configuration)
                }
            } catch {
                throw ToolError.runtime(error.description)
            }
        }
    }

    /// The model: the checkpoint with the configuration given, or the one its tensors name, in the
    /// precision asked for (saying once on stderr when this CPU does not accelerate it).
    func load() throws -> SAM2Model {
        let configuration = try self.configuration.map { try SAM2Configuration.named($0) }
        if !precision.isAccelerated {
            FileHandle.standardError.write(
                Data(
                    ("sam2: note: this CPU (oneDNN: \(Precision.instructionSet)) has no \(precision.shortName) "
                        + "instructions; --precision \(precision.shortName) runs, but slower than it would with them\n")
                        .utf8))
        }
        switch source {
        case .checkpoint(let path):
            return try SAM2Model.load(
                checkpoint: URL(fileURLWithPath: path), configuration: configuration, precision: precision)
        case .model(let reference):
            let progress = DownloadProgress(quiet: quiet)
            defer { progress.finish() }
            do {
                return try SAM2Model.load(
                    model: reference, configuration: configuration, precision: precision,
                    store: ModelStore(offline: offline), events: progress.show)
            } catch let error as ModelError {
                throw ToolError.runtime(error.description)
            }
        }
    }
}
