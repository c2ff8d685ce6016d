// Memory encoder of sam2/modeling/memory_encoder.py: a frame's mask (through a sigmoid unless it
// is already a probability) is downsampled by strided convolutions and added to the projected
// image features; two ConvNeXt blocks fuse them and a 1×1 conv projects to the memory width.

import SAM2Checkpoint
import SAM2Tensor

/// `MaskDownSampler`: (conv stride s → LayerNorm2d → GELU) × log_s(total stride), then a 1×1 conv.
struct MaskDownSampler: Sendable {
    let stages: [(conv: Conv2d, norm: LayerNorm2d)]
    let final: Conv2d

    init(_ weights: WeightScope, embedDim: Int, kernel: Int, stride: Int, padding: Int, totalStride: Int) throws {
        var layers = 0
        var reach = 1
        while reach < totalStride {
            reach *= stride
            layers += 1
        }
        precondition(reach == totalStride, "mask downsampler: total stride \(totalStride) is not a power of \(stride)")
        let encoder = weights.scoped("encoder")
        var channels = 1
        var stages: [(Conv2d, LayerNorm2d)] = []
        for i in 0..<layers {
            let out = channels * stride * stride
            stages.append(
                (
                    try Conv2d(
                        encoder, "\(3 * i)", inputs: channels, outputs: out, kernel: kernel, stride: stride,
                        padding: padding),
                    try LayerNorm2d(encoder, "\(3 * i + 1)", channels: out)
                ))
            channels = out
        }
        self.stages = stages
        final = try Conv2d(encoder, "\(3 * layers)", inputs: channels, outputs: embedDim, kernel: 1)
    }

    /// [B, 1, H, W] → [B, embedDim, H / total, W / total]
    func callAsFunction(_ x: Tensor) -> Tensor {
        var x = x
        for stage in stages { x = gelu(stage.norm(stage.conv(x))) }
        return final(x)
    }
}

/// `CXBlock`: depthwise conv, LayerNorm2d, pointwise MLP (as linear layers on channels-last
/// tokens), layer scale `gamma`, residual.
struct CXBlock: Sendable {
    let dwconv: Conv2d
    let norm: LayerNorm2d
    let pwconv1: Linear
    let pwconv2: Linear
    let gamma: Tensor

    init(_ weights: WeightScope, dim: Int, kernel: Int, padding: Int) throws {
        dwconv = try Conv2d(weights, "dwconv", inputs: dim, outputs: dim, kernel: kernel, padding: padding, groups: dim)
        norm = try LayerNorm2d(weights, "norm", channels: dim)
        pwconv1 = try Linear(weights, "pwconv1", inputs: dim, outputs: 4 * dim)
        pwconv2 = try Linear(weights, "pwconv2", inputs: 4 * dim, outputs: dim)
        gamma = try weights.tensor("gamma", shape: [dim])
    }

    /// [B, C, H, W] → [B, C, H, W]
    func callAsFunction(_ input: Tensor) -> Tensor {
        let x = norm(dwconv(input)).permuted([0, 2, 3, 1])
        let y = mul(pwconv2(gelu(pwconv1(x))), gamma).permuted([0, 3, 1, 2])
        return add(input, y)
    }
}

/// `MemoryEncoder`: the memory features of a frame and their sine position encoding.
public struct MemoryEncoder: Sendable {
    let maskDownsampler: MaskDownSampler
    let pixFeatProj: Conv2d
    let fuser: [CXBlock]
    let outProj: Conv2d?
    let positionEncoding: PositionEmbeddingSine

    init(_ weights: WeightScope, configuration config: SAM2Configuration) throws {
        let m = config.memory
        let c = config.hiddenDim
        maskDownsampler = try MaskDownSampler(
            weights.scoped("mask_downsampler"), embedDim: c, kernel: m.maskDownsamplerKernel,
            stride: m.maskDownsamplerStride, padding: m.maskDownsamplerPadding,
            totalStride: m.maskDownsamplerTotalStride)
        pixFeatProj = try Conv2d(weights, "pix_feat_proj", inputs: c, outputs: c, kernel: 1)
        fuser = try (0..<m.fuserLayers).map {
            try CXBlock(weights.scoped("fuser.layers.\($0)"), dim: c, kernel: m.fuserKernel, padding: m.fuserPadding)
        }
        outProj = m.memDim != c ? try Conv2d(weights, "out_proj", inputs: c, outputs: m.memDim, kernel: 1) : nil
        positionEncoding = PositionEmbeddingSine(numPosFeats: m.memDim, temperature: config.neck.positionTemperature)
    }

    /// pixFeat [B, C, h, w], masks [B, 1, 16h, 16w] (logits, or probabilities with skipMaskSigmoid)
    /// → memory features [B, memDim, h, w] and their position encoding [memDim, h, w]
    func callAsFunction(pixFeat: Tensor, masks: Tensor, skipMaskSigmoid: Bool) -> (features: Tensor, position: Tensor) {
        self(projectedPixFeat: pixFeatProj(pixFeat), masks: masks, skipMaskSigmoid: skipMaskSigmoid)
    }

    /// The same from `pixFeatProj(pixFeat)`, which depends on the frame alone (shared by its objects).
    func callAsFunction(projectedPixFeat: Tensor, masks: Tensor, skipMaskSigmoid: Bool)
        -> (features: Tensor, position: Tensor)
    {
        let m = maskDownsampler(skipMaskSigmoid ? masks : sigmoid(masks))
        var x = add(projectedPixFeat, m)
        for block in fuser { x = block(x) }
        if let outProj { x = outProj(x) }
        return (x, positionEncoding(height: x.shape[2], width: x.shape[3]))
    }
}
