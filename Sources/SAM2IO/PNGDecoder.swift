// PNGDecoder: decodes PNG (1/2/4/8/16-bit; gray, gray+alpha, RGB, RGBA, palette; interlaced) through
// the C shim in CPNG, keeping raw samples so that DecodedRaster converts exactly as PIL's PngImagePlugin.

import CPNG
import Foundation
import SAM2

enum PNGDecoder {
    static func decode(_ data: Data, name: String) throws -> DecodedRaster {
        var result = sam2_png_result()
        var truncated: Int32 = 0
        var errbuf = [CChar](repeating: 0, count: Int(SAM2_PNG_ERRBUF_SIZE))
        let status = data.withUnsafeBytes { raw -> Int32 in
            let bytes = raw.bindMemory(to: UInt8.self)
            return sam2_png_decode(
                bytes.baseAddress, bytes.count, ImageIO.maxDimension,
                Int64(ImageIO.maxPixels), &result, &truncated, &errbuf)
        }
        defer { sam2_png_free(&result) }
        try checkDecoderStatus(
            status, truncated: truncated, message: errbuf, width: Int(result.width),
            height: Int(result.height), path: name, format: "PNG")
        let layout: DecodedRaster.Layout
        switch result.color_type {
        case PNG_COLOR_TYPE_GRAY: layout = .gray
        case PNG_COLOR_TYPE_GRAY_ALPHA: layout = .grayAlpha
        case PNG_COLOR_TYPE_RGB: layout = .rgb
        case PNG_COLOR_TYPE_RGB_ALPHA: layout = .rgba
        case PNG_COLOR_TYPE_PALETTE: layout = .palette
        default:
            throw ImageIOError.corrupt(path: name, format: "PNG", message: "unknown color type \(result.color_type)")
        }
        let height = Int(result.height)
        let rowBytes = Int(result.row_bytes)
        let samples = [UInt8](UnsafeBufferPointer(start: result.pixels, count: rowBytes * height))
        let palette = withUnsafeBytes(of: result.palette) { [UInt8]($0.prefix(Int(result.num_palette) * 3)) }
        let exif = result.exif.map { [UInt8](UnsafeBufferPointer(start: $0, count: Int(result.exif_length))) }
        return DecodedRaster(
            width: Int(result.width), height: height, layout: layout,
            bitDepth: Int(result.bit_depth), channels: Int(result.channels),
            rowBytes: rowBytes, samples: samples, palette: palette, exif: exif)
    }
}
