// Layers: torch.nn's Linear, LayerNorm, Conv2d, ConvTranspose2d and Embedding as small immutable
// structs, each loading its own tensors by the reference's key names from a scoped WeightScope.

import SAM2Checkpoint
import SAM2Tensor

/// torch.nn.Linear: `weight` [out, in] (kept in the scope's precision), `bias` [out].
struct Linear: Sendable {
    let weight: PackedLinear
    let bias: Tensor?

    init(_ weights: WeightScope, _ name: String, inputs: Int, outputs: Int, bias: Bool = true) throws {
        let scope = weights.scoped(name)
        weight = try scope.packedLinear("weight", shape: [outputs, inputs])
        self.bias = bias ? try scope.tensor("bias", shape: [outputs]) : nil
    }

    /// [..., inputs] → [..., outputs]: act(x · Wᵀ + b) + residual (residual shaped as the output).
    func callAsFunction(_ x: Tensor, activation: Activation = .identity, residual: Tensor? = nil) -> Tensor {
        linear(x, weight: weight, bias: bias, activation: activation, residual: residual)
    }
}

/// torch.nn.LayerNorm over the last dimension.
struct LayerNorm: Sendable {
    let weight: Tensor
    let bias: Tensor
    let eps: Float

    init(_ weights: WeightScope, _ name: String, dim: Int, eps: Float) throws {
        let scope = weights.scoped(name)
        weight = try scope.tensor("weight", shape: [dim])
        bias = try scope.tensor("bias", shape: [dim])
        self.eps = eps
    }

    /// [..., dim] → [..., dim]
    func callAsFunction(_ x: Tensor) -> Tensor { layerNorm(x, weight: weight, bias: bias, eps: eps) }

    /// (x + residual, norm(x + residual)) in one pass.
    func callAsFunction(_ x: Tensor, adding residual: Tensor) -> (sum: Tensor, normalized: Tensor) {
        addLayerNorm(x, residual, weight: weight, bias: bias, eps: eps)
    }
}

/// LayerNorm2d of sam2/modeling/sam2_utils.py: normalisation over the channels of NCHW maps.
struct LayerNorm2d: Sendable {
    let weight: Tensor
    let bias: Tensor
    let eps: Float

    init(_ weights: WeightScope, _ name: String, channels: Int, eps: Float = 1e-6) throws {
        let scope = weights.scoped(name)
        weight = try scope.tensor("weight", shape: [channels])
        bias = try scope.tensor("bias", shape: [channels])
        self.eps = eps
    }

    /// [B, C, H, W] → [B, C, H, W]
    func callAsFunction(_ x: Tensor) -> Tensor { layerNorm2d(x, weight: weight, bias: bias, eps: eps) }
}

/// torch.nn.Conv2d with square kernels: `weight` [out, in / groups, k, k].
struct Conv2d: Sendable {
    let weight: Tensor
    let bias: Tensor?
    let stride: Int
    let padding: Int
    let groups: Int

    init(
        _ weights: WeightScope, _ name: String, inputs: Int, outputs: Int, kernel: Int,
        stride: Int = 1, padding: Int = 0, groups: Int = 1, bias: Bool = true
    ) throws {
        let scope = weights.scoped(name)
        weight = try scope.tensor("weight", shape: [outputs, inputs / groups, kernel, kernel])
        self.bias = bias ? try scope.tensor("bias", shape: [outputs]) : nil
        self.stride = stride
        self.padding = padding
        self.groups = groups
    }

    /// [B, in, H, W] → [B, out, H', W']
    func callAsFunction(_ x: Tensor) -> Tensor {
        conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding, groups: groups)
    }

    /// [B, in, H, W] → [B, H', W', out] (channels last; groups 1).
    func channelsLast(_ x: Tensor) -> Tensor {
        precondition(groups == 1, "channels-last convolution needs groups 1")
        return conv2dChannelsLast(x, weight: weight, bias: bias, stride: stride, padding: padding)
    }
}

/// torch.nn.ConvTranspose2d with kernel = stride = 2: `weight` [in, out, 2, 2] (the mask decoder runs
/// it inside `upscaledMasks`).
struct ConvTranspose2d: Sendable {
    let weight: Tensor
    let bias: Tensor

    init(_ weights: WeightScope, _ name: String, inputs: Int, outputs: Int) throws {
        let scope = weights.scoped(name)
        weight = try scope.tensor("weight", shape: [inputs, outputs, 2, 2])
        bias = try scope.tensor("bias", shape: [outputs])
    }
}

/// torch.nn.Embedding's table, `weight` [count, dim].
func embedding(_ weights: WeightScope, _ name: String, count: Int, dim: Int) throws -> Tensor {
    try weights.scoped(name).tensor("weight", shape: [count, dim])
}
