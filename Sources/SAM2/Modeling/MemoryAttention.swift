// Memory attention of sam2/modeling/memory_attention.py: the current frame's tokens attend to
// themselves (RoPE self-attention) and to the memory bank (RoPE cross-attention; object-pointer
// tokens at the end of the memory are left out of RoPE), each layer pre-norm with a ReLU MLP.

import SAM2Checkpoint
import SAM2Tensor

/// `MemoryAttentionLayer` (pos_enc_at_attn false, pos_enc_at_cross_attn_keys true,
/// pos_enc_at_cross_attn_queries false, as every official configuration has them).
struct MemoryAttentionLayer: Sendable {
    let selfAttn: RoPEAttention
    let crossAttnImage: RoPEAttention
    let linear1: Linear
    let linear2: Linear
    let norm1: LayerNorm
    let norm2: LayerNorm
    let norm3: LayerNorm

    init(_ weights: WeightScope, dModel: Int, memDim: Int, feedforward: Int, heads: Int, rope: AxialRoPE) throws {
        selfAttn = try RoPEAttention(
            weights.scoped("self_attn"), embeddingDim: dModel, numHeads: heads, rope: rope, repeatKeys: false)
        crossAttnImage = try RoPEAttention(
            weights.scoped("cross_attn_image"), embeddingDim: dModel, numHeads: heads, rope: rope,
            repeatKeys: true, kvInDim: memDim)
        linear1 = try Linear(weights, "linear1", inputs: dModel, outputs: feedforward)
        linear2 = try Linear(weights, "linear2", inputs: feedforward, outputs: dModel)
        norm1 = try LayerNorm(weights, "norm1", dim: dModel, eps: 1e-5)
        norm2 = try LayerNorm(weights, "norm2", dim: dModel, eps: 1e-5)
        norm3 = try LayerNorm(weights, "norm3", dim: dModel, eps: 1e-5)
    }

    /// tgt [B, L, C], memory and memoryPos [B, M, Cm] → [B, L, C]
    func callAsFunction(_ tgt: Tensor, memory: Tensor, memoryPos: Tensor, numKExcludeRope: Int) -> Tensor {
        afterSelfAttention(selfAttention(tgt), memory: memory, memoryPos: memoryPos, numKExcludeRope: numKExcludeRope)
    }

    /// `_forward_sa`: tgt + self-attention of norm1(tgt), [B, L, C].
    func selfAttention(_ tgt: Tensor) -> Tensor {
        let a = norm1(tgt)
        return add(tgt, selfAttn(q: a, k: a, v: a))
    }

    /// `_forward_ca` and the MLP, on the output of `selfAttention`.
    func afterSelfAttention(_ tgt: Tensor, memory: Tensor, memoryPos: Tensor, numKExcludeRope: Int) -> Tensor {
        var x = tgt
        let b = norm2(x)
        x = add(x, crossAttnImage(q: b, k: add(memory, memoryPos), v: memory, numKExcludeRope: numKExcludeRope))
        return linearPair(
            norm3(x), first: linear1.weight, firstBias: linear1.bias, activation: .relu, second: linear2.weight,
            secondBias: linear2.bias, residual: x)
    }
}

/// `MemoryAttention`: the layers and a final LayerNorm; the input gets 0.1 × its position encoding.
public struct MemoryAttention: Sendable {
    let layers: [MemoryAttentionLayer]
    let norm: LayerNorm

    init(_ weights: WeightScope, configuration config: SAM2Configuration) throws {
        let m = config.memory
        let rope = AxialRoPE(
            dim: config.hiddenDim / m.attentionHeads, theta: m.ropeTheta, featureSize: m.ropeFeatureSize)
        layers = try (0..<m.attentionLayers).map {
            try MemoryAttentionLayer(
                weights.scoped("layers.\($0)"), dModel: config.hiddenDim, memDim: m.memDim,
                feedforward: m.attentionFeedforwardDim, heads: m.attentionHeads, rope: rope)
        }
        norm = try LayerNorm(weights, "norm", dim: config.hiddenDim, eps: 1e-5)
    }

    /// curr and currPos [B, L, C] (the frame's tokens), memory and memoryPos [B, M, Cm], the last
    /// `numObjPtrTokens` memory tokens being object pointers → [B, L, C]
    func callAsFunction(curr: Tensor, currPos: Tensor, memory: Tensor, memoryPos: Tensor, numObjPtrTokens: Int)
        -> Tensor
    {
        self(
            afterFirstSelfAttention: firstSelfAttention(curr: curr, currPos: currPos), memory: memory,
            memoryPos: memoryPos, numObjPtrTokens: numObjPtrTokens)
    }

    /// The part that depends on the frame alone (input + 0.1 × position, the first layer's
    /// self-attention): the same for every object tracked on the frame. [B, L, C]
    func firstSelfAttention(curr: Tensor, currPos: Tensor) -> Tensor {
        layers[0].selfAttention(add(curr, scale(currPos, 0.1)))
    }

    /// The rest, from `firstSelfAttention`'s output. [B, L, C]
    func callAsFunction(afterFirstSelfAttention x0: Tensor, memory: Tensor, memoryPos: Tensor, numObjPtrTokens: Int)
        -> Tensor
    {
        var x = layers[0].afterSelfAttention(x0, memory: memory, memoryPos: memoryPos, numKExcludeRope: numObjPtrTokens)
        for layer in layers.dropFirst() {
            x = layer(x, memory: memory, memoryPos: memoryPos, numKExcludeRope: numObjPtrTokens)
        }
        return norm(x)
    }
}
