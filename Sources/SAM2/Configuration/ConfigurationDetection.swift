// Detection of the configuration from a checkpoint's tensor names and shapes: the trunk's width,
// blocks per stage and position-embedding grids pick the size; keys that only SAM 2.1 has pick
// the version.

extension SAM2Configuration {
    /// The preset whose architecture matches `shapes` (official key names → tensor shapes).
    public static func detect(shapes: [String: [Int]]) throws -> SAM2Configuration {
        let trunk = "image_encoder.trunk."
        guard let patch = shapes[trunk + "patch_embed.proj.weight"], patch.count == 4 else {
            let sample = shapes.keys.sorted().prefix(3).joined(separator: ", ")
            throw ConfigurationError.unknownArchitecture(
                "no tensor \(trunk)patch_embed.proj.weight among \(shapes.count) tensors (first keys: "
                    + "\(sample.isEmpty ? "none" : sample))"
            )
        }
        let embedDim = patch[0]
        var blockCount = 0
        while shapes[trunk + "blocks.\(blockCount).norm1.weight"] != nil { blockCount += 1 }
        // A block that changes width (it has its own `proj`) opens a new stage.
        let stageStarts = [0] + (1..<max(blockCount, 1)).filter { shapes[trunk + "blocks.\($0).proj.weight"] != nil }
        let stages = zip(stageStarts, stageStarts.dropFirst() + [blockCount]).map { $1 - $0 }
        let positionGrid = shapes[trunk + "pos_embed"].map { Array($0.suffix(2)) } ?? []
        let firstWindow = shapes[trunk + "pos_embed_window"]?.last ?? 0
        let version21 = shapes["no_obj_embed_spatial"] != nil || shapes["obj_ptr_tpos_proj.weight"] != nil
        let version = version21 ? "2.1" : "2.0"

        let match = presets.first {
            $0.version == version && $0.trunk.embedDim == embedDim && $0.trunk.stages == stages
                && $0.trunk.positionEmbeddingSize == positionGrid && $0.trunk.windowSpec.first == firstWindow
        }
        guard let found = match else {
            throw ConfigurationError.unknownArchitecture(
                "SAM \(version) checkpoint with trunk width \(embedDim), blocks per stage \(stages), "
                    + "position grid \(positionGrid), first window \(firstWindow): no official configuration has this "
                    + "trunk"
            )
        }
        return found
    }
}
