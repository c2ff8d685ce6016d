// Building blocks of sam2/modeling/sam2_utils.py: the MLP used by Hiera, the two-way transformer
// and the mask decoder heads.

import SAM2Checkpoint
import SAM2Tensor

/// `MLP`: `numLayers` linear layers with an activation between them (keys `layers.<i>`),
/// optionally a sigmoid on the output.
struct MLP: Sendable {
    enum Activation: Sendable { case relu, gelu }

    let layers: [Linear]
    let activation: Activation
    let sigmoidOutput: Bool

    init(_ weights: WeightScope, _ name: String, inputDim: Int, hiddenDim: Int, outputDim: Int, numLayers: Int,
         activation: Activation = .relu, sigmoidOutput: Bool = false) throws {
        let dims = [inputDim] + Array(repeating: hiddenDim, count: numLayers - 1) + [outputDim]
        let scope = weights.scoped(name)
        layers = try (0..<numLayers).map { try Linear(scope, "layers.\($0)", inputs: dims[$0], outputs: dims[$0 + 1]) }
        self.activation = activation
        self.sigmoidOutput = sigmoidOutput
    }

    /// [..., inputDim] → [..., outputDim]
    func callAsFunction(_ x: Tensor) -> Tensor {
        var x = x
        for (i, layer) in layers.enumerated() {
            x = layer(x)
            if i < layers.count - 1 { x = activation == .relu ? relu(x) : gelu(x) }
        }
        return sigmoidOutput ? sigmoid(x) : x
    }
}
