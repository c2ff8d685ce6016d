// RasterFormat: how a decoder's samples are laid out (JPEG or PNG, 8 or 16 bits, gray, RGB, alpha,
// palette, CMYK), and their conversions row by row to RGB (as PIL's `convert("RGB")`), to a 0/1 mask
// and to palette indices (as `np.array(Image.open(path))`), so that no image is held twice.

/// What a decode produces: RGB (3 bytes a pixel), a 0/1 mask or palette indices (1 byte a pixel).
enum RasterTarget {
    case rgb, mask, indices

    var channels: Int { self == .rgb ? 3 : 1 }
}

/// Samples as the decoder produces them: 8-bit or big-endian 16-bit, with the PNG palette.
struct RasterFormat {
    enum Layout: Equatable {
        case gray, grayAlpha, rgb, rgba, palette
        /// JPEG CMYK or YCCK as libjpeg returns it: Adobe-inverted (PIL's rawmode "CMYK;I").
        case invertedCMYK
    }

    var layout: Layout
    /// 8 or 16; 16-bit samples are big-endian, as in the PNG.
    var bitDepth: Int
    var channels: Int
    /// RGB triples for `.palette`.
    var palette: [UInt8] = []

    /// Why this raster has no palette indices (nil when it has: 8-bit palette or grayscale).
    var indexProblem: String? {
        if bitDepth == 8 && (layout == .palette || layout == .gray) { return nil }
        switch layout {
        case .gray: return "it is a 16-bit grayscale image"
        case .grayAlpha: return "it is a grayscale with alpha image"
        case .rgb: return "it is an RGB image"
        case .rgba: return "it is an RGBA image"
        case .palette: return "it is a 16-bit palette image"
        case .invertedCMYK: return "it is a CMYK image"
        }
    }

    /// The image's pixels in `target`'s form: `height` rows of `stride` bytes in this format are read
    /// `rowsAtOnce` at a time by `read` (row pointers and their count; it throws on a decoder error)
    /// and converted row by row, so that only those rows are held in the decoder's form.
    func readRows(
        width: Int, height: Int, stride: Int, rowsAtOnce: Int, to target: RasterTarget,
        read: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, Int32) throws -> Void
    ) throws -> [UInt8] {
        var rows = [UInt8](repeating: 0, count: stride * rowsAtOnce)
        var pixels = [UInt8](repeating: 0, count: width * height * target.channels)
        var y = 0
        while y < height {
            let count = min(rowsAtOnce, height - y)
            try rows.withUnsafeMutableBufferPointer { buffer in
                var pointers = (0..<count).map { Optional(buffer.baseAddress! + $0 * stride) }
                try read(&pointers, Int32(count))
            }
            rows.withUnsafeBufferPointer { src in
                pixels.withUnsafeMutableBufferPointer { dst in
                    for k in 0..<count {
                        convert(
                            src.baseAddress! + k * stride, width: width, to: target,
                            dst.baseAddress! + (y + k) * width * target.channels)
                    }
                }
            }
            y += count
        }
        return pixels
    }

    /// Converts one row of `width` pixels from `src` into `dst` (`width · target.channels` bytes).
    func convert(_ src: UnsafePointer<UInt8>, width: Int, to target: RasterTarget, _ dst: UnsafeMutablePointer<UInt8>) {
        switch target {
        case .rgb: rgbRow(src, width: width, dst)
        case .mask: maskRow(src, width: width, dst)
        case .indices: for x in 0..<width { dst[x] = src[x] }
        }
    }

    /// Interleaved RGB exactly as PIL's `Image.open(path).convert("RGB")`:
    /// gray replicated; alpha dropped (nothing composited); palette looked up (tRNS ignored, indices
    /// beyond the palette black); 16-bit RGB(A) and gray+alpha take the high byte (PIL's ";16B"
    /// raw modes) but 16-bit gray is clipped to 255 (PIL opens it as "I;16" and its I;16→RGB clips);
    /// CMYK → RGB with PIL's `cmyk2rgb`.
    private func rgbRow(_ src: UnsafePointer<UInt8>, width: Int, _ dst: UnsafeMutablePointer<UInt8>) {
        let wide = bitDepth == 16
        let step = wide ? 2 : 1
        palette.withUnsafeBufferPointer { pal in
            for x in 0..<width {
                let p = x * channels * step  // first byte of the pixel
                // ref: PIL's ";16B" raw modes keep the most significant byte.
                @inline(__always) func sample(_ c: Int) -> UInt8 { src[p + c * step] }
                var r: UInt8
                var g: UInt8
                var b: UInt8
                switch layout {
                case .gray, .grayAlpha:
                    if wide && layout == .gray {
                        // ref: Pillow Convert.c I16_RGB — values above 255 clip to 255.
                        r = src[p] == 0 ? src[p + 1] : 255
                    } else {
                        r = sample(0)
                    }
                    g = r
                    b = r
                case .rgb, .rgba:
                    r = sample(0)
                    g = sample(1)
                    b = sample(2)
                case .palette:
                    let index = Int(src[p])
                    if index * 3 + 2 < pal.count {
                        r = pal[index * 3]
                        g = pal[index * 3 + 1]
                        b = pal[index * 3 + 2]
                    } else {
                        r = 0
                        g = 0
                        b = 0
                    }
                case .invertedCMYK:
                    // ref: Pillow Convert.c cmyk2rgb on "CMYK;I" (inverted) samples.
                    let nk = Int(src[p + 3])
                    r = Self.cmykChannel(255 - Int(src[p]), nk)
                    g = Self.cmykChannel(255 - Int(src[p + 1]), nk)
                    b = Self.cmykChannel(255 - Int(src[p + 2]), nk)
                }
                dst[3 * x] = r
                dst[3 * x + 1] = g
                dst[3 * x + 2] = b
            }
        }
    }

    /// `CLIP8(nk - MULDIV255(c, nk))` from Pillow's cmyk2rgb.
    @inline(__always) static func cmykChannel(_ c: Int, _ nk: Int) -> UInt8 {
        let t = c * nk + 128
        let v = nk - (((t >> 8) + t) >> 8)
        return UInt8(clamping: v)
    }

    /// 1 where the pixel is inside, 0 elsewhere: palette index nonzero; otherwise any colour sample
    /// (all bits of 16-bit samples) nonzero; CMYK by its RGB. Alpha is not consulted.
    private func maskRow(_ src: UnsafePointer<UInt8>, width: Int, _ dst: UnsafeMutablePointer<UInt8>) {
        let step = bitDepth == 16 ? 2 : 1
        let colours: Int
        switch layout {
        case .gray, .grayAlpha, .palette: colours = 1
        case .rgb, .rgba: colours = 3
        case .invertedCMYK:
            var rgb = [UInt8](repeating: 0, count: 3 * width)
            rgbRow(src, width: width, &rgb)
            for x in 0..<width { dst[x] = rgb[3 * x] | rgb[3 * x + 1] | rgb[3 * x + 2] != 0 ? 1 : 0 }
            return
        }
        for x in 0..<width {
            let p = x * channels * step
            var any: UInt8 = 0
            for k in 0..<(colours * step) { any |= src[p + k] }
            dst[x] = any != 0 ? 1 : 0
        }
    }
}

/// A decoded image in the form asked for: `channels` (3 for RGB, 1 for masks and indices) bytes a
/// pixel, row-major, before EXIF orientation (whose tag `orientation` carries).
struct DecodedImage {
    var width: Int
    var height: Int
    var pixels: [UInt8]
    var exif: [UInt8]?

    var orientation: Int { exif.flatMap(ExifOrientation.parse) ?? 1 }
}
