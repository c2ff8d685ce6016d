// The SAM 2 model of sam2/modeling/sam2_base.py: the image encoder, the SAM prompt encoder and
// mask decoder, the tracking modules (SAM2BaseTracking.swift), and the image path of
// `forward_image` (high-resolution features through conv_s0/conv_s1, `no_mem_embed` added to the
// lowest-resolution level). Immutable and shareable.

import Foundation
import SAM2Checkpoint
import SAM2Tensor

/// Features of one or more images as the predictors use them.
public struct ImageFeatures: Sendable {
    /// Lowest-resolution level with `no_mem_embed` added, [B, C, S/16, S/16] (`image_embed`).
    public var imageEmbedding: Tensor
    /// [feat_s0 [B, C/8, S/4, S/4], feat_s1 [B, C/4, S/8, S/8]] (`high_res_feats`), or empty when
    /// the configuration does not use them.
    public var highResFeatures: [Tensor]
}

public struct SAM2Model: Sendable {
    public let configuration: SAM2Configuration
    /// The precision of the image encoder's and the tracking modules' products (see `init`).
    public let precision: Precision
    /// Bytes of the checkpoint's weights as this model holds them — float32, the products' weights
    /// packed in bf16 or int8 — when it was loaded from a file (0 when built from a weight scope).
    public private(set) var weightBytes = 0
    let imageEncoder: ImageEncoder
    let promptEncoder: PromptEncoder
    let maskDecoder: MaskDecoder
    /// `no_mem_embed`, [C].
    let noMemEmbed: Tensor
    let tracking: TrackingModules

    /// Loads a checkpoint (`.pt`, `.safetensors`, Hugging Face layout), detecting its configuration
    /// unless one is given. Every tensor must be used and have the expected shape. `precision` other
    /// than float32 converts the weights of the products once, here (see `init`).
    public static func load(
        checkpoint url: URL, configuration: SAM2Configuration? = nil, precision: Precision = .float32
    ) throws -> SAM2Model {
        let file = try CheckpointFile.open(url)
        let store = try HuggingFaceLayout.officialWeights(file)  // official key names, whatever the layout
        let shapes = Dictionary(uniqueKeysWithValues: store.keys.map { ($0, store.shape(of: $0)!) })
        let config = try configuration ?? SAM2Configuration.detect(shapes: shapes)
        var model = try SAM2Model(store.scoped("", precision: precision), configuration: config)
        try store.verifyAllUsed()
        model.weightBytes = store.heldBytes
        return model
    }

    /// The model of a weight scope, its products in the scope's precision: the image encoder in it;
    /// the memory attention and memory encoder in it, but bf16 for int8 (their long attention over
    /// the memory gains little from int8 linears and its errors accumulate frame after frame); the
    /// prompt encoder and mask decoder in float32 (1.8 GFLOP a prompt: reduced precision would cost
    /// accuracy of every mask for a few milliseconds).
    public init(_ weights: WeightScope, configuration config: SAM2Configuration) throws {
        configuration = config
        precision = weights.precision
        let c = config.hiddenDim
        imageEncoder = try ImageEncoder(weights.scoped("image_encoder"), configuration: config)
        let heads = weights.with(precision: .float32)
        promptEncoder = try PromptEncoder(
            heads.scoped("sam_prompt_encoder"), embedDim: c, embeddingSize: config.imageEmbeddingSize,
            inputImageSize: config.imageSize, maskInChans: config.heads.maskInChans)
        maskDecoder = try MaskDecoder(
            heads.scoped("sam_mask_decoder"), transformerDim: c, configuration: config.heads)
        noMemEmbed = try weights.tensor("no_mem_embed", shape: [1, 1, c]).reshaped([c])
        tracking = try TrackingModules(
            weights.with(precision: precision == .int8 ? .bfloat16 : precision), configuration: config)
    }

    /// Side of the low-resolution mask logits (`maskInput`, `lowResLogits`): 256 at 1024.
    public var maskInputSize: Int { promptEncoder.maskInputSize }

    /// `forward_image` followed by the image predictor's use of it: normalised images
    /// [B, 3, S, S] → image embedding and high-resolution features.
    public func encodeImage(_ image: Tensor) -> ImageFeatures {
        let levels = backboneLevels(image)
        var embedding = levels[levels.count - 1]
        if configuration.memory.directlyAddNoMemEmbed {
            // ref: vision_feats[-1] + no_mem_embed, broadcast over positions
            let (b, c, h, w) = (embedding.shape[0], embedding.shape[1], embedding.shape[2], embedding.shape[3])
            embedding = add(embedding.permuted([0, 2, 3, 1]), noMemEmbed).permuted([0, 3, 1, 2]).reshaped([b, c, h, w])
        }
        let highRes = configuration.heads.useHighResFeatures ? Array(levels.prefix(2)) : []
        return ImageFeatures(imageEmbedding: embedding, highResFeatures: highRes)
    }

    /// `forward_image`: the kept neck levels [B, C_i, h_i, w_i], finest first, with conv_s0 / conv_s1
    /// applied to the two finest.
    func backboneLevels(_ image: Tensor) -> [Tensor] {
        var levels = imageEncoder(image)
        if let convS0 = maskDecoder.convS0, let convS1 = maskDecoder.convS1 {
            levels[0] = convS0(levels[0])
            levels[1] = convS1(levels[1])
        }
        return levels
    }
}
