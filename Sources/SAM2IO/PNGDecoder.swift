// PNGDecoder: decodes PNG (1/2/4/8/16-bit; gray, gray+alpha, RGB, RGBA, palette; interlaced) through
// the C shim in CPNG, row by row, each row converted straight into the form asked for as PIL's
// PngImagePlugin would; the size is checked from the header first. (Interlaced images are read whole:
// every pass revisits every row.)

import CPNG
import Foundation
import SAM2

enum PNGDecoder {
    /// Rows decoded per call into the shim.
    private static let batch = 16

    static func decode(_ data: Data, name: String, target: RasterTarget, limits: ImageLimits) throws -> DecodedImage {
        let d = UnsafeMutablePointer<sam2_png_decoder>.allocate(capacity: 1)
        defer {
            sam2_png_close(d)
            d.deallocate()
        }
        func fail(_ status: Int32) -> ImageIOError {
            decoderError(
                status, truncated: d.pointee.reader.truncated != 0, message: errorText(&d.pointee.errbuf),
                width: Int(d.pointee.width), height: Int(d.pointee.height), path: name, format: "PNG", limits: limits)
        }
        let status = data.withUnsafeBytes { raw in
            sam2_png_open(
                d, raw.bindMemory(to: UInt8.self).baseAddress, raw.count, limits.maxDimension,
                Int64(limits.maxPixels))
        }
        guard status == 0 else { throw fail(status) }
        let layout: RasterFormat.Layout
        switch d.pointee.color_type {
        case PNG_COLOR_TYPE_GRAY: layout = .gray
        case PNG_COLOR_TYPE_GRAY_ALPHA: layout = .grayAlpha
        case PNG_COLOR_TYPE_RGB: layout = .rgb
        case PNG_COLOR_TYPE_RGB_ALPHA: layout = .rgba
        case PNG_COLOR_TYPE_PALETTE: layout = .palette
        default:
            throw ImageIOError.corrupt(path: name, format: "PNG", message: "unknown color type \(d.pointee.color_type)")
        }
        let palette = withUnsafeBytes(of: d.pointee.palette) { [UInt8]($0.prefix(Int(d.pointee.num_palette) * 3)) }
        let format = RasterFormat(
            layout: layout, bitDepth: Int(d.pointee.bit_depth), channels: Int(d.pointee.channels), palette: palette)
        if target == .indices, let problem = format.indexProblem {
            throw ImageIOError.notIndexed(path: name, detail: problem)
        }
        let (width, height, stride) = (Int(d.pointee.width), Int(d.pointee.height), Int(d.pointee.row_bytes))
        let interlaced = d.pointee.interlaced != 0
        let rowsAtOnce = interlaced ? height : min(batch, height)
        let pixels = try format.readRows(
            width: width, height: height, stride: stride, rowsAtOnce: rowsAtOnce, to: target
        ) { rows, count in
            let status = sam2_png_read_rows(d, rows, count)
            if status != 0 { throw fail(status) }
        }
        sam2_png_finish(d)
        let exif = d.pointee.exif.map { [UInt8](UnsafeBufferPointer(start: $0, count: Int(d.pointee.exif_length))) }
        return DecodedImage(width: width, height: height, pixels: pixels, exif: exif)
    }
}
