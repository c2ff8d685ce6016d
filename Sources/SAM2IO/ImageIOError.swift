// ImageIOError: why an image or mask could not be read or written, one line naming the file.
// The reference raises PIL's errors; these say what was wrong and what to do.

/// An image or mask that could not be read or written. Each description is one line that names the
/// file, says what was wrong and, where it helps, what to do.
public enum ImageIOError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened or read (missing, a directory, no permission).
    case cannotRead(path: String, reason: String)
    /// The file has no bytes at all.
    case empty(path: String)
    /// The content is neither JPEG nor PNG; `detected` names the format when it was recognised.
    case unknownFormat(path: String, detected: String?)
    /// The data ends before the image is complete.
    case truncated(path: String, format: String)
    /// The decoder rejected the data; `message` is the decoder's own (libjpeg / libpng) message.
    case corrupt(path: String, format: String, message: String)
    /// The image is larger than `ImageIO.maxDimension` per side or `ImageIO.maxPixels` in total.
    case tooLarge(path: String, width: Int, height: Int, limits: ImageLimits)
    /// A valid file that `readIndexedMask` cannot turn into indices (e.g. an RGB PNG).
    case notIndexed(path: String, detail: String)
    /// A mask whose size (read from its header) is not the image's.
    case wrongSize(path: String, width: Int, height: Int, expectedWidth: Int, expectedHeight: Int)
    /// A writer was given a buffer or size that does not fit (e.g. 100 bytes for a 13×9 mask).
    case invalidArgument(path: String, detail: String)
    /// Encoding or writing failed; nothing was written.
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotRead(let path, let reason):
            return "cannot read image '\(path)': \(reason)"
        case .empty(let path):
            return "image '\(path)' is empty (0 bytes); expected a JPEG or PNG file"
        case .unknownFormat(let path, let detected):
            if let detected {
                return "image '\(path)' is a \(detected) file; only JPEG and PNG are supported — convert it first"
            }
            return "image '\(path)' is not a JPEG or PNG file (unrecognised content)"
        case .truncated(let path, let format):
            return "image '\(path)' is a truncated \(format) file (the data ends early); re-export or re-download it"
        case .corrupt(let path, let format, let message):
            return "image '\(path)' is a corrupt \(format) file: \(message)"
        case .tooLarge(let path, let width, let height, let limits):
            let megapixels = String(format: "%.1f", Double(width) * Double(height) / 1e6)
            return "image '\(path)' is \(width)×\(height) pixels (\(megapixels) megapixels), above the limit of "
                + "\(limits.maxDimension) per side and \(limits.maxPixels / 1_000_000) megapixels "
                + "(--max-megapixels raises the second; downscale the image otherwise)"
        case .notIndexed(let path, let detail):
            return "mask '\(path)' has no object indices: \(detail); use an 8-bit palette or grayscale PNG"
        case .wrongSize(let path, let width, let height, let expectedWidth, let expectedHeight):
            return "mask '\(path)' is \(width)×\(height) but the image is \(expectedWidth)×\(expectedHeight)"
        case .invalidArgument(let path, let detail):
            return "cannot write '\(path)': \(detail)"
        case .cannotWrite(let path, let reason):
            return "cannot write '\(path)': \(reason)"
        }
    }
}

/// A NUL-terminated C character buffer (a C library's error message) as a Swift string.
func cText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// A C struct's fixed-size character array (imported as a tuple) as a Swift string.
func errorText<T>(_ tuple: inout T) -> String {
    withUnsafeBytes(of: &tuple) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
}

/// The error a C decoder's status (−2 too large, else failure) stands for.
func decoderError(
    _ status: Int32, truncated: Bool, message: String, width: Int, height: Int, path: String, format: String,
    limits: ImageLimits
) -> ImageIOError {
    if status == -2 { return .tooLarge(path: path, width: width, height: height, limits: limits) }
    if truncated { return .truncated(path: path, format: format) }
    return .corrupt(path: path, format: format, message: message)
}
