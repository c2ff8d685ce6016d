// DecodedRaster: a decoded JPEG or PNG before conversion, and its conversions to RGB (as PIL's
// `convert("RGB")`), to a 0/1 mask and to palette indices (as `np.array(Image.open(path))`).

/// Samples as the decoder produced them: 8-bit or big-endian 16-bit, with the PNG palette and EXIF.
struct DecodedRaster {
    enum Layout: Equatable {
        case gray, grayAlpha, rgb, rgba, palette
        /// JPEG CMYK or YCCK as libjpeg returns it: Adobe-inverted (PIL's rawmode "CMYK;I").
        case invertedCMYK
    }

    var width: Int
    var height: Int
    var layout: Layout
    /// 8 or 16; 16-bit samples are big-endian, as in the PNG.
    var bitDepth: Int
    var channels: Int
    var rowBytes: Int
    var samples: [UInt8]
    /// RGB triples for `.palette`.
    var palette: [UInt8]
    /// EXIF data (JPEG APP1 payload with "Exif\0\0", or PNG eXIf chunk), nil if none.
    var exif: [UInt8]?

    var orientation: Int { exif.flatMap(ExifOrientation.parse) ?? 1 }

    /// Interleaved RGB exactly as PIL's `Image.open(path).convert("RGB")`:
    /// gray replicated; alpha dropped (nothing composited); palette looked up (tRNS ignored, indices
    /// beyond the palette black); 16-bit RGB(A) and gray+alpha take the high byte (PIL's ";16B"
    /// raw modes) but 16-bit gray is clipped to 255 (PIL opens it as "I;16" and its I;16→RGB clips);
    /// CMYK → RGB with PIL's `cmyk2rgb`.
    func rgb() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width * height * 3)
        let wide = bitDepth == 16
        let step = wide ? 2 : 1
        samples.withUnsafeBufferPointer { src in
            palette.withUnsafeBufferPointer { pal in
                out.withUnsafeMutableBufferPointer { dst in
                    for y in 0..<height {
                        let row = y * rowBytes
                        var o = y * width * 3
                        for x in 0..<width {
                            let p = row + x * channels * step  // first byte of the pixel
                            // ref: PIL's ";16B" raw modes keep the most significant byte.
                            @inline(__always) func sample(_ c: Int) -> UInt8 { src[p + c * step] }
                            var r: UInt8
                            var g: UInt8
                            var b: UInt8
                            switch layout {
                            case .gray, .grayAlpha:
                                if wide && layout == .gray {
                                    // ref: Pillow Convert.c I16_RGB — values above 255 clip to 255.
                                    let v = src[p] == 0 ? src[p + 1] : 255
                                    r = v
                                    g = v
                                    b = v
                                } else {
                                    r = sample(0)
                                    g = r
                                    b = r
                                }
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
                            dst[o] = r
                            dst[o + 1] = g
                            dst[o + 2] = b
                            o += 3
                        }
                    }
                }
            }
        }
        return out
    }

    /// `CLIP8(nk - MULDIV255(c, nk))` from Pillow's cmyk2rgb.
    @inline(__always) static func cmykChannel(_ c: Int, _ nk: Int) -> UInt8 {
        let t = c * nk + 128
        let v = nk - (((t >> 8) + t) >> 8)
        return UInt8(clamping: v)
    }

    /// 1 where the pixel is inside, 0 elsewhere: palette index nonzero; otherwise any colour sample
    /// (all bits of 16-bit samples) nonzero. Alpha is not consulted.
    func mask() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width * height)
        let step = bitDepth == 16 ? 2 : 1
        let colours: Int
        switch layout {
        case .gray, .grayAlpha, .palette: colours = 1
        case .rgb, .rgba: colours = 3
        case .invertedCMYK: colours = 0
        }
        if layout == .invertedCMYK {
            let rgb = rgb()
            for i in 0..<(width * height) where rgb[3 * i] | rgb[3 * i + 1] | rgb[3 * i + 2] != 0 { out[i] = 1 }
            return out
        }
        samples.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let row = y * rowBytes
                    for x in 0..<width {
                        let p = row + x * channels * step
                        var any: UInt8 = 0
                        for k in 0..<(colours * step) { any |= src[p + k] }
                        dst[y * width + x] = any != 0 ? 1 : 0
                    }
                }
            }
        }
        return out
    }

    /// Palette indices of an indexed PNG, or the values of an 8-bit grayscale image, as
    /// `np.array(Image.open(path))` gives them; nil with the reason for anything else.
    func indices() -> (values: [UInt8]?, problem: String) {
        guard bitDepth == 8, layout == .palette || layout == .gray else {
            let kind: String
            switch layout {
            case .gray: kind = "16-bit grayscale"
            case .grayAlpha: kind = "grayscale with alpha"
            case .rgb: kind = "RGB"
            case .rgba: kind = "RGBA"
            case .palette: kind = "16-bit palette"
            case .invertedCMYK: kind = "CMYK"
            }
            return (nil, "it is a \(kind) image")
        }
        var out = [UInt8](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width { out[y * width + x] = samples[y * rowBytes + x] }
        }
        return (out, "")
    }
}
