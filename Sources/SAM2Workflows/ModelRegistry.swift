// ModelRegistry: the names `--model` takes and where each checkpoint comes from — the aliases tiny,
// small, base_plus and large (SAM 2.1), the eight configuration names (the official release's URLs,
// as in the reference README's table) and the eight official Hugging Face ids (mapped to their .pt
// file as the reference's build_sam.py HF_MODEL_ID_TO_FILENAMES maps them); any other Hub repo id
// with the file named.

import Foundation

/// Where a checkpoint is downloaded from.
public enum ModelSource: Sendable, Hashable {
    /// The official release: `<base URL>/<folder>/<file>` (folder 092824 for SAM 2.1, 072824 for 2.0).
    case release(folder: String, file: String)
    /// A file of a Hugging Face Hub model repository at a revision (a branch, a tag or a commit).
    case hub(repo: String, file: String, revision: String)

    /// The checkpoint's file name (a path inside the repository for the Hub).
    public var file: String {
        switch self {
        case .release(_, let file), .hub(_, let file, _): return file
        }
    }
}

/// A model the registry knows: its names (the first is the one listed), configuration and source.
public struct KnownModel: Sendable {
    public var names: [String]
    /// The preset the checkpoint holds (`sam2.1_hiera_t`, …).
    public var configurationName: String
    /// Number of values in the checkpoint's tensors (the model's parameters and buffers).
    public var parameters: Int
    public var source: ModelSource

    /// The download's size, about: four bytes a value (the archive adds a few hundred kilobytes).
    public var approximateBytes: Int { parameters * 4 }
}

/// A `--model` request resolved: what was asked for, where it comes from, which preset it holds.
public struct ModelReference: Sendable, Equatable {
    public var name: String
    public var source: ModelSource
    /// The preset the file holds, or nil when the registry does not know (any repo's `--file`).
    public var configurationName: String?
}

public enum ModelRegistry {
    static let sizes: [(short: String, file: String, hub: String)] = [
        ("t", "tiny", "tiny"), ("s", "small", "small"), ("b+", "base_plus", "base-plus"), ("l", "large", "large"),
    ]
    static let aliases21 = ["t": "tiny", "s": "small", "b+": "base_plus", "l": "large"]
    /// Values of each preset's checkpoint, as the reference's state dicts hold them
    /// (Fixtures/architectures; ModelStoreTests checks them).
    static let parameterCounts: [String: Int] = [
        "sam2.1_hiera_t": 38_962_754, "sam2.1_hiera_s": 46_060_610, "sam2.1_hiera_b+": 80_850_434,
        "sam2.1_hiera_l": 224_446_898, "sam2_hiera_t": 38_946_242, "sam2_hiera_s": 46_044_098,
        "sam2_hiera_b+": 80_833_922, "sam2_hiera_l": 224_430_386,
    ]

    /// Every known model: the eight official release files (2.1 first, with the aliases), then the
    /// eight Hugging Face ids.
    public static let known: [KnownModel] = {
        var models: [KnownModel] = []
        for (version, folder) in [("2.1", "092824"), ("2.0", "072824")] {
            let prefix = version == "2.1" ? "sam2.1" : "sam2"
            for size in sizes {
                let config = "\(prefix)_hiera_\(size.short)"
                let alias = version == "2.1" ? [aliases21[size.short]!] : []
                models.append(
                    KnownModel(
                        names: alias + [config], configurationName: config, parameters: parameterCounts[config]!,
                        source: .release(folder: folder, file: "\(prefix)_hiera_\(size.file).pt")))
            }
        }
        for prefix in ["sam2.1", "sam2"] {
            for size in sizes {
                let config = "\(prefix)_hiera_\(size.short)"
                models.append(
                    KnownModel(
                        names: ["facebook/\(prefix)-hiera-\(size.hub)"], configurationName: config,
                        parameters: parameterCounts[config]!,
                        source: .hub(
                            repo: "facebook/\(prefix)-hiera-\(size.hub)", file: "\(prefix)_hiera_\(size.file).pt",
                            revision: "main")))
            }
        }
        return models
    }()

    /// Resolves `--model NAME [--file FILE] [--revision REV]`.
    public static func resolve(_ name: String, file: String? = nil, revision: String? = nil) throws(ModelError)
        -> ModelReference
    {
        if let model = known.first(where: { $0.names.contains(name) }), case .release = model.source {
            if file != nil { throw .optionNeedsRepo(option: "--file", name: name) }
            if revision != nil { throw .optionNeedsRepo(option: "--revision", name: name) }
            return ModelReference(name: name, source: model.source, configurationName: model.configurationName)
        }
        guard name.contains("/") else { throw .unknownName(name) }
        try validateRepoID(name)
        let revision = revision ?? "main"
        try validateRevision(revision)
        let official = known.first { $0.names.contains(name) }
        if let file {
            try validateFile(file)
            let configuration = official.flatMap { $0.source.file == file ? $0.configurationName : nil }
            return ModelReference(
                name: name, source: .hub(repo: name, file: file, revision: revision), configurationName: configuration)
        }
        guard let official else { throw .repoNeedsFile(name) }
        return ModelReference(
            name: name, source: .hub(repo: name, file: official.source.file, revision: revision),
            configurationName: official.configurationName)
    }

    /// huggingface_hub's validate_repo_id: `namespace/name`, letters, digits, '-', '_', '.', at most 96
    /// characters, no '--' or '..', not ending in .git — so that the cache folder name is safe.
    static func validateRepoID(_ id: String) throws(ModelError) {
        let parts = id.split(separator: "/", omittingEmptySubsequences: false)
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        let valid =
            parts.count == 2 && id.count <= 96 && !id.contains("--") && !id.contains("..") && !id.hasSuffix(".git")
            && parts.allSatisfy { part in
                !part.isEmpty && part.allSatisfy(allowed.contains) && !"-.".contains(part.first!)
                    && !"-.".contains(part.last!)
            }
        if !valid { throw .invalidRepoID(id) }
    }

    /// A path inside the repository: segments of printable characters, none empty, '.' or '..'.
    static func validateFile(_ file: String) throws(ModelError) {
        let segments = file.split(separator: "/", omittingEmptySubsequences: false)
        let valid = segments.allSatisfy { segment in
            !segment.isEmpty && segment != "." && segment != ".."
                && segment.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7f && $0 != "\\" }
        }
        if !valid || file.utf8.count > 1000 { throw .invalidFile(file) }
    }

    /// A branch, tag or commit: it names a file under refs/, so no empty, '.' or '..' segment.
    static func validateRevision(_ revision: String) throws(ModelError) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        let segments = revision.split(separator: "/", omittingEmptySubsequences: false)
        let valid = segments.allSatisfy { segment in
            !segment.isEmpty && segment != "." && segment != ".." && segment.allSatisfy(allowed.contains)
        }
        if !valid || revision.count > 255 { throw .invalidRevision(revision) }
    }

    /// True for a 40-digit hexadecimal commit id (a revision that names a snapshot by itself).
    static func isCommitID(_ revision: String) -> Bool {
        revision.count == 40 && revision.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }
}
