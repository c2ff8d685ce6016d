// Fuzz target `frame-folder`: the bytes unpacked into a folder of files (FuzzFolder), opened as a
// video's JPEG frames and its first and last frames decoded. Seeds: the frames fixture folder packed.

import Foundation
import SAM2IO

extension FuzzTarget {
    static let frameFolder = FuzzTarget(
        name: "frame-folder", summary: "a folder of JPEG frames (packed), first and last frame decoded",
        maxLength: 32 << 10,
        seeds: { fixtures in
            let frames = try fixtures.files("Tests/SAM2Tests/Fixtures/video/frames", extensions: ["jpg"])
            return [
                ("frames", FuzzFolder.pack(frames)), ("three", FuzzFolder.pack(Array(frames.prefix(3)))),
                ("gap", FuzzFolder.pack([frames[0], frames[2]])),
                ("names", FuzzFolder.pack([("7.jpeg", frames[0].data), ("x.jpg", frames[1].data)])),
            ]
        },
        entry: { data, scratch in
            let folder = try scratch.subfolder("frames")
            try FuzzFolder.unpack(data, into: folder)
            let frames = try JPEGFolderFrames(folder: folder)
            try checkFrames(frames, [0, frames.frameCount - 1])
            return "\(frames.frameCount) frames of \(frames.width)×\(frames.height)"
        })
}

/// A folder as one input: entries of [name length: 1 byte][name][content length: 2 bytes LE][content],
/// the last content cut by the end of the input. Names are made plain file names ('/' and NUL → '_').
enum FuzzFolder {
    static func pack(_ files: [(name: String, data: Data)]) -> Data {
        var out = Data()
        for (name, data) in files {
            let nameBytes = Array(name.utf8.prefix(255))
            let content = data.prefix(0xFFFF)
            out.append(UInt8(nameBytes.count))
            out.append(contentsOf: nameBytes)
            out.append(contentsOf: [UInt8(content.count & 0xFF), UInt8(content.count >> 8)])
            out.append(content)
        }
        return out
    }

    static func unpack(_ data: Data, into folder: URL) throws {
        let b = [UInt8](data)
        var i = 0
        while i < b.count {
            let nameLength = Int(b[i])
            let nameEnd = min(b.count, i + 1 + nameLength)
            let name = String(decoding: b[(i + 1)..<nameEnd].map { $0 == 0x2F || $0 == 0 ? 0x5F : $0 }, as: UTF8.self)
            i = nameEnd
            var length = 0
            if i + 2 <= b.count {
                length = Int(b[i]) | Int(b[i + 1]) << 8
                i += 2
            } else {
                i = b.count
            }
            let end = min(b.count, i + length)
            let content = Data(b[i..<end])
            i = end
            guard !name.isEmpty, name != ".", name != "..", name.utf8.count <= 200 else { continue }
            try content.write(to: folder.appendingPathComponent(name))
        }
    }
}
