// ProjectFolder: the one folder the server reads images and videos from and writes annotations and
// exports to. Every name from a client is checked here: a plain file name (no separators, no "..", not
// hidden, a .jpg/.jpeg/.png extension for an image; a video file's extension or a folder of JPEG frames
// for a video) that resolves — symlinks followed — to a regular file (or a frame folder) inside it.

import Foundation
import SAM2
import SAM2IO
import SAM2Workflows

public struct ProjectFolder: Sendable {
    /// The folder with symlinks resolved.
    public let root: URL
    static let imageExtensions: Set<String> = ["jpg", "jpeg", "png"]
    static let videoExtensions: Set<String> = ["mp4", "m4v", "mov", "mkv", "webm", "avi"]

    /// What a client's name must be: an image file, a video file, or a video file or frame folder.
    public enum Kind: Sendable {
        case image, videoFile, video

        var extensions: Set<String> { self == .image ? imageExtensions : videoExtensions }
        var what: String { self == .image ? "image" : "video" }
    }

    public init(path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw APIError(404, "project folder \(path) does not exist")
        }
        guard isDirectory.boolValue else { throw APIError(400, "project folder \(path) is not a folder") }
        guard let resolved = realpath(path, nil) else { throw APIError(400, "cannot resolve project folder \(path)") }
        defer { free(resolved) }
        root = URL(fileURLWithPath: String(cString: resolved), isDirectory: true)
    }

    /// The image files at the top of the folder that resolve inside it, by name.
    public func imageNames() throws -> [String] {
        let entries = try FileManager.default.contentsOfDirectory(atPath: root.path)
        return entries.filter { (try? imageURL($0)) != nil }.sorted()
    }

    /// The file of image `name`, checked: a 400 for a name that is not a plain image file name, a 403
    /// for one resolving outside the folder, a 404 for a missing one.
    public func imageURL(_ name: String) throws -> URL {
        try resolve(name, kind: .image)
    }

    /// The video files (by extension) and folders of integer-named JPEG frames at the top of the folder.
    public func videoNames() throws -> [String] {
        let entries = try FileManager.default.contentsOfDirectory(atPath: root.path)
        return entries.filter { (try? videoURL($0)) != nil }.sorted()
    }

    /// The video file or frame folder `name`, checked as `imageURL` checks an image.
    public func videoURL(_ name: String) throws -> URL {
        try resolve(name, kind: .video)
    }

    private func resolve(_ name: String, kind: Kind) throws -> URL {
        try Self.validate(name, kind: kind)
        let candidate = root.appendingPathComponent(name)
        guard let resolved = realpath(candidate.path, nil) else {
            throw APIError.notFound("no \(kind.what) '\(name)' in the project folder")
        }
        defer { free(resolved) }
        let path = String(cString: resolved)
        guard path.hasPrefix(root.path + "/") else {
            throw APIError(403, "\(kind.what) '\(name)' resolves outside the project folder")
        }
        var info = stat()
        guard stat(path, &info) == 0 else { throw APIError.notFound("no \(kind.what) '\(name)' in the project folder") }
        if kind == .video && info.st_mode & S_IFMT == S_IFDIR {
            guard name != "export", Self.holdsFrames(path) else {
                throw APIError.notFound("folder '\(name)' holds no JPEG frames named by integer (00000.jpg, …)")
            }
            return URL(fileURLWithPath: path, isDirectory: true)
        }
        guard info.st_mode & S_IFMT == S_IFREG, kind.extensions.contains((name as NSString).pathExtension.lowercased())
        else {
            throw APIError.notFound("'\(name)' is not a regular \(kind.what) file in the project folder")
        }
        return URL(fileURLWithPath: path)
    }

    /// True when folder `path` holds a JPEG named by an integer (a frame folder, checked in full on opening).
    private static func holdsFrames(_ path: String) -> Bool {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.contains { name in
            ["jpg", "jpeg"].contains((name as NSString).pathExtension.lowercased())
                && Int((name as NSString).deletingPathExtension) != nil
        }
    }

    /// Saves uploaded image bytes under `name` (or `name-2`, `name-3`, … when another file holds the
    /// name) atomically and returns the name used; identical bytes under the name are reused.
    public func saveUpload(_ data: Data, name: String, kind: Kind = .image) throws -> String {
        try Self.validate(name, kind: kind)
        let stem = (name as NSString).deletingPathExtension
        let ext = (name as NSString).pathExtension
        for k in 1...1000 {
            let candidate = k == 1 ? name : "\(stem)-\(k).\(ext)"
            let url = root.appendingPathComponent(candidate)
            var info = stat()
            if lstat(url.path, &info) != 0 {
                try AtomicFile.write(data, to: url)
                return candidate
            }
            if let existing = try? resolve(candidate, kind: kind), (try? Data(contentsOf: existing)) == data {
                return candidate
            }
        }
        throw APIError(409, "too many files named like '\(name)' in the project folder")
    }

    /// A folder the server itself writes into, at `relative` (fixed by the server or a validated image
    /// name), created when missing: every step must be a real folder, never a symbolic link, so that a
    /// link planted as PROJECT/export (or .sam2) cannot send writes and deletions out of the project.
    func internalDirectory(_ relative: String) throws -> URL {
        var url = root
        for component in relative.split(separator: "/").map(String.init) {
            url.appendPathComponent(component, isDirectory: true)
            var info = stat()
            if lstat(url.path, &info) != 0 {
                guard errno == ENOENT, mkdir(url.path, 0o755) == 0 || errno == EEXIST else {
                    throw APIError(500, "cannot create folder \(url.path): \(String(cString: strerror(errno)))")
                }
                guard lstat(url.path, &info) == 0 else { throw APIError(500, "cannot create folder \(url.path)") }
            }
            guard info.st_mode & S_IFMT == S_IFDIR else {
                let what = info.st_mode & S_IFMT == S_IFLNK ? "a symbolic link" : "not a folder"
                throw APIError(
                    409,
                    "\(url.path) is \(what); the server writes only into real folders inside the project (move it away)"
                )
            }
        }
        return url
    }

    /// Checks a client's name: a plain, visible file name of 1 to 255 bytes with the kind's extension
    /// (any name for `.video`, which may be a frame folder).
    static func validate(_ name: String, kind: Kind = .image) throws {
        let what = kind.what
        guard !name.isEmpty, name.utf8.count <= 255 else {
            throw APIError.badRequest("\(what) name must be 1 to 255 bytes")
        }
        guard !name.contains("/"), !name.contains("\\"), !name.contains("\0"), name != ".", name != ".." else {
            throw APIError.badRequest(
                "\(what) name '\(name)' must be a plain file name in the project folder, without a path")
        }
        guard !name.hasPrefix(".") else {
            throw APIError.badRequest("\(what) name '\(name)' is hidden (starts with '.')")
        }
        guard kind == .video || kind.extensions.contains((name as NSString).pathExtension.lowercased()) else {
            throw APIError.badRequest(
                "\(what) name '\(name)' does not end in ."
                    + kind.extensions.sorted().joined(separator: ", ."))
        }
    }
}
