// ImageIO: reads JPEG/PNG images and masks (by content, EXIF orientation applied) and writes mask,
// RGB, RGBA and indexed PNGs atomically. The reference uses PIL (`sam2/utils/misc.py`, `tools/vos_inference.py`).

import Foundation
import SAM2

/// Image and mask files. Readers decode by content (magic bytes), not by extension, and produce what
/// PIL produces (`ImageOps.exif_transpose(Image.open(path)).convert("RGB")`); writers are atomic.
public enum ImageIO {
    /// Images wider or taller than this are refused before any pixel memory is allocated.
    public static let maxDimension = 30_000
    /// Images with more pixels than this are refused before any pixel memory is allocated.
    public static let maxPixels = 500_000_000

    // MARK: Reading

    /// Reads a JPEG or PNG file as 8-bit RGB with its EXIF orientation applied.
    public static func readImage(_ url: URL) throws -> RGBImage {
        try decodeImage(readData(url), name: url.path)
    }

    /// Decodes JPEG or PNG bytes as 8-bit RGB with the EXIF orientation applied; `name` is used in errors.
    public static func decodeImage(_ data: Data, name: String) throws -> RGBImage {
        let raster = try decodeRaster(data, name: name)
        let oriented = ExifOrientation.apply(
            raster.orientation, to: raster.rgb(), width: raster.width,
            height: raster.height, channels: 3)
        return RGBImage(width: oriented.width, height: oriented.height, pixels: oriented.pixels)
    }

    /// Reads a video frame as 8-bit RGB without applying EXIF orientation, as the reference's video
    /// loader (`Image.open(path).convert("RGB")`) does.
    public static func readFrame(_ url: URL) throws -> RGBImage {
        let raster = try decodeRaster(readData(url), name: url.path)
        return RGBImage(width: raster.width, height: raster.height, pixels: raster.rgb())
    }

    /// Reads a mask image as one value per pixel, 1 inside and 0 outside: a pixel is inside when its
    /// palette index (indexed PNG) or any of its colour samples (gray, RGB; alpha is ignored) is nonzero.
    /// EXIF orientation is applied, as for `readImage`.
    public static func readMask(_ url: URL) throws -> (width: Int, height: Int, values: [UInt8]) {
        let raster = try decodeRaster(readData(url), name: url.path)
        let oriented = ExifOrientation.apply(
            raster.orientation, to: raster.mask(), width: raster.width,
            height: raster.height, channels: 1)
        return (oriented.width, oriented.height, oriented.pixels)
    }

    /// Reads the raw palette indices of an indexed PNG (DAVIS masks: index = object id), or the values
    /// of an 8-bit grayscale image, as `np.array(Image.open(path))`; other images throw `.notIndexed`.
    public static func readIndexedMask(_ url: URL) throws -> (width: Int, height: Int, values: [UInt8]) {
        let raster = try decodeRaster(readData(url), name: url.path)
        let (values, problem) = raster.indices()
        guard let values else { throw ImageIOError.notIndexed(path: url.path, detail: problem) }
        let oriented = ExifOrientation.apply(
            raster.orientation, to: values, width: raster.width,
            height: raster.height, channels: 1)
        return (oriented.width, oriented.height, oriented.pixels)
    }

    // MARK: Writing

    /// Writes a mask as an 8-bit grayscale PNG: 0 stays 0, any nonzero value becomes 255.
    public static func writeGrayPNG(_ values: [UInt8], width: Int, height: Int, to url: URL) throws {
        try write(encodeGrayPNG(values, width: width, height: height, name: url.path), to: url)
    }

    /// The bytes of a mask as an 8-bit grayscale PNG (0 stays 0, nonzero becomes 255); `name` is used in errors.
    public static func encodeGrayPNG(_ values: [UInt8], width: Int, height: Int, name: String) throws -> Data {
        let pixels = values.map { $0 == 0 ? UInt8(0) : 255 }
        return try PNGEncoder.encode(pixels, width: width, height: height, kind: .gray, path: name)
    }

    /// Writes an RGB image as an 8-bit RGB PNG.
    public static func writeRGBPNG(_ image: RGBImage, to url: URL) throws {
        try write(encodeRGBPNG(image, name: url.path), to: url)
    }

    /// The bytes of an RGB image as an 8-bit RGB PNG; `name` is used in errors.
    public static func encodeRGBPNG(_ image: RGBImage, name: String) throws -> Data {
        try PNGEncoder.encode(image.pixels, width: image.width, height: image.height, kind: .rgb, path: name)
    }

    /// Writes interleaved RGBA bytes (width·height·4) as an 8-bit RGBA PNG (e.g. a cut-out).
    public static func writeRGBAPNG(_ rgba: [UInt8], width: Int, height: Int, to url: URL) throws {
        try write(PNGEncoder.encode(rgba, width: width, height: height, kind: .rgba, path: url.path), to: url)
    }

    /// Writes palette indices as an 8-bit indexed PNG with `palette` (1...256 entries; every index must
    /// be below `palette.count`). Video outputs use `davisPalette`, as the reference's vos_inference.
    public static func writeIndexedPNG(
        _ indices: [UInt8], width: Int, height: Int,
        palette: [(UInt8, UInt8, UInt8)], to url: URL
    ) throws {
        guard (1...256).contains(palette.count) else {
            throw ImageIOError.invalidArgument(
                path: url.path, detail: "palette has \(palette.count) entries, expected 1...256")
        }
        if let bad = indices.first(where: { Int($0) >= palette.count }) {
            throw ImageIOError.invalidArgument(
                path: url.path, detail: "index \(bad) is outside the \(palette.count)-entry palette")
        }
        let flat = palette.flatMap { [$0.0, $0.1, $0.2] }
        try write(
            PNGEncoder.encode(
                indices, width: width, height: height, kind: .palette, palette: flat,
                path: url.path), to: url)
    }

    /// The DAVIS 2017 palette (the PASCAL VOC colour map): entry i spreads the bits of i over the high
    /// bits of red, green and blue — 0 black, 1 (128, 0, 0), 2 (0, 128, 0), 3 (128, 128, 0), ...
    public static let davisPalette: [(UInt8, UInt8, UInt8)] = (0..<256).map { index in
        var r = 0
        var g = 0
        var b = 0
        var c = index
        for shift in stride(from: 7, through: 0, by: -1) {
            r |= (c & 1) << shift
            g |= (c >> 1 & 1) << shift
            b |= (c >> 2 & 1) << shift
            c >>= 3
        }
        return (UInt8(r), UInt8(g), UInt8(b))
    }

    // MARK: Internals

    static func readData(_ url: URL) throws -> Data {
        do {
            return try Data(contentsOf: url)
        } catch {
            throw ImageIOError.cannotRead(path: url.path, reason: AtomicFile.reason(error))
        }
    }

    static func decodeRaster(_ data: Data, name: String) throws -> DecodedRaster {
        guard !data.isEmpty else { throw ImageIOError.empty(path: name) }
        let head = [UInt8](data.prefix(12))
        func starts(_ magic: [UInt8], at offset: Int = 0) -> Bool {
            head.count >= offset + magic.count && Array(head[offset..<(offset + magic.count)]) == magic
        }
        if starts([0xFF, 0xD8, 0xFF]) { return try JPEGDecoder.decode(data, name: name) }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return try PNGDecoder.decode(data, name: name) }
        let detected: String?
        if starts(Array("GIF8".utf8)) {
            detected = "GIF"
        } else if starts(Array("BM".utf8)) {
            detected = "BMP"
        } else if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) {
            detected = "WebP"
        } else if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) {
            detected = "TIFF"
        } else if starts(Array("ftyp".utf8), at: 4) {
            detected = "HEIF/AVIF/MP4"
        } else {
            detected = nil
        }
        throw ImageIOError.unknownFormat(path: name, detected: detected)
    }

    static func write(_ data: Data, to url: URL) throws {
        do {
            try AtomicFile.write(data, to: url)
        } catch let error as AtomicFileError {
            if case .cannotWrite(let path, let reason) = error {
                throw ImageIOError.cannotWrite(path: path, reason: reason)
            }
            throw error
        }
    }
}
