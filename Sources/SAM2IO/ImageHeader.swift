// ImageHeader: what a JPEG or PNG says about itself before any pixel is decoded — its format (by
// magic bytes) and its size (JPEG start-of-frame, PNG IHDR; EXIF orientation 5–8 swaps the sides) —
// so that sizes can be checked and memory budgeted without decoding.

import Foundation

enum ImageHeader {
    enum Format: Equatable {
        case jpeg, png
        /// Not JPEG or PNG: the format recognised, if any (GIF, BMP, WebP, TIFF, HEIF/AVIF/MP4).
        case other(String?)
    }

    static func format(_ data: Data) -> Format {
        let head = [UInt8](data.prefix(12))
        func starts(_ magic: [UInt8], at offset: Int = 0) -> Bool {
            head.count >= offset + magic.count && Array(head[offset..<(offset + magic.count)]) == magic
        }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts(Array("GIF8".utf8)) { return .other("GIF") }
        if starts(Array("BM".utf8)) { return .other("BMP") }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return .other("WebP") }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return .other("TIFF") }
        if starts(Array("ftyp".utf8), at: 4) { return .other("HEIF/AVIF/MP4") }
        return .other(nil)
    }

    /// Width and height as the image will be shown (EXIF orientation applied when the header has it).
    static func size(_ data: Data) -> (width: Int, height: Int)? {
        let stored: (width: Int, height: Int, orientation: Int)?
        switch format(data) {
        case .jpeg: stored = jpegSize(data)
        case .png: stored = pngSize(data)
        case .other: stored = nil
        }
        guard let stored else { return nil }
        return stored.orientation >= 5 ? (stored.height, stored.width) : (stored.width, stored.height)
    }

    /// Size from the start-of-frame marker and orientation from an EXIF APP1 segment before it.
    static func jpegSize(_ data: Data) -> (width: Int, height: Int, orientation: Int)? {
        data.withUnsafeBytes { raw -> (Int, Int, Int)? in
            let b = raw.bindMemory(to: UInt8.self)
            guard b.count > 4, b[0] == 0xFF, b[1] == 0xD8 else { return nil }
            var orientation = 1
            var i = 2
            while i + 9 < b.count {
                guard b[i] == 0xFF else { return nil }
                let marker = b[i + 1]
                if marker == 0xFF {
                    i += 1
                    continue
                }
                if marker == 0x01 || (0xD0...0xD7).contains(marker) {
                    i += 2
                    continue
                }
                let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
                let isStartOfFrame = (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker)
                if isStartOfFrame {
                    return (Int(b[i + 7]) << 8 | Int(b[i + 8]), Int(b[i + 5]) << 8 | Int(b[i + 6]), orientation)
                }
                if marker == 0xE1, length >= 8, i + 2 + length <= b.count {
                    let payload = [UInt8](b[(i + 4)..<(i + 2 + length)])
                    if payload.starts(with: Array("Exif".utf8) + [0, 0]) {
                        orientation = ExifOrientation.parse(payload) ?? orientation
                    }
                }
                i += 2 + length
            }
            return nil
        }
    }

    /// Size from IHDR and orientation from an eXIf chunk before the image data.
    static func pngSize(_ data: Data) -> (width: Int, height: Int, orientation: Int)? {
        data.withUnsafeBytes { raw -> (Int, Int, Int)? in
            let b = raw.bindMemory(to: UInt8.self)
            func u32(_ at: Int) -> Int {
                Int(b[at]) << 24 | Int(b[at + 1]) << 16 | Int(b[at + 2]) << 8 | Int(b[at + 3])
            }
            guard b.count >= 24, u32(12) == 0x4948_4452 else { return nil }  // "IHDR"
            let (width, height) = (u32(16), u32(20))
            var orientation = 1
            var i = 8
            while i + 8 <= b.count {
                let length = u32(i)
                let type = u32(i + 4)
                if type == 0x4944_4154 { break }  // "IDAT": what follows is pixel data
                if type == 0x6558_4966, i + 8 + length <= b.count {  // "eXIf"
                    orientation = ExifOrientation.parse([UInt8](b[(i + 8)..<(i + 8 + length)])) ?? orientation
                }
                guard length <= b.count else { break }
                i += 12 + length
            }
            return (width, height, orientation)
        }
    }
}
