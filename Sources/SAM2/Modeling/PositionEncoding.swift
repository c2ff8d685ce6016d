// Position encodings of sam2/modeling/position_encoding.py: the sine encoding of feature maps
// (FPN neck, memory encoder), the random-Fourier encoding of prompts and the dense grid, and the
// axial rotary tables of the memory attention.

import Foundation
import SAM2Checkpoint
import SAM2Tensor

/// `PositionEmbeddingSine` with `normalize=True` and scale 2π: [C, H, W] for a map of size H×W.
struct PositionEmbeddingSine: Sendable {
    let numPosFeats: Int
    let temperature: Float

    /// The encoding of an H×W map, [numPosFeats, H, W] (y features first, then x).
    func callAsFunction(height: Int, width: Int) -> Tensor {
        let half = numPosFeats / 2
        let scale = 2 * Float.pi
        let eps: Float = 1e-6
        // ref: dim_t = temperature ** (2 * (i // 2) / half)
        let dimT = (0..<half).map { powf(temperature, Float(2 * ($0 / 2)) / Float(half)) }
        var values = [Float](repeating: 0, count: numPosFeats * height * width)
        func encode(_ position: Float, _ channel: Int) -> Float {
            let v = position / dimT[channel]
            return channel % 2 == 0 ? sinf(v) : cosf(v)
        }
        for y in 0..<height {
            // ref: cumulative position (1-based) divided by the last one (+eps), times 2π
            let ye = Float(y + 1) / (Float(height) + eps) * scale
            for x in 0..<width {
                let xe = Float(x + 1) / (Float(width) + eps) * scale
                for c in 0..<half {
                    values[(c * height + y) * width + x] = encode(ye, c)
                    values[((half + c) * height + y) * width + x] = encode(xe, c)
                }
            }
        }
        return Tensor(shape: [numPosFeats, height, width], scalars: values)
    }
}

/// `PositionEmbeddingRandom`: Fourier features of coordinates through a random Gaussian matrix
/// (`positional_encoding_gaussian_matrix`, [2, C/2]).
struct PositionEmbeddingRandom: Sendable {
    let gaussianMatrix: Tensor

    init(_ weights: WeightScope, numPosFeats: Int) throws {
        gaussianMatrix = try weights.tensor("positional_encoding_gaussian_matrix", shape: [2, numPosFeats])
    }

    /// Coordinates normalised to [0, 1], [..., 2] → [..., 2 · numPosFeats] (sin then cos).
    func encode(_ coords: Tensor) -> Tensor {
        let n = coords.count / 2
        let feats = gaussianMatrix.shape[1]
        let g = gaussianMatrix.scalars
        let c = coords.scalars
        var out = [Float](repeating: 0, count: n * 2 * feats)
        for i in 0..<n {
            let x = 2 * c[2 * i] - 1
            let y = 2 * c[2 * i + 1] - 1
            for f in 0..<feats {
                // ref: coords @ G, then 2π, then [sin, cos]
                let v = 2 * Float.pi * (x * g[f] + y * g[feats + f])
                out[i * 2 * feats + f] = sinf(v)
                out[i * 2 * feats + feats + f] = cosf(v)
            }
        }
        return Tensor(shape: Array(coords.shape.dropLast()) + [2 * feats], scalars: out)
    }

    /// The dense encoding of an H×W grid at pixel centres, token-major [H·W, C].
    func grid(height: Int, width: Int) -> Tensor {
        var coords = [Float](repeating: 0, count: height * width * 2)
        for y in 0..<height {
            for x in 0..<width {
                coords[(y * width + x) * 2] = (Float(x) + 0.5) / Float(width)
                coords[(y * width + x) * 2 + 1] = (Float(y) + 0.5) / Float(height)
            }
        }
        return encode(Tensor(shape: [height * width, 2], scalars: coords))
    }

    /// Pixel coordinates in an image of `imageSize` (H, W), [B, N, 2] → [B, N, C].
    func encode(pixels coords: Tensor, imageHeight: Int, imageWidth: Int) -> Tensor {
        var c = coords.scalars
        for i in stride(from: 0, to: c.count, by: 2) {
            c[i] /= Float(imageWidth)
            c[i + 1] /= Float(imageHeight)
        }
        return encode(Tensor(shape: coords.shape, scalars: c))
    }
}

/// `compute_axial_cis`: rotation angles for a width×height grid (token t at x = t mod width,
/// y = t div width); the first D/4 channel pairs turn with x, the next D/4 with y.
struct AxialRoPE: Sendable {
    let dim: Int
    let theta: Float
    /// The tables of the configured feature grid (`feat_sizes`), made once.
    private let common: (width: Int, height: Int, cos: Tensor, sin: Tensor)

    init(dim: Int, theta: Float, featureSize: [Int]) {
        self.dim = dim
        self.theta = theta
        let (w, h) = (featureSize[0], featureSize[1])
        let t = AxialRoPE.computeTables(dim: dim, theta: theta, width: w, height: h)
        common = (w, h, t.cos, t.sin)
    }

    /// cos and sin of the angles, [width · height, dim / 2] each.
    func tables(width: Int, height: Int) -> (cos: Tensor, sin: Tensor) {
        if width == common.width && height == common.height { return (common.cos, common.sin) }
        return AxialRoPE.computeTables(dim: dim, theta: theta, width: width, height: height)
    }

    private static func computeTables(dim: Int, theta: Float, width: Int, height: Int) -> (cos: Tensor, sin: Tensor) {
        let quarter = dim / 4
        // ref: 1 / theta^(arange(0, dim, 4)[:dim/4] / dim), in float32
        let freqs = (0..<quarter).map { 1 / powf(theta, Float(4 * $0) / Float(dim)) }
        let n = width * height
        var c = [Float](repeating: 0, count: n * 2 * quarter)
        var s = c
        for t in 0..<n {
            let (x, y) = (Float(t % width), Float(t / width))
            for j in 0..<quarter {
                let ax = x * freqs[j]
                let ay = y * freqs[j]
                c[t * 2 * quarter + j] = cosf(ax)
                s[t * 2 * quarter + j] = sinf(ax)
                c[t * 2 * quarter + quarter + j] = cosf(ay)
                s[t * 2 * quarter + quarter + j] = sinf(ay)
            }
        }
        return (Tensor(shape: [n, 2 * quarter], scalars: c), Tensor(shape: [n, 2 * quarter], scalars: s))
    }
}
