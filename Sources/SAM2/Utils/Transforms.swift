// SAM2Transforms of sam2/utils/transforms.py: the image to the model's input (to [0, 1], bilinear
// antialiased resize to S×S as torchvision's Resize on a float tensor, ImageNet normalisation),
// prompt coordinates to the input frame, and mask logits back to the original size.

import SAM2Tensor

struct SAM2Transforms: Sendable {
    let resolution: Int
    let maskThreshold: Float
    let maxHoleArea: Int
    let maxSprinkleArea: Int
    let mean: [Float]
    let std: [Float]

    /// An RGB image → the normalised input [1, 3, S, S].
    func image(_ image: RGBImage) -> Tensor {
        let (h, w) = (image.height, image.width)
        let plane = h * w
        var chw = [Float](repeating: 0, count: 3 * plane)
        image.pixels.withUnsafeBufferPointer { px in
            for i in 0..<plane {
                for c in 0..<3 { chw[c * plane + i] = Float(px[i * 3 + c]) / 255 }
            }
        }
        let resized = interpolateBilinear(
            Tensor(shape: [1, 3, h, w], scalars: chw), height: resolution, width: resolution, antialias: true)
        // ref: Normalize — (x - mean) / std per channel
        var out = resized
        let s = resolution * resolution
        out.withUnsafeMutableBufferPointer { p in
            for c in 0..<3 {
                for i in 0..<s { p[c * s + i] = (p[c * s + i] - mean[c]) / std[c] }
            }
        }
        return out
    }

    /// Pixel (or normalised, with `normalized`) x,y pairs → the model's input frame.
    func coordinates(_ xy: [Float], normalized: Bool, originalHeight h: Int, originalWidth w: Int) -> [Float] {
        var out = xy
        for i in stride(from: 0, to: out.count, by: 2) {
            if !normalized {
                out[i] /= Float(w)
                out[i + 1] /= Float(h)
            }
            out[i] *= Float(resolution)
            out[i + 1] *= Float(resolution)
        }
        return out
    }

    /// Low-resolution logits [B, M, s, s] → logits at the original size [B, M, H, W], after hole
    /// filling and speck removal on the low-resolution masks when enabled.
    func postprocessMasks(_ masks: Tensor, originalHeight h: Int, originalWidth w: Int) -> Tensor {
        var masks = masks
        if maxHoleArea > 0 || maxSprinkleArea > 0 {
            let (sh, sw) = (masks.shape[2], masks.shape[3])
            let plane = sh * sw
            masks.withUnsafeMutableBufferPointer { p in
                for start in stride(from: 0, to: p.count, by: plane) {
                    let slice = UnsafeMutableBufferPointer(rebasing: p[start..<(start + plane)])
                    // ref: both kinds of components come from the mask as it was before either fix.
                    let original = Array(slice)
                    if maxHoleArea > 0 {
                        // Holes: background components of at most maxHoleArea pixels.
                        let areas = connectedComponentAreas(original.map { $0 <= maskThreshold }, height: sh, width: sw)
                        for i in 0..<plane where areas[i] > 0 && Int(areas[i]) <= maxHoleArea {
                            slice[i] = maskThreshold + 10
                        }
                    }
                    if maxSprinkleArea > 0 {
                        // Sprinkles: foreground components of at most maxSprinkleArea pixels.
                        let areas = connectedComponentAreas(original.map { $0 > maskThreshold }, height: sh, width: sw)
                        for i in 0..<plane where areas[i] > 0 && Int(areas[i]) <= maxSprinkleArea {
                            slice[i] = maskThreshold - 10
                        }
                    }
                }
            }
        }
        return interpolateBilinear(masks, height: h, width: w, antialias: false)
    }
}
