// SAM2Model.load(model:): a model by name — an alias, a configuration name or a Hugging Face id —
// from the caches, downloaded, verified and cached when missing (ModelRegistry, ModelStore). The
// SAM2 library itself never touches the network; this is the one place that does.

import Foundation
import SAM2

extension SAM2Model {
    /// Loads the checkpoint `name` resolves to (`tiny`, `sam2_hiera_l`, `facebook/sam2.1-hiera-tiny`,
    /// or any Hub repo id with `file`), at `revision` (default `main`) for a Hub id. A download is
    /// checked against the configuration the name holds; `configuration`, when given, is the one the
    /// model is built with (and the download is then checked for its structure only).
    public static func load(
        model name: String, file: String? = nil, revision: String? = nil, configuration: SAM2Configuration? = nil,
        precision: Precision = .float32, store: ModelStore = ModelStore(),
        events: @escaping @Sendable (ModelStoreEvent) -> Void = { _ in }
    ) throws -> SAM2Model {
        try load(
            model: ModelRegistry.resolve(name, file: file, revision: revision), configuration: configuration,
            precision: precision, store: store, events: events)
    }

    /// Loads a resolved model reference (see `load(model:file:revision:configuration:store:events:)`).
    public static func load(
        model reference: ModelReference, configuration: SAM2Configuration? = nil, precision: Precision = .float32,
        store: ModelStore = ModelStore(), events: @escaping @Sendable (ModelStoreEvent) -> Void = { _ in }
    ) throws -> SAM2Model {
        let preset = try reference.configurationName.map { try SAM2Configuration.named($0) }
        var verified: SAM2Model?
        let url = try store.checkpoint(for: reference, events: events) { candidate in
            verified = try CheckpointVerifier.verify(candidate, configuration: configuration == nil ? preset : nil)
        }
        if let verified, precision == .float32 { return verified }
        return try SAM2Model.load(checkpoint: url, configuration: configuration ?? preset, precision: precision)
    }
}
