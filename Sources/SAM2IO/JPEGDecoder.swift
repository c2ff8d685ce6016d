// JPEGDecoder: decodes JPEG (baseline or progressive; gray, YCbCr/RGB, CMYK/YCCK) with libjpeg-turbo's
// defaults through the C shim in CJPEG, as PIL's JpegImagePlugin does (same library, same pixels).

import CJPEG
import Foundation
import SAM2

enum JPEGDecoder {
    static func decode(_ data: Data, name: String) throws -> DecodedRaster {
        var result = sam2_jpeg_result()
        var truncated: Int32 = 0
        var errbuf = [CChar](repeating: 0, count: Int(SAM2_JPEG_ERRBUF_SIZE))
        let status = data.withUnsafeBytes { raw -> Int32 in
            let bytes = raw.bindMemory(to: UInt8.self)
            return sam2_jpeg_decode(
                bytes.baseAddress, UInt(bytes.count), ImageIO.maxDimension,
                Int64(ImageIO.maxPixels), &result, &truncated, &errbuf)
        }
        defer { sam2_jpeg_free(&result) }
        try checkDecoderStatus(
            status, truncated: truncated, message: errbuf, width: Int(result.width),
            height: Int(result.height), path: name, format: "JPEG")
        let width = Int(result.width)
        let height = Int(result.height)
        let channels = Int(result.components)
        let layout: DecodedRaster.Layout
        switch channels {
        case 1: layout = .gray
        case 3: layout = .rgb
        case 4: layout = .invertedCMYK
        default:
            throw ImageIOError.corrupt(path: name, format: "JPEG", message: "unsupported \(channels)-component image")
        }
        let samples = [UInt8](UnsafeBufferPointer(start: result.pixels, count: width * height * channels))
        let exif = result.exif.map { [UInt8](UnsafeBufferPointer(start: $0, count: Int(result.exif_length))) }
        return DecodedRaster(
            width: width, height: height, layout: layout, bitDepth: 8, channels: channels,
            rowBytes: width * channels, samples: samples, palette: [], exif: exif)
    }
}
