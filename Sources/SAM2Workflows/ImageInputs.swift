// ImageInputs: the images named on a command line — files as given, folders as their .jpg/.jpeg/.png
// files in name order — each with the name that matches it to boxes, shards and output folders.

import Foundation
import SAM2
import SAM2IO

/// An image to process: its path and its name relative to the folder it was found in (a file given
/// directly: its file name).
public struct ImageInput: Sendable, Equatable {
    public var path: String
    public var relativePath: String
    /// The relative path without its extension: the name of the image's output folder.
    public var stem: String { (relativePath as NSString).deletingPathExtension }

    public init(path: String, relativePath: String) {
        self.path = path
        self.relativePath = relativePath
    }
}

public enum ImageInputs {
    public static let extensions: Set<String> = ["jpg", "jpeg", "png"]

    /// Files as given, folders as their images in name order (not recursive). A missing path, or a
    /// folder without images, is an error naming it.
    public static func list(_ inputs: [String]) throws -> [ImageInput] {
        var images: [ImageInput] = []
        for input in inputs {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else {
                throw ImageIOError.cannotRead(path: input, reason: "no such file or directory")
            }
            guard isDirectory.boolValue else {
                images.append(ImageInput(path: input, relativePath: (input as NSString).lastPathComponent))
                continue
            }
            let entries: [String]
            do {
                entries = try FileManager.default.contentsOfDirectory(atPath: input).sorted()
            } catch {
                throw ImageIOError.cannotRead(path: input, reason: AtomicFile.reason(error))
            }
            let found = entries.filter {
                !$0.hasPrefix(".") && extensions.contains(($0 as NSString).pathExtension.lowercased())
            }
            guard !found.isEmpty else {
                throw ImageIOError.cannotRead(path: input, reason: "the folder holds no .jpg, .jpeg or .png image")
            }
            images += found.map { ImageInput(path: (input as NSString).appendingPathComponent($0), relativePath: $0) }
        }
        return images
    }

    /// The first output-folder name (stem) two of the images share, if any.
    public static func duplicateStem(_ images: [ImageInput]) -> String? {
        var seen: Set<String> = []
        return images.first { !seen.insert($0.stem).inserted }?.stem
    }
}
