// ModelError: why a model could not be named, found, downloaded or cached — each a one-line message
// that says what to do (usage errors: a name or option the user gave; the rest: runtime failures).

import Foundation

public enum ModelError: Error, CustomStringConvertible, Equatable {
    // The name or its options (usage errors).
    case unknownName(String)
    case invalidRepoID(String)
    case invalidFile(String)
    case invalidRevision(String)
    case optionNeedsRepo(option: String, name: String)
    case repoNeedsFile(String)
    // Finding and downloading (runtime failures).
    case offline(name: String, url: String, destination: String)
    case unreachable(name: String, url: String, destination: String, reason: String)
    case httpStatus(name: String, url: String, status: Int, detail: String)
    case interrupted(url: String, received: Int64, total: Int64?, partial: String, reason: String)
    case sizeMismatch(url: String, expected: Int64, received: Int64)
    case checksumMismatch(url: String, expected: String, found: String)
    case notACheckpoint(url: String, reason: String)
    case notEnoughSpace(folder: String, needed: Int64, available: Int64)
    case cannotWrite(path: String, reason: String)
    case notCached(name: String, path: String)

    /// True for errors in what the user typed (exit status 2), false for runtime failures.
    public var isUsageError: Bool {
        switch self {
        case .unknownName, .invalidRepoID, .invalidFile, .invalidRevision, .optionNeedsRepo, .repoNeedsFile: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .unknownName(let name):
            return "unknown model '\(name)': expected tiny, small, base_plus, large, a configuration name "
                + "(sam2.1_hiera_t, …, sam2_hiera_l), a Hugging Face id (facebook/sam2.1-hiera-tiny, …) or a Hub "
                + "repo id with --file (see sam2 models)"
        case .invalidRepoID(let id):
            return "'\(id)' is not a Hugging Face repo id: expected namespace/name of letters, digits, '-', '_' "
                + "and '.' (no '--' or '..', at most 96 characters)"
        case .invalidFile(let file):
            return "--file '\(file)' is not a file path inside a repository (no leading '/', no '.' or '..' part)"
        case .invalidRevision(let revision):
            return "--revision '\(revision)' is not a branch, tag or commit name (letters, digits, '-', '_', '.', '/')"
        case .optionNeedsRepo(let option, let name):
            return "\(option) applies to a Hugging Face repo id, not to '\(name)' (an official release file)"
        case .repoNeedsFile(let id):
            return "'\(id)' is not one of the official SAM 2 repos: name the checkpoint in it with --file FILE"
        case .offline(let name, let url, let destination):
            return "model '\(name)' is not cached and downloads are off (--offline, SAM2_OFFLINE or HF_HUB_OFFLINE): "
                + "fetch \(url) and put it at \(destination), or pass a file with --checkpoint"
        case .unreachable(let name, let url, let destination, let reason):
            return "model '\(name)' is not cached and \(url) cannot be reached (\(reason)): fetch it where there is "
                + "a network and put it at \(destination), or pass a file with --checkpoint"
        case .httpStatus(let name, let url, let status, let detail):
            let reason = HTTPURLResponseStatus.text(status)
            return "cannot download model '\(name)': \(url) answered \(status) \(reason)"
                + (detail.isEmpty ? "" : " (\(detail))")
        case .interrupted(let url, let received, let total, let partial, let reason):
            let amount =
                total.map { "\(ByteCount.text(received)) of \(ByteCount.text($0))" } ?? ByteCount.text(received)
            return "the download of \(url) stopped after \(amount) (\(reason)); "
                + "run the command again to resume it (the part is kept in \(partial), which nothing reads)"
        case .sizeMismatch(let url, let expected, let received):
            return "the download of \(url) is \(received) bytes long, not the \(expected) the Hub announced; "
                + "nothing was cached (run the command again to download it anew)"
        case .checksumMismatch(let url, let expected, let found):
            return "the download of \(url) has SHA-256 \(found), not the \(expected) the server announced; "
                + "nothing was cached (run the command again to download it anew)"
        case .notACheckpoint(let url, let reason):
            return "the download of \(url) is not a usable checkpoint, nothing was cached: \(reason)"
        case .notEnoughSpace(let folder, let needed, let available):
            return "not enough space in \(folder) for the download: \(ByteCount.text(needed)) needed, "
                + "\(ByteCount.text(available)) free (set SAM2_CACHE or HF_HOME to a folder with room)"
        case .cannotWrite(let path, let reason):
            return "cannot write '\(path)': \(reason) (set SAM2_CACHE or HF_HOME to a writable folder)"
        case .notCached(let name, let path):
            return "model '\(name)' is not cached (looked at \(path))"
        }
    }
}

/// Sizes as people read them: 156.0 MB, 1.9 MB, 812 bytes (decimal units, as download tools show).
public enum ByteCount {
    public static func text(_ bytes: Int64) -> String {
        if bytes < 1000 { return "\(bytes) bytes" }
        if bytes < 1_000_000 { return String(format: "%.1f kB", Double(bytes) / 1e3) }
        if bytes < 1_000_000_000 { return String(format: "%.1f MB", Double(bytes) / 1e6) }
        return String(format: "%.2f GB", Double(bytes) / 1e9)
    }
}

enum HTTPURLResponseStatus {
    static func text(_ status: Int) -> String {
        let names = [
            400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 410: "Gone",
            416: "Range Not Satisfiable", 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Unavailable", 504: "Gateway Timeout",
        ]
        return names[status] ?? ""
    }
}
