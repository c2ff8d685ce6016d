// JPEGDecoder: decodes JPEG (baseline or progressive; gray, YCbCr/RGB, CMYK/YCCK) with libjpeg-turbo's
// defaults through the C shim in CJPEG, as PIL's JpegImagePlugin does (same library, same pixels),
// scanlines converted straight into the form asked for; the size is checked from the header first.

import CJPEG
import Foundation
import SAM2

enum JPEGDecoder {
    /// Scanlines decoded per call into the shim.
    private static let batch = 16

    static func decode(_ data: Data, name: String, target: RasterTarget, limits: ImageLimits) throws -> DecodedImage {
        let d = UnsafeMutablePointer<sam2_jpeg_decoder>.allocate(capacity: 1)
        defer {
            sam2_jpeg_close(d)
            d.deallocate()
        }
        func fail(_ status: Int32) -> ImageIOError {
            decoderError(
                status, truncated: d.pointee.jerr.truncated != 0, message: errorText(&d.pointee.errbuf),
                width: Int(d.pointee.width), height: Int(d.pointee.height), path: name, format: "JPEG", limits: limits)
        }
        // libjpeg's own working memory (all coefficients of a progressive image) is held to the budget.
        let status = data.withUnsafeBytes { raw in
            sam2_jpeg_open(
                d, raw.bindMemory(to: UInt8.self).baseAddress, UInt(raw.count), limits.maxDimension,
                Int64(limits.maxPixels), limits.maxDecoderBytes)
        }
        guard status == 0 else { throw fail(status) }
        let (width, height, components) = (Int(d.pointee.width), Int(d.pointee.height), Int(d.pointee.components))
        let layout: RasterFormat.Layout
        switch components {
        case 1: layout = .gray
        case 3: layout = .rgb
        case 4: layout = .invertedCMYK
        default:
            throw ImageIOError.corrupt(path: name, format: "JPEG", message: "unsupported \(components)-component image")
        }
        let format = RasterFormat(layout: layout, bitDepth: 8, channels: components)
        if target == .indices, let problem = format.indexProblem {
            throw ImageIOError.notIndexed(path: name, detail: problem)
        }
        let pixels = try format.readRows(
            width: width, height: height, stride: width * components, rowsAtOnce: min(batch, height), to: target
        ) { rows, count in
            let status = sam2_jpeg_read_rows(d, rows, count)
            if status != 0 { throw fail(status) }
        }
        let finished = sam2_jpeg_finish(d)
        guard finished == 0 else { throw fail(finished) }
        let exif = d.pointee.exif.map { [UInt8](UnsafeBufferPointer(start: $0, count: Int(d.pointee.exif_length))) }
        return DecodedImage(width: width, height: height, pixels: pixels, exif: exif)
    }
}
