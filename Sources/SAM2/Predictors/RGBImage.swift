// RGBImage: an 8-bit RGB image, the input type of the predictors and the output of `ImageIO.readImage`.
// Corresponds to the PIL `Image.convert("RGB")` arrays the reference feeds to `SAM2Transforms`.

/// An 8-bit RGB image, row-major, interleaved (width·height·3 bytes).
public struct RGBImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// `pixels[(y * width + x) * 3 + c]`, c = 0 (red), 1 (green), 2 (blue).
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0, "RGBImage: negative size \(width)×\(height)")
        precondition(
            pixels.count == width * height * 3,
            "RGBImage: \(pixels.count) bytes for \(width)×\(height)×3 = \(width * height * 3)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}
