// MaskRendering: RGBA cut-outs, coloured overlays and bounding boxes of masks, for users.
// The reference draws these in its notebooks (`show_mask`) and `sam2/utils/amg.py` (`batched_mask_to_box`).

import SAM2

/// Renderings of masks (`width·height` bytes, nonzero = inside) over an `RGBImage` of the same size.
public enum MaskRendering {
    /// Overlay colours: the reference notebooks' blue (30, 144, 255) first, then matplotlib's tab10.
    public static let colors: [(UInt8, UInt8, UInt8)] = [
        (30, 144, 255), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
        (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
    ]

    /// RGBA bytes (width·height·4): the image's RGB with alpha 255 inside the mask (outside it with
    /// `invert`); transparent pixels are zeroed (0, 0, 0, 0) so that nothing of the cut-away shows.
    public static func cutout(_ image: RGBImage, mask: [UInt8], invert: Bool = false) -> [UInt8] {
        let count = image.width * image.height
        precondition(
            mask.count == count, "cutout: mask has \(mask.count) values for a \(image.width)×\(image.height) image")
        var out = [UInt8](repeating: 0, count: count * 4)
        for i in 0..<count where (mask[i] != 0) != invert {
            out[4 * i] = image.pixels[3 * i]
            out[4 * i + 1] = image.pixels[3 * i + 1]
            out[4 * i + 2] = image.pixels[3 * i + 2]
            out[4 * i + 3] = 255
        }
        return out
    }

    /// The cut-out cut to the bounding box of the pixels it keeps (the mask's, or with `invert` the
    /// rest's), with the crop's top-left corner in the image. When nothing is kept, the whole image,
    /// transparent.
    public static func croppedCutout(_ image: RGBImage, mask: [UInt8], invert: Bool = false)
        -> (rgba: [UInt8], x: Int, y: Int, width: Int, height: Int)
    {
        let full = cutout(image, mask: mask, invert: invert)
        let kept = invert ? mask.map { $0 == 0 ? UInt8(1) : 0 } : mask
        guard let box = boundingBox(kept, width: image.width, height: image.height) else {
            return (full, 0, 0, image.width, image.height)
        }
        // boundingBox's width and height are last minus first; the crop holds both ends.
        let (w, h) = (box.width + 1, box.height + 1)
        var out = [UInt8]()
        out.reserveCapacity(w * h * 4)
        for y in box.y..<(box.y + h) {
            let start = (y * image.width + box.x) * 4
            out += full[start..<(start + w * 4)]
        }
        return (out, box.x, box.y, w, h)
    }

    /// The image with each mask blended in its colour (`colors[i % colors.count]`, weight `alpha`
    /// clamped to 0...1, later masks on top) and its 1-pixel contour — inside pixels with a 4-neighbour
    /// outside the mask — drawn in the opaque colour.
    /// `masks` may be a lazy sequence: each mask is used once, so they need not all be in memory.
    public static func overlay(
        _ image: RGBImage, masks: some Sequence<[UInt8]>, alpha: Float = 0.5
    ) -> RGBImage {
        let width = image.width
        let height = image.height
        let a = min(max(alpha, 0), 1)
        var out = image.pixels
        for (index, mask) in masks.enumerated() {
            precondition(
                mask.count == width * height,
                "overlay: mask \(index) has \(mask.count) values for a \(width)×\(height) image")
            let color = colors[index % colors.count]
            let rgb = [Float(color.0), Float(color.1), Float(color.2)]
            for y in 0..<height {
                for x in 0..<width where mask[y * width + x] != 0 {
                    let i = y * width + x
                    let contour =
                        (x > 0 && mask[i - 1] == 0) || (x + 1 < width && mask[i + 1] == 0)
                        || (y > 0 && mask[i - width] == 0) || (y + 1 < height && mask[i + width] == 0)
                    for c in 0..<3 {
                        if contour {
                            out[3 * i + c] = UInt8(rgb[c])
                        } else {
                            let blended = Float(out[3 * i + c]) * (1 - a) + rgb[c] * a
                            out[3 * i + c] = UInt8(min(max(blended.rounded(), 0), 255))
                        }
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }

    /// The box of the nonzero pixels as XYWH, nil for an empty mask.
    /// ref: sam2/utils/amg.py batched_mask_to_box + box_xyxy_to_xywh — x1, y1 are the last inside
    /// column and row, so width = x1 - x0 and height = y1 - y0 (a single pixel has width 0), as the
    /// reference's `bbox` records.
    public static func boundingBox(_ mask: [UInt8], width: Int, height: Int) -> (
        x: Int, y: Int, width: Int, height: Int
    )? {
        precondition(mask.count == width * height, "boundingBox: \(mask.count) values for \(width)×\(height)")
        var x0 = width
        var y0 = height
        var x1 = -1
        var y1 = -1
        for y in 0..<height {
            for x in 0..<width where mask[y * width + x] != 0 {
                x0 = min(x0, x)
                x1 = max(x1, x)
                y0 = min(y0, y)
                y1 = max(y1, y)
            }
        }
        guard x1 >= 0 else { return nil }
        return (x0, y0, x1 - x0, y1 - y0)
    }
}
