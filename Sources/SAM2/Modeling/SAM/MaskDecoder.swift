// The mask decoder of sam2/modeling/sam/mask_decoder.py: output tokens (object score, IoU, mask
// tokens) and prompt tokens run through the two-way transformer with the image embedding; the
// image tokens are upscaled 4× (with the high-resolution features) and each mask token's
// hypernetwork MLP turns them into mask logits; heads predict IoU and object presence.

import SAM2Checkpoint
import SAM2Tensor

/// What the decoder returns for B prompts.
public struct MaskDecoderOutput: Sendable {
    /// Mask logits [B, M, 4h, 4w] (M = 3 with multimask output, else 1).
    public var masks: Tensor
    /// Predicted IoU [B, M].
    public var iouPredictions: Tensor
    /// Output tokens for the object pointer [B, M', C] (the reference's `sam_tokens_out`).
    public var samTokens: Tensor
    /// Object-presence logits [B, 1].
    public var objectScoreLogits: Tensor
}

/// The mask decoder's prompt-independent work for one image h×w tokens: the transformer's image
/// tokens and the output upscaling's addends, made once and shared by every prompt without a mask.
struct PreparedDecoderImage: Sendable {
    let tokens: DecoderImageTokens
    let height: Int
    let width: Int
    let addends: UpscalingAddends

    /// Values held.
    var count: Int {
        tokens.keys.count + tokens.tokenToImageKey.count + tokens.tokenToImageValue.count
            + tokens.imageToTokenQuery.count + addends.first.count + addends.second.count
    }
}

public struct MaskDecoder: Sendable {
    let transformerDim: Int
    let numMaskTokens: Int
    let transformer: TwoWayTransformer
    let iouToken: Tensor
    let maskTokens: Tensor
    let objScoreToken: Tensor?
    let upscale1: ConvTranspose2d
    let upscaleNorm: LayerNorm2d
    let upscale2: ConvTranspose2d
    let convS0: Conv2d?
    let convS1: Conv2d?
    let hypernetworks: [MLP]
    let iouPredictionHead: MLP
    let objScoreHead: MLP?
    let objScoreLinear: Linear?
    let heads: SAMHeadsConfiguration

    init(_ weights: WeightScope, transformerDim c: Int, configuration heads: SAMHeadsConfiguration) throws {
        transformerDim = c
        numMaskTokens = heads.numMultimaskOutputs + 1
        self.heads = heads
        transformer = try TwoWayTransformer(
            weights.scoped("transformer"), depth: heads.transformerDepth, embeddingDim: c,
            numHeads: heads.transformerHeads, mlpDim: heads.transformerMLPDim,
            downsampleRate: heads.attentionDownsampleRate, eps: heads.layerNormEps)
        iouToken = try embedding(weights, "iou_token", count: 1, dim: c)
        maskTokens = try embedding(weights, "mask_tokens", count: numMaskTokens, dim: c)
        objScoreToken = heads.predObjScores ? try embedding(weights, "obj_score_token", count: 1, dim: c) : nil
        let up = weights.scoped("output_upscaling")
        upscale1 = try ConvTranspose2d(up, "0", inputs: c, outputs: c / 4)
        upscaleNorm = try LayerNorm2d(up, "1", channels: c / 4)
        upscale2 = try ConvTranspose2d(up, "3", inputs: c / 4, outputs: c / 8)
        convS0 = heads.useHighResFeatures ? try Conv2d(weights, "conv_s0", inputs: c, outputs: c / 8, kernel: 1) : nil
        convS1 = heads.useHighResFeatures ? try Conv2d(weights, "conv_s1", inputs: c, outputs: c / 4, kernel: 1) : nil
        hypernetworks = try (0..<numMaskTokens).map {
            try MLP(
                weights, "output_hypernetworks_mlps.\($0)", inputDim: c, hiddenDim: c, outputDim: c / 8, numLayers: 3)
        }
        iouPredictionHead = try MLP(
            weights, "iou_prediction_head", inputDim: c, hiddenDim: heads.iouHeadHiddenDim,
            outputDim: numMaskTokens, numLayers: heads.iouHeadDepth, sigmoidOutput: heads.iouPredictionUseSigmoid)
        if heads.predObjScores && heads.predObjScoresMLP {
            objScoreHead = try MLP(
                weights, "pred_obj_score_head", inputDim: c, hiddenDim: c, outputDim: 1, numLayers: 3)
            objScoreLinear = nil
        } else {
            objScoreHead = nil
            objScoreLinear =
                heads.predObjScores ? try Linear(weights, "pred_obj_score_head", inputs: c, outputs: 1) : nil
        }
    }

    /// Runs the decoder for B prompt sets on one image.
    /// - imageEmbedding [1 or B, C, h, w] (repeated over the prompts when 1), imagePE token-major [hw, C]
    ///   (`PromptEncoder.densePositionEncoding`),
    ///   sparse [B, N, C], dense [B, C, h, w], highRes [feat_s0 [1|B, C/8, 4h, 4w], feat_s1 [1|B, C/4, 2h, 2w]].
    func callAsFunction(
        imageEmbedding: Tensor, imagePE: Tensor, sparse: Tensor, dense: Tensor,
        multimaskOutput: Bool, highResFeatures: [Tensor]?
    ) -> MaskDecoderOutput {
        let tokens = promptTokens(sparse)
        let src = add(imageEmbedding.expanded(to: tokens.shape[0], axis: 0), dense)
        let (hs, imageTokens) = transformer(image: src, imagePE: imagePE, tokens: tokens)
        let (h, w) = (imageEmbedding.shape[2], imageEmbedding.shape[3])
        return outputs(
            hs: hs, imageTokens: imageTokens, height: h, width: w, multimaskOutput: multimaskOutput,
            addends: upscalingAddends(highResFeatures: highResFeatures, height: h, width: w))
    }

    /// The same for prompts without a mask input, on an image prepared once by
    /// `prepared(imageEmbedding:imagePE:dense:highResFeatures:)` (identical results, less work per prompt).
    func callAsFunction(
        prepared: PreparedDecoderImage, imagePE: Tensor, sparse: Tensor, multimaskOutput: Bool
    ) -> MaskDecoderOutput {
        let (hs, imageTokens) = transformer(
            imageTokens: prepared.tokens, imagePE: imagePE, tokens: promptTokens(sparse))
        return outputs(
            hs: hs, imageTokens: imageTokens, height: prepared.height, width: prepared.width,
            multimaskOutput: multimaskOutput, addends: prepared.addends)
    }

    /// The prompt-independent part of the decoder for one image [1, C, h, w], a dense embedding
    /// shared by every prompt (the no-mask embedding) and the image's high-resolution features.
    func prepared(imageEmbedding: Tensor, imagePE: Tensor, dense: Tensor, highResFeatures: [Tensor]?)
        -> PreparedDecoderImage
    {
        let (h, w) = (imageEmbedding.shape[2], imageEmbedding.shape[3])
        return PreparedDecoderImage(
            tokens: transformer.imageTokens(image: add(imageEmbedding, dense), imagePE: imagePE), height: h, width: w,
            addends: upscalingAddends(highResFeatures: highResFeatures, height: h, width: w))
    }

    /// The upscaling's biases and high-resolution features [feat_s0, feat_s1] in its products' order.
    private func upscalingAddends(highResFeatures: [Tensor]?, height h: Int, width w: Int) -> UpscalingAddends {
        SAM2Tensor.upscalingAddends(
            firstBias: upscale1.bias, secondBias: upscale2.bias,
            residuals: highResFeatures.map { (first: $0[1], second: $0[0]) }, height: h, width: w,
            stride: upscale1.weight.shape[2])
    }

    /// Output tokens ([obj_score], iou, mask tokens) followed by the prompt tokens, [B, T, C].
    private func promptTokens(_ sparse: Tensor) -> Tensor {
        let c = transformerDim
        var outputTokens = [iouToken, maskTokens]
        if let objScoreToken { outputTokens.insert(objScoreToken, at: 0) }
        let fixed = Tensor.concatenate(outputTokens, axis: 0)
        return Tensor.concatenate(
            [fixed.reshaped([1, fixed.shape[0], c]).expanded(to: sparse.shape[0], axis: 0), sparse], axis: 1)
    }

    /// Upscaling, hypernetworks and heads on the transformer's output tokens hs [B, T, C] and image
    /// tokens [B, hw, C].
    private func outputs(
        hs: Tensor, imageTokens: Tensor, height h: Int, width w: Int, multimaskOutput: Bool,
        addends: UpscalingAddends
    ) -> MaskDecoderOutput {
        let b = hs.shape[0]
        let c = transformerDim
        let s = objScoreToken == nil ? 0 : 1
        let iouTokenOut = hs.slice(axis: 1, s..<(s + 1)).reshaped([b, c])
        let maskTokensOut = hs.slice(axis: 1, (s + 1)..<(s + 1 + numMaskTokens))

        // Hypernetworks: one MLP per mask token → [B, T, C/8]; masks = hyper_in @ upscaled, the
        // upscaling (with the high-resolution features) and the product in one pass.
        let hyperIn = Tensor.concatenate(
            (0..<numMaskTokens).map {
                hypernetworks[$0](maskTokensOut.slice(axis: 1, $0..<($0 + 1)))
            }, axis: 1)
        let masks = upscaledMasks(
            tokens: imageTokens, height: h, width: w, firstWeight: upscale1.weight, normWeight: upscaleNorm.weight,
            normBias: upscaleNorm.bias, eps: upscaleNorm.eps, secondWeight: upscale2.weight, addends: addends,
            hyper: hyperIn)
        let iouPred = iouPredictionHead(iouTokenOut)
        let objectScores: Tensor
        if let objScoreHead {
            objectScores = objScoreHead(hs.slice(axis: 1, 0..<1).reshaped([b, c]))
        } else if let objScoreLinear {
            objectScores = objScoreLinear(hs.slice(axis: 1, 0..<1).reshaped([b, c]))
        } else {
            objectScores = Tensor(shape: [b, 1], repeating: 10)
        }

        var outMasks: Tensor
        var outIoU: Tensor
        if multimaskOutput {
            outMasks = masks.slice(axis: 1, 1..<numMaskTokens)
            outIoU = iouPred.slice(axis: 1, 1..<numMaskTokens)
        } else if heads.dynamicMultimaskViaStability {
            (outMasks, outIoU) = dynamicMultimaskViaStability(masks, iouPred)
        } else {
            outMasks = masks.slice(axis: 1, 0..<1)
            outIoU = iouPred.slice(axis: 1, 0..<1)
        }
        let samTokens =
            multimaskOutput && heads.useMultimaskTokenForObjPtr
            ? maskTokensOut.slice(axis: 1, 1..<numMaskTokens) : maskTokensOut.slice(axis: 1, 0..<1)
        return MaskDecoderOutput(
            masks: outMasks, iouPredictions: outIoU, samTokens: samTokens, objectScoreLogits: objectScores)
    }

    /// The share of pixels above +δ among those above −δ (1 when none is above −δ), per mask.
    static func stabilityScores(_ logits: Tensor, delta: Float) -> [Float] {
        let plane = logits.shape[logits.rank - 2] * logits.shape[logits.rank - 1]
        let values = logits.scalars
        return stride(from: 0, to: values.count, by: plane).map { start in
            var inner = 0
            var outer = 0
            for v in values[start..<(start + plane)] {
                if v > delta { inner += 1 }
                if v > -delta { outer += 1 }
            }
            return outer > 0 ? Float(inner) / Float(outer) : 1
        }
    }

    /// Single-mask output: token 0's mask when it is stable, else the best multimask output by IoU.
    func dynamicMultimaskViaStability(_ masks: Tensor, _ iou: Tensor) -> (Tensor, Tensor) {
        let b = masks.shape[0]
        let stability = MaskDecoder.stabilityScores(
            masks.slice(axis: 1, 0..<1), delta: heads.dynamicMultimaskStabilityDelta)
        let scores = iou.scalars
        var chosenMasks: [Tensor] = []
        var chosenIoU: [Float] = []
        for i in 0..<b {
            let row = Array(scores[(i * numMaskTokens)..<((i + 1) * numMaskTokens)])
            var best = 1
            for t in 2..<numMaskTokens where row[t] > row[best] { best = t }  // ref: argmax, first maximum
            let pick = stability[i] >= heads.dynamicMultimaskStabilityThresh ? 0 : best
            chosenMasks.append(masks.slice(axis: 0, i..<(i + 1)).slice(axis: 1, pick..<(pick + 1)))
            chosenIoU.append(row[pick])
        }
        return (Tensor.concatenate(chosenMasks, axis: 0), Tensor(shape: [b, 1], scalars: chosenIoU))
    }
}
