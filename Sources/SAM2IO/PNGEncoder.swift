// PNGEncoder: encodes 8-bit gray, RGB, RGBA and palette PNGs in memory through the C shim in CPNG;
// ImageIO's writers hand the bytes to AtomicFile. Mask and video outputs of the reference's tools.

import CPNG
import Foundation
import SAM2

enum PNGEncoder {
    enum Kind {
        case gray, rgb, rgba, palette

        var channels: Int {
            switch self {
            case .gray, .palette: return 1
            case .rgb: return 3
            case .rgba: return 4
            }
        }

        var colorType: Int32 {
            switch self {
            case .gray: return PNG_COLOR_TYPE_GRAY
            case .rgb: return PNG_COLOR_TYPE_RGB
            case .rgba: return PNG_COLOR_TYPE_RGB_ALPHA
            case .palette: return PNG_COLOR_TYPE_PALETTE
            }
        }

        var name: String {
            switch self {
            case .gray: return "gray"
            case .rgb: return "RGB"
            case .rgba: return "RGBA"
            case .palette: return "indexed"
            }
        }
    }

    /// PNG bytes for `pixels` (width·height·channels bytes); `palette` holds RGB triples for `.palette`.
    static func encode(
        _ pixels: [UInt8], width: Int, height: Int, kind: Kind, palette: [UInt8] = [],
        path: String
    ) throws -> Data {
        guard width > 0, height > 0, width <= ImageLimits().maxDimension, height <= ImageLimits().maxDimension else {
            throw ImageIOError.invalidArgument(
                path: path,
                detail: "size \(width)×\(height) is not between 1 and \(ImageLimits().maxDimension) per side")
        }
        guard pixels.count == width * height * kind.channels else {
            throw ImageIOError.invalidArgument(
                path: path,
                detail: "expected \(width * height * kind.channels) bytes for a \(width)×\(height) "
                    + "\(kind.name) image, got \(pixels.count)")
        }
        var out: UnsafeMutablePointer<UInt8>? = nil
        var length = 0
        var errbuf = [CChar](repeating: 0, count: Int(SAM2_PNG_ERRBUF_SIZE))
        let status = pixels.withUnsafeBufferPointer { src in
            palette.withUnsafeBufferPointer { pal in
                sam2_png_encode(
                    src.baseAddress, Int32(width), Int32(height), kind.colorType,
                    pal.baseAddress, Int32(pal.count / 3), &out, &length, &errbuf)
            }
        }
        guard status == 0, let out else {
            let message = cText(errbuf)
            throw ImageIOError.cannotWrite(path: path, reason: "PNG encoding failed: \(message)")
        }
        defer { free(out) }
        return Data(bytes: out, count: length)
    }
}
