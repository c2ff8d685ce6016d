// JPEGEncoder: RGB images → JPEG bytes through libjpeg-turbo (CJPEG's `sam2_jpeg_encode`), for the
// annotation server's video frames; errors are libjpeg's own message.

import CJPEG
import Foundation
import SAM2

extension ImageIO {
    /// The bytes of `image` as a baseline JPEG of `quality` (1…100); `name` is used in errors.
    public static func encodeJPEG(_ image: RGBImage, quality: Int = 90, name: String) throws -> Data {
        var out: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = image.pixels.withUnsafeBufferPointer { pixels in
            sam2_jpeg_encode(
                pixels.baseAddress, Int32(image.width), Int32(image.height), Int32(min(max(quality, 1), 100)), &out,
                &size, &message)
        }
        defer { free(out) }
        guard status == 0, let out else {
            throw ImageIOError.cannotWrite(path: name, reason: "JPEG: " + cText(message))
        }
        return Data(bytes: out, count: Int(size))
    }
}
