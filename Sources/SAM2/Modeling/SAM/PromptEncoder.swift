// The prompt encoder of sam2/modeling/sam/prompt_encoder.py: points and box corners as
// random-Fourier position encodings plus learned label embeddings (sparse), and an input mask
// downscaled by convolutions, or the learned no-mask embedding (dense).

import SAM2Checkpoint
import SAM2Tensor

public struct PromptEncoder: Sendable {
    let embedDim: Int
    let inputImageSize: Int
    let embeddingSize: Int
    let peLayer: PositionEmbeddingRandom
    /// `point_embeddings.0…3`: negative, positive, box top-left, box bottom-right.
    let pointEmbeddings: [Tensor]
    let notAPointEmbed: Tensor
    let noMaskEmbed: Tensor
    let maskConv1: Conv2d
    let maskNorm1: LayerNorm2d
    let maskConv2: Conv2d
    let maskNorm2: LayerNorm2d
    let maskConv3: Conv2d
    /// `get_dense_pe()` token-major, [h·w, C], computed once.
    let densePositionEncoding: Tensor
    /// `no_mask_embed` broadcast to [1, C, h, w], computed once.
    let noMaskDenseEmbedding: Tensor

    init(_ weights: WeightScope, embedDim: Int, embeddingSize: Int, inputImageSize: Int, maskInChans: Int) throws {
        self.embedDim = embedDim
        self.inputImageSize = inputImageSize
        self.embeddingSize = embeddingSize
        peLayer = try PositionEmbeddingRandom(weights.scoped("pe_layer"), numPosFeats: embedDim / 2)
        pointEmbeddings = try (0..<4).map { try embedding(weights, "point_embeddings.\($0)", count: 1, dim: embedDim) }
        notAPointEmbed = try embedding(weights, "not_a_point_embed", count: 1, dim: embedDim)
        noMaskEmbed = try embedding(weights, "no_mask_embed", count: 1, dim: embedDim)
        let down = weights.scoped("mask_downscaling")
        maskConv1 = try Conv2d(down, "0", inputs: 1, outputs: maskInChans / 4, kernel: 2, stride: 2)
        maskNorm1 = try LayerNorm2d(down, "1", channels: maskInChans / 4)
        maskConv2 = try Conv2d(down, "3", inputs: maskInChans / 4, outputs: maskInChans, kernel: 2, stride: 2)
        maskNorm2 = try LayerNorm2d(down, "4", channels: maskInChans)
        maskConv3 = try Conv2d(down, "6", inputs: maskInChans, outputs: embedDim, kernel: 1)
        densePositionEncoding = peLayer.grid(height: embeddingSize, width: embeddingSize)
        let plane = embeddingSize * embeddingSize
        noMaskDenseEmbedding = Tensor(
            shape: [1, embedDim, embeddingSize, embeddingSize],
            scalars: noMaskEmbed.scalars.flatMap { [Float](repeating: $0, count: plane) })
    }

    /// Side of the mask input (4 × the embedding grid: 256 at 1024).
    public var maskInputSize: Int { 4 * embeddingSize }

    /// Points [B, N, 2] in input-image pixels and labels [B][N] (−1 padding, 0 negative,
    /// 1 positive, 2/3 box corners) → [B, N + 1, C]: a padding point is appended, as the
    /// reference does whenever no separate box is given.
    func embedPoints(_ points: Tensor, labels: [[Int]]) -> Tensor {
        let (b, n) = (points.shape[0], points.shape[1])
        var shifted = points.scalars.map { $0 + 0.5 }  // ref: shift to the pixel centre
        var allLabels = labels
        var padded = [Float]()
        padded.reserveCapacity(b * (n + 1) * 2)
        for i in 0..<b {
            padded += shifted[(i * n * 2)..<((i + 1) * n * 2)] + [0, 0]
            allLabels[i].append(-1)
        }
        shifted = padded
        let pe = peLayer.encode(
            pixels: Tensor(shape: [b, n + 1, 2], scalars: shifted),
            imageHeight: inputImageSize, imageWidth: inputImageSize)
        var out = pe.scalars
        let tables = pointEmbeddings.map(\.scalars)
        let notAPoint = notAPointEmbed.scalars
        for i in 0..<b {
            for j in 0...n {
                let base = (i * (n + 1) + j) * embedDim
                let label = allLabels[i][j]
                for c in 0..<embedDim {
                    switch label {
                    case -1: out[base + c] = notAPoint[c]
                    case 0...3: out[base + c] += tables[label][c]
                    default: break
                    }
                }
            }
        }
        return Tensor(shape: [b, n + 1, embedDim], scalars: out)
    }

    /// Mask logits [B, 1, 4h, 4w] → dense embeddings [B, C, h, w].
    func embedMask(_ mask: Tensor) -> Tensor {
        let x = gelu(maskNorm1(maskConv1(mask)))
        return maskConv3(gelu(maskNorm2(maskConv2(x))))
    }

    /// The dense embedding without a mask: `no_mask_embed` at every position, [B, C, h, w].
    func noMaskDense(batch: Int) -> Tensor { noMaskDenseEmbedding.expanded(to: batch, axis: 0) }
}
