// ModelStatus: what `sam2 models` lists for each known model — its names, configuration, where it
// comes from, where it is (or would be) cached, whether it is there, its size.

import Foundation

public struct ModelStatus: Encodable, Sendable {
    public var names: [String]
    public var configuration: String
    public var url: String
    /// The cached file, or where a download would put it.
    public var path: String
    public var cached: Bool
    /// The cached file's size.
    public var bytes: Int64?
    /// The download's size, about (four bytes a value).
    public var approximateBytes: Int
    /// An interrupted download waiting to be resumed (release files).
    public var partialBytes: Int64?

    enum CodingKeys: String, CodingKey {
        case names, configuration, url, path, cached, bytes
        case approximateBytes = "approximate_bytes"
        case partialBytes = "partial_bytes"
    }
}

extension ModelStore {
    /// Every known model (ModelRegistry.known, in its order) with where it stands in the caches.
    public func statuses() -> [ModelStatus] {
        ModelRegistry.known.map { model in
            let reference = ModelReference(
                name: model.names[0], source: model.source, configurationName: model.configurationName)
            let cached = cachedFile(reference)
            return ModelStatus(
                names: model.names, configuration: model.configurationName, url: remoteURL(reference),
                path: (cached ?? destination(reference)).path, cached: cached != nil,
                bytes: cached.flatMap { HTTPTransfer.fileSize($0) }, approximateBytes: model.approximateBytes,
                partialBytes: partialBytes(reference))
        }
    }
}
