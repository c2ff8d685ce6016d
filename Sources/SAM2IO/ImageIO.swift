// ImageIO: reads JPEG/PNG images and masks (by content, EXIF orientation applied) and writes mask,
// RGB, RGBA and indexed PNGs atomically. The reference uses PIL (`sam2/utils/misc.py`, `tools/vos_inference.py`).

import Foundation
import SAM2

/// How large an image the readers accept, checked from the file's header before any pixel memory is
/// allocated. Decoding takes about 3 bytes a pixel (RGB) and segmenting about 25 more (three masks'
/// logits at full size, their 0/1 values, the PNG rows), so the default keeps `sam2 segment` under
/// 2 GB: raise `maxPixels` (`--max-megapixels`) for larger images when memory allows.
public struct ImageLimits: Sendable, Equatable {
    /// Widest or tallest image, in pixels.
    public var maxDimension: Int
    /// Most pixels (width × height).
    public var maxPixels: Int

    public init(maxDimension: Int = 65_500, maxPixels: Int = 50_000_000) {
        self.maxDimension = maxDimension
        self.maxPixels = maxPixels
    }

    /// `maxPixels` given in megapixels (as on the command line).
    public init(megapixels: Int) {
        self.init(maxPixels: megapixels * 1_000_000)
    }

    /// libjpeg's working memory (the coefficients of a progressive image, 2 bytes a sample).
    var maxDecoderBytes: Int { max(maxPixels, 1 << 20) * 8 }
}

/// Image and mask files. Readers decode by content (magic bytes), not by extension, and produce what
/// PIL produces (`ImageOps.exif_transpose(Image.open(path)).convert("RGB")`); writers are atomic.
public enum ImageIO {
    // MARK: Reading

    /// Reads a JPEG or PNG file as 8-bit RGB with its EXIF orientation applied.
    public static func readImage(_ url: URL, limits: ImageLimits = ImageLimits()) throws -> RGBImage {
        try decodeImage(readData(url), name: url.path, limits: limits)
    }

    /// Decodes JPEG or PNG bytes as 8-bit RGB with the EXIF orientation applied; `name` is used in errors.
    public static func decodeImage(_ data: Data, name: String, limits: ImageLimits = ImageLimits()) throws -> RGBImage {
        let decoded = try decode(data, name: name, target: .rgb, limits: limits)
        let oriented = ExifOrientation.apply(
            decoded.orientation, to: decoded.pixels, width: decoded.width, height: decoded.height, channels: 3)
        return RGBImage(width: oriented.width, height: oriented.height, pixels: oriented.pixels)
    }

    /// The width and height an image file will decode to (EXIF orientation applied), from its header
    /// alone; nil when the bytes are not a JPEG or PNG whose header reads.
    public static func imageSize(_ data: Data) -> (width: Int, height: Int)? {
        ImageHeader.size(data)
    }

    /// Reads a video frame as 8-bit RGB without applying EXIF orientation, as the reference's video
    /// loader (`Image.open(path).convert("RGB")`) does.
    public static func readFrame(_ url: URL, limits: ImageLimits = ImageLimits()) throws -> RGBImage {
        let decoded = try decode(readData(url), name: url.path, target: .rgb, limits: limits)
        return RGBImage(width: decoded.width, height: decoded.height, pixels: decoded.pixels)
    }

    /// Decodes a video frame's JPEG or PNG bytes as `readFrame` does (no EXIF orientation).
    public static func decodeFrame(_ data: Data, name: String, limits: ImageLimits = ImageLimits()) throws -> RGBImage {
        let decoded = try decode(data, name: name, target: .rgb, limits: limits)
        return RGBImage(width: decoded.width, height: decoded.height, pixels: decoded.pixels)
    }

    /// Reads a mask image as one value per pixel, 1 inside and 0 outside: a pixel is inside when its
    /// palette index (indexed PNG) or any of its colour samples (gray, RGB; alpha is ignored) is nonzero.
    /// EXIF orientation is applied, as for `readImage`. With `expectedSize`, a mask of another size is
    /// refused from its header, before it is decoded.
    public static func readMask(
        _ url: URL, expectedSize: (width: Int, height: Int)? = nil, limits: ImageLimits = ImageLimits()
    ) throws -> (width: Int, height: Int, values: [UInt8]) {
        let data = try readData(url)
        if let expected = expectedSize, let size = ImageHeader.size(data),
            size != expected
        {
            throw ImageIOError.wrongSize(
                path: url.path, width: size.width, height: size.height, expectedWidth: expected.width,
                expectedHeight: expected.height)
        }
        let decoded = try decode(data, name: url.path, target: .mask, limits: limits)
        let oriented = ExifOrientation.apply(
            decoded.orientation, to: decoded.pixels, width: decoded.width, height: decoded.height, channels: 1)
        return (oriented.width, oriented.height, oriented.pixels)
    }

    /// Reads the raw palette indices of an indexed PNG (DAVIS masks: index = object id), or the values
    /// of an 8-bit grayscale image, as `np.array(Image.open(path))`; other images throw `.notIndexed`.
    public static func readIndexedMask(_ url: URL, limits: ImageLimits = ImageLimits()) throws -> (
        width: Int, height: Int, values: [UInt8]
    ) {
        let decoded = try decode(readData(url), name: url.path, target: .indices, limits: limits)
        let oriented = ExifOrientation.apply(
            decoded.orientation, to: decoded.pixels, width: decoded.width, height: decoded.height, channels: 1)
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
        try write(encodeRGBAPNG(rgba, width: width, height: height, name: url.path), to: url)
    }

    /// The bytes of interleaved RGBA (width·height·4) as an 8-bit RGBA PNG; `name` is used in errors.
    public static func encodeRGBAPNG(_ rgba: [UInt8], width: Int, height: Int, name: String) throws -> Data {
        try PNGEncoder.encode(rgba, width: width, height: height, kind: .rgba, path: name)
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

    /// The bytes of an image file (a regular file: a FIFO or a device such as /dev/zero is refused).
    static func readData(_ url: URL) throws -> Data {
        do {
            return try InputFile.read(url)
        } catch {
            throw ImageIOError.cannotRead(path: url.path, reason: error.reason)
        }
    }

    static func decode(_ data: Data, name: String, target: RasterTarget, limits: ImageLimits) throws -> DecodedImage {
        guard !data.isEmpty else { throw ImageIOError.empty(path: name) }
        switch ImageHeader.format(data) {
        case .jpeg: return try JPEGDecoder.decode(data, name: name, target: target, limits: limits)
        case .png: return try PNGDecoder.decode(data, name: name, target: target, limits: limits)
        case .other(let detected): throw ImageIOError.unknownFormat(path: name, detected: detected)
        }
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
