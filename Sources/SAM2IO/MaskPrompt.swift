// MaskPrompt: a mask prompt read from a file — low-resolution logits (.npy, as `--save-logits` or
// the reference's `low_res_masks` write them) or a mask image of the input's size.

import Foundation
import SAM2

public enum MaskPrompt {
    /// The prompt as [1, side, side] logits for an image of `image`'s size.
    public static func read(_ url: URL, image: RGBImage, side: Int) throws -> Tensor {
        if url.pathExtension.lowercased() == "npy" {
            let (shape, values) = try NPY.read(url)
            guard shape == [side, side] || shape == [1, side, side] else {
                throw PredictorError.maskInputShape(found: shape, expected: [1, side, side])
            }
            return Tensor(shape: [1, side, side], scalars: values)
        }
        let mask = try ImageIO.readMask(url, expectedSize: (image.width, image.height))
        guard mask.width == image.width && mask.height == image.height else {
            throw PredictorError.maskInputShape(
                found: [mask.height, mask.width], expected: [image.height, image.width])
        }
        return SAM2ImagePredictor.maskInput(fromMask: mask.values, width: mask.width, height: mask.height, side: side)
    }
}
