// The two-way transformer of sam2/modeling/sam/transformer.py: prompt tokens and image tokens
// attend to each other (self-attention of tokens, token→image, MLP, image→token), then a final
// token→image attention. `Attention` projects to a possibly downsampled internal width;
// `RoPEAttention` (used by the memory attention) adds axial rotary position encoding.

import SAM2Checkpoint
import SAM2Tensor

/// `Attention`: multi-head attention with q/k/v/out projections (internal width = dim / downsample),
/// its products in the scope's precision.
struct Attention: Sendable {
    let numHeads: Int
    let internalDim: Int
    let precision: Precision
    let qProj: Linear
    let kProj: Linear
    let vProj: Linear
    let outProj: Linear

    init(_ weights: WeightScope, embeddingDim: Int, numHeads: Int, downsampleRate: Int = 1, kvInDim: Int? = nil) throws
    {
        self.numHeads = numHeads
        internalDim = embeddingDim / downsampleRate
        precision = weights.precision
        qProj = try Linear(weights, "q_proj", inputs: embeddingDim, outputs: internalDim)
        kProj = try Linear(weights, "k_proj", inputs: kvInDim ?? embeddingDim, outputs: internalDim)
        vProj = try Linear(weights, "v_proj", inputs: kvInDim ?? embeddingDim, outputs: internalDim)
        outProj = try Linear(weights, "out_proj", inputs: internalDim, outputs: embeddingDim)
    }

    /// [B, N, C] → [B, heads, N, C / heads]
    func separateHeads(_ x: Tensor) -> Tensor {
        x.reshaped([x.shape[0], x.shape[1], numHeads, x.shape[2] / numHeads]).permuted([0, 2, 1, 3])
    }

    /// [B, heads, N, c] → [B, N, heads · c]
    func recombineHeads(_ x: Tensor) -> Tensor {
        x.permuted([0, 2, 1, 3]).reshaped([x.shape[0], x.shape[2], x.shape[1] * x.shape[3]])
    }

    /// q [B, Nq, C], k and v [B, Nk, C_kv] → [B, Nq, C]
    func callAsFunction(q: Tensor, k: Tensor, v: Tensor) -> Tensor {
        attend(projectedQuery: qProj(q), projectedKey: kProj(k), projectedValue: vProj(v))
    }

    /// Few tokens q [B, T, C] attending to image tokens k, v [1 or B, N, C] → [B, T, C]. With few
    /// tokens the keys' and values' projections fold into the tokens' side (float32).
    func tokensToImage(q: Tensor, k: Tensor, v: Tensor) -> Tensor {
        guard precision == .float32, folds(tokens: q.shape[1], channels: k.shape[2]) else {
            return self(q: q, k: k, v: v)
        }
        return outProj(
            foldedKeyValueAttention(
                query: qProj(q), heads: numHeads, keyWeight: kProj.weight.dequantized,
                valueWeight: vProj.weight.dequantized, valueBias: vProj.bias, keys: k, values: v))
    }

    /// Image tokens q [1 or B, N, C] (or their query projections made beforehand, [1 or B, N,
    /// internalDim]) attending to few tokens k, v [B, T, C] → [B, N, C]. With few tokens the
    /// output projection (and the query projection when it is not given) folds into the tokens' side.
    func imageToTokens(q: Tensor?, projectedQuery: Tensor? = nil, k: Tensor, v: Tensor) -> Tensor {
        let (keys, values) = (kProj(k), vProj(v))
        guard precision == .float32, folds(tokens: k.shape[1], channels: outProj.weight.outputs) else {
            let query = projectedQuery?.expanded(to: k.shape[0], axis: 0) ?? qProj(q!)
            return attend(projectedQuery: query, projectedKey: keys, projectedValue: values)
        }
        return foldedQueryOutputAttention(
            queries: q, projectedQuery: projectedQuery, queryWeight: qProj.weight.dequantized, queryBias: qProj.bias,
            heads: numHeads, keys: keys, values: values, outputWeight: outProj.weight.dequantized,
            outputBias: outProj.bias)
    }

    private func folds(tokens: Int, channels: Int) -> Bool {
        foldedAttentionPays(tokens: tokens, heads: numHeads, width: internalDim, channels: channels)
    }

    /// Attention on projections already made: [B, N, internalDim] each → [B, Nq, C]
    func attend(projectedQuery q: Tensor, projectedKey k: Tensor, projectedValue v: Tensor) -> Tensor {
        // Heads are read in place from the projections and the output comes back token-major.
        let out = scaledDotProductAttention(
            query: AttentionOperand(tokenMajor: q, heads: numHeads),
            key: AttentionOperand(tokenMajor: k, heads: numHeads),
            value: AttentionOperand(tokenMajor: v, heads: numHeads), precision: precision)
        return outProj(out)
    }
}

/// The part of the mask decoder's work that depends on the image alone (no prompt): the image
/// tokens (embedding + no-mask embedding, token-major) and the first layer's projections of them.
/// Computed once per image, it serves every prompt without a mask input.
struct DecoderImageTokens: Sendable {
    /// [1, HW, C]
    let keys: Tensor
    /// The first layer's token→image key and value projections and image→token query projection,
    /// [1, HW, C_internal] each.
    let tokenToImageKey: Tensor
    let tokenToImageValue: Tensor
    let imageToTokenQuery: Tensor
}

/// `TwoWayAttentionBlock`.
struct TwoWayAttentionBlock: Sendable {
    let selfAttn: Attention
    let norm1: LayerNorm
    let crossAttnTokenToImage: Attention
    let norm2: LayerNorm
    let mlp: MLP
    let norm3: LayerNorm
    let norm4: LayerNorm
    let crossAttnImageToToken: Attention
    let skipFirstLayerPE: Bool

    init(
        _ weights: WeightScope, embeddingDim c: Int, numHeads: Int, mlpDim: Int, downsampleRate: Int, eps: Float,
        skipFirstLayerPE: Bool
    ) throws {
        selfAttn = try Attention(weights.scoped("self_attn"), embeddingDim: c, numHeads: numHeads)
        norm1 = try LayerNorm(weights, "norm1", dim: c, eps: eps)
        crossAttnTokenToImage = try Attention(
            weights.scoped("cross_attn_token_to_image"), embeddingDim: c, numHeads: numHeads,
            downsampleRate: downsampleRate)
        norm2 = try LayerNorm(weights, "norm2", dim: c, eps: eps)
        mlp = try MLP(weights, "mlp", inputDim: c, hiddenDim: mlpDim, outputDim: c, numLayers: 2, activation: .relu)
        norm3 = try LayerNorm(weights, "norm3", dim: c, eps: eps)
        norm4 = try LayerNorm(weights, "norm4", dim: c, eps: eps)
        crossAttnImageToToken = try Attention(
            weights.scoped("cross_attn_image_to_token"), embeddingDim: c, numHeads: numHeads,
            downsampleRate: downsampleRate)
        self.skipFirstLayerPE = skipFirstLayerPE
    }

    /// queries [B, T, C], keys [B, HW, C] → updated (queries, keys). `projected` holds this block's
    /// projections of `keys` when they were made beforehand (the first block, see DecoderImageTokens).
    func callAsFunction(
        queries: Tensor, keys: Tensor, queryPE: Tensor, keyPE: Tensor,
        projected: DecoderImageTokens? = nil
    ) -> (Tensor, Tensor) {
        var queries = queries
        var keys = keys
        let b = keys.shape[0]
        if skipFirstLayerPE {
            queries = selfAttn(q: queries, k: queries, v: queries)
        } else {
            let q = add(queries, queryPE)
            queries = add(queries, selfAttn(q: q, k: q, v: queries))
        }
        queries = norm1(queries)
        var q = add(queries, queryPE)
        // The keys with their position encoding serve both cross-attentions of the block.
        let keysWithPE = projected == nil ? add(keys, keyPE) : nil
        let tokenToImage: Tensor
        if let p = projected {
            tokenToImage = crossAttnTokenToImage.attend(
                projectedQuery: crossAttnTokenToImage.qProj(q),
                projectedKey: p.tokenToImageKey.expanded(to: b, axis: 0),
                projectedValue: p.tokenToImageValue.expanded(to: b, axis: 0))
        } else {
            tokenToImage = crossAttnTokenToImage.tokensToImage(q: q, k: keysWithPE!, v: keys)
        }
        queries = norm2(queries, adding: tokenToImage).normalized
        queries = norm3(mlp(queries, residual: queries))
        q = add(queries, queryPE)
        let imageToToken = crossAttnImageToToken.imageToTokens(
            q: keysWithPE, projectedQuery: projected?.imageToTokenQuery, k: q, v: queries)
        keys = norm4(keys, adding: imageToToken).normalized
        return (queries, keys)
    }

    /// This block's projections of the image tokens `keys` [1, HW, C] (they depend on no prompt).
    func projections(ofKeys keys: Tensor, keyPE: Tensor) -> DecoderImageTokens {
        let k = add(keys, keyPE)
        return DecoderImageTokens(
            keys: keys, tokenToImageKey: crossAttnTokenToImage.kProj(k),
            tokenToImageValue: crossAttnTokenToImage.vProj(keys),
            imageToTokenQuery: crossAttnImageToToken.qProj(k))
    }
}

/// `TwoWayTransformer`.
struct TwoWayTransformer: Sendable {
    let layers: [TwoWayAttentionBlock]
    let finalAttnTokenToImage: Attention
    let normFinalAttn: LayerNorm

    init(
        _ weights: WeightScope, depth: Int, embeddingDim: Int, numHeads: Int, mlpDim: Int, downsampleRate: Int,
        eps: Float
    ) throws {
        layers = try (0..<depth).map {
            try TwoWayAttentionBlock(
                weights.scoped("layers.\($0)"), embeddingDim: embeddingDim, numHeads: numHeads, mlpDim: mlpDim,
                downsampleRate: downsampleRate, eps: eps, skipFirstLayerPE: $0 == 0)
        }
        finalAttnTokenToImage = try Attention(
            weights.scoped("final_attn_token_to_image"), embeddingDim: embeddingDim,
            numHeads: numHeads, downsampleRate: downsampleRate)
        normFinalAttn = try LayerNorm(weights, "norm_final_attn", dim: embeddingDim, eps: eps)
    }

    /// image [B, C, h, w], imagePE token-major [hw, C] (shared by the batch), tokens [B, T, C]
    /// → (tokens [B, T, C], image tokens [B, hw, C])
    func callAsFunction(image: Tensor, imagePE: Tensor, tokens: Tensor) -> (Tensor, Tensor) {
        let (b, c) = (image.shape[0], image.shape[1])
        return run(
            keys: image.reshaped([b, c, -1]).permuted([0, 2, 1]), keyPE: imagePE, tokens: tokens, firstLayer: nil)
    }

    /// The same on image tokens prepared by `imageTokens` (any batch of prompts on that image).
    func callAsFunction(imageTokens: DecoderImageTokens, imagePE: Tensor, tokens: Tensor) -> (Tensor, Tensor) {
        run(
            keys: imageTokens.keys.expanded(to: tokens.shape[0], axis: 0), keyPE: imagePE, tokens: tokens,
            firstLayer: imageTokens)
    }

    /// The prompt-independent part for one image [1, C, h, w] (embedding + dense embedding).
    func imageTokens(image: Tensor, imagePE: Tensor) -> DecoderImageTokens {
        let c = image.shape[1]
        let keys = image.reshaped([1, c, -1]).permuted([0, 2, 1])
        return layers[0].projections(ofKeys: keys, keyPE: imagePE)
    }

    private func run(keys keysIn: Tensor, keyPE: Tensor, tokens: Tensor, firstLayer: DecoderImageTokens?) -> (
        Tensor, Tensor
    ) {
        var (queries, keys) = (tokens, keysIn)
        for (i, layer) in layers.enumerated() {
            (queries, keys) = layer(
                queries: queries, keys: keys, queryPE: tokens, keyPE: keyPE, projected: i == 0 ? firstLayer : nil)
        }
        let q = add(queries, tokens)
        let k = add(keys, keyPE)
        queries = normFinalAttn(add(queries, finalAttnTokenToImage.tokensToImage(q: q, k: k, v: keys)))
        return (queries, keys)
    }
}

/// `RoPEAttention`: `Attention` with axial 2-D rotary encoding of queries and keys. With
/// `repeatKeys` the keys are several frames of the query grid (the table repeats per frame); the
/// last `numKExcludeRope` keys (object pointers) are not rotated.
struct RoPEAttention: Sendable {
    let attention: Attention
    let rope: AxialRoPE
    let repeatKeys: Bool

    init(
        _ weights: WeightScope, embeddingDim: Int, numHeads: Int, rope: AxialRoPE, repeatKeys: Bool, kvInDim: Int? = nil
    ) throws {
        attention = try Attention(weights, embeddingDim: embeddingDim, numHeads: numHeads, kvInDim: kvInDim)
        self.rope = rope
        self.repeatKeys = repeatKeys
    }

    /// q [B, Lq, C] with Lq a square grid, k and v [B, Lk, C_kv] → [B, Lq, C]
    func callAsFunction(q: Tensor, k: Tensor, v: Tensor, numKExcludeRope: Int = 0) -> Tensor {
        let a = attention
        let query = a.separateHeads(a.qProj(q))
        let key = a.separateHeads(a.kProj(k))
        // ref: the grid side is sqrt of the number of queries.
        let side = Int(Double(query.shape[2]).squareRoot())
        let (cos, sin) = rope.tables(width: side, height: side)
        let rotatedKeys = key.shape[2] - numKExcludeRope
        precondition(repeatKeys || rotatedKeys == query.shape[2], "RoPE keys must match the queries unless repeated")
        // softmax(·)·(v·Wvᵀ + b) = (softmax(·)·v)·Wvᵀ + b, as each row of softmax sums to one: with
        // one head and narrow values (the 64-channel memory), attending to v itself and projecting
        // the result costs a quarter of the products over the long key range.
        let projectAfter = a.numHeads == 1 && v.shape[2] < a.internalDim
        let out = scaledDotProductAttention(
            query: applyRotary(query, cos: cos, sin: sin),
            key: applyRotary(key, cos: cos, sin: sin, count: rotatedKeys),
            value: projectAfter ? a.separateHeads(v) : a.separateHeads(a.vProj(v)), precision: a.precision)
        let heads = a.recombineHeads(out)
        return a.outProj(projectAfter ? a.vProj(heads) : heads)
    }
}
