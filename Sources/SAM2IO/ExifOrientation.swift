// ExifOrientation: reads the Orientation tag (0x0112) from EXIF data and applies it to pixels.
// Matches PIL's `ImageOps.exif_transpose`, which the reference's users apply before prediction.

/// The EXIF orientation (1...8) of an image and the transposition that displays it upright.
enum ExifOrientation {
    /// The orientation tag in IFD0 of `exif`, a TIFF structure optionally preceded by "Exif\0\0"
    /// (JPEG APP1 payload or PNG eXIf chunk); nil when absent, malformed or outside 1...8.
    /// Every read is bounds-checked: malformed data yields nil, never a crash.
    static func parse(_ exif: [UInt8]) -> Int? {
        var base = 0
        if exif.count >= 6, exif[0] == 0x45, exif[1] == 0x78, exif[2] == 0x69, exif[3] == 0x66,
            exif[4] == 0, exif[5] == 0
        {
            base = 6  // "Exif\0\0"
        }
        guard exif.count >= base + 8 else { return nil }
        let littleEndian: Bool
        switch (exif[base], exif[base + 1]) {
        case (0x49, 0x49): littleEndian = true  // "II"
        case (0x4D, 0x4D): littleEndian = false  // "MM"
        default: return nil
        }
        func u16(_ offset: Int) -> Int? {
            let at = base + offset
            guard offset >= 0, at + 2 <= exif.count else { return nil }
            let a = Int(exif[at])
            let b = Int(exif[at + 1])
            return littleEndian ? a | b << 8 : a << 8 | b
        }
        func u32(_ offset: Int) -> Int? {
            guard let lo = u16(littleEndian ? offset : offset + 2),
                let hi = u16(littleEndian ? offset + 2 : offset)
            else { return nil }
            return lo | hi << 16
        }
        guard u16(2) == 42, let ifd0 = u32(4), let count = u16(ifd0) else { return nil }
        for index in 0..<count {
            let entry = ifd0 + 2 + 12 * index
            guard let tag = u16(entry) else { return nil }
            guard tag == 0x0112 else { continue }
            guard let type = u16(entry + 2), let valueCount = u32(entry + 4), valueCount >= 1 else { return nil }
            let value: Int?
            switch type {
            case 1, 7: value = base + entry + 8 < exif.count ? Int(exif[base + entry + 8]) : nil  // BYTE, UNDEFINED
            case 3: value = u16(entry + 8)  // SHORT
            case 4: value = u32(entry + 8)  // LONG
            default: value = nil
            }
            guard let value, (1...8).contains(value) else { return nil }
            return value
        }
        return nil
    }

    /// `pixels` (row-major, `channels` interleaved bytes per pixel) transposed for `orientation`, as
    /// `ImageOps.exif_transpose` does: 2 mirror, 3 rotate 180°, 4 flip, 5 transpose, 6 rotate 90°
    /// clockwise, 7 transverse, 8 rotate 90° counter-clockwise. Orientations 5–8 swap width and height.
    static func apply(
        _ orientation: Int, to pixels: [UInt8], width: Int, height: Int,
        channels: Int
    ) -> (pixels: [UInt8], width: Int, height: Int) {
        guard (2...8).contains(orientation), width > 0, height > 0 else { return (pixels, width, height) }
        let swaps = orientation >= 5
        let outWidth = swaps ? height : width
        let outHeight = swaps ? width : height
        // ref: PIL Image.transpose — source pixel (sx, sy) of output pixel (x, y).
        let source: (Int, Int) -> (Int, Int)
        switch orientation {
        case 2: source = { x, y in (width - 1 - x, y) }  // FLIP_LEFT_RIGHT
        case 3: source = { x, y in (width - 1 - x, height - 1 - y) }  // ROTATE_180
        case 4: source = { x, y in (x, height - 1 - y) }  // FLIP_TOP_BOTTOM
        case 5: source = { x, y in (y, x) }  // TRANSPOSE
        case 6: source = { x, y in (y, height - 1 - x) }  // ROTATE_270 (90° clockwise)
        case 7: source = { x, y in (width - 1 - y, height - 1 - x) }  // TRANSVERSE
        default: source = { x, y in (width - 1 - y, x) }  // 8: ROTATE_90 (counter-clockwise)
        }
        var out = [UInt8](repeating: 0, count: pixels.count)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<outHeight {
                    for x in 0..<outWidth {
                        let (sx, sy) = source(x, y)
                        let from = (sy * width + sx) * channels
                        let to = (y * outWidth + x) * channels
                        for c in 0..<channels { dst[to + c] = src[from + c] }
                    }
                }
            }
        }
        return (out, outWidth, outHeight)
    }
}
