// ModelOptions: what every command that runs the model shares — the checkpoint, an explicit
// configuration, the thread count — parsed in one place, and the model loaded in one place.

import Foundation
import SAM2

struct ModelOptions {
    var checkpoint: String
    var configuration: String?
    var threads: Int?

    /// Parses `--checkpoint CKPT` (required), `--config NAME` and `--threads N`.
    init(_ args: inout Arguments) throws {
        guard let checkpoint = try args.value("--checkpoint") else {
            throw ToolError.usage("\(args.command): --checkpoint CKPT is required (see sam2 \(args.command) --help)")
        }
        self.checkpoint = checkpoint
        configuration = try args.value("--config")
        threads = try args.int("--threads", range: 1...1024)
    }

    /// Sets the thread count, when given (once the arguments are known to be good, before any work).
    func applyThreads() {
        if let threads { Runtime.setThreadCount(threads) }
    }

    /// The model: the checkpoint with the configuration given, or the one its tensors name.
    func load() throws -> SAM2Model {
        try SAM2Model.load(
            checkpoint: URL(fileURLWithPath: checkpoint),
            configuration: configuration.map { try SAM2Configuration.named($0) })
    }
}
