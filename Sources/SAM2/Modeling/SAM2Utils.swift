// Building blocks of sam2/modeling/sam2_utils.py: the MLP used by Hiera, the two-way transformer
// and the mask decoder heads.

import Foundation
import SAM2Checkpoint
import SAM2Tensor

/// `MLP`: `numLayers` linear layers with an activation between them (keys `layers.<i>`),
/// optionally a sigmoid on the output.
struct MLP: Sendable {
    let layers: [Linear]
    let activation: Activation
    let sigmoidOutput: Bool

    init(
        _ weights: WeightScope, _ name: String, inputDim: Int, hiddenDim: Int, outputDim: Int, numLayers: Int,
        activation: Activation = .relu, sigmoidOutput: Bool = false
    ) throws {
        let dims = [inputDim] + Array(repeating: hiddenDim, count: numLayers - 1) + [outputDim]
        let scope = weights.scoped(name)
        layers = try (0..<numLayers).map { try Linear(scope, "layers.\($0)", inputs: dims[$0], outputs: dims[$0 + 1]) }
        self.activation = activation
        self.sigmoidOutput = sigmoidOutput
    }

    /// [..., inputDim] → [..., outputDim], plus `residual` (shaped as the output) when given; the
    /// activations and the residual are fused into the linear layers, and two layers run as a
    /// `linearPair` (in bf16 the hidden values stay bf16 and in cache).
    func callAsFunction(_ x: Tensor, residual: Tensor? = nil) -> Tensor {
        precondition(!(sigmoidOutput && residual != nil), "MLP: a residual after the sigmoid output is not supported")
        if layers.count == 2 && !sigmoidOutput {
            return linearPair(
                x, first: layers[0].weight, firstBias: layers[0].bias, activation: activation, second: layers[1].weight,
                secondBias: layers[1].bias, residual: residual)
        }
        var x = x
        for (i, layer) in layers.enumerated() {
            let last = i == layers.count - 1
            x = layer(x, activation: last ? .identity : activation, residual: last ? residual : nil)
        }
        return sigmoidOutput ? sigmoid(x) : x
    }
}

/// `select_closest_cond_frames`: up to `maxCount` conditioning frames nearest to `frame` (the closest
/// before, the closest at or after, then the nearest others); -1 selects all. Returns the selected
/// and the unselected frame indices.
func selectClosestCondFrames(_ frame: Int, _ condFrames: [Int], maxCount: Int) -> (selected: [Int], unselected: [Int]) {
    if maxCount == -1 || condFrames.count <= maxCount { return (condFrames.sorted(), []) }
    precondition(maxCount >= 2, "at least two conditioning frames must be allowed")
    var selected: [Int] = []
    if let before = condFrames.filter({ $0 < frame }).max() { selected.append(before) }
    if let after = condFrames.filter({ $0 >= frame }).min() { selected.append(after) }
    let rest = condFrames.filter { !selected.contains($0) }
    // ref: sorted by distance, a stable sort keeping the dictionary's (insertion) order on ties
    let nearest = rest.enumerated().sorted {
        (abs($0.element - frame), $0.offset) < (abs($1.element - frame), $1.offset)
    }
    selected += nearest.prefix(maxCount - selected.count).map(\.element)
    return (selected.sorted(), condFrames.filter { !selected.contains($0) }.sorted())
}

/// `get_1d_sine_pe`: [N] positions → [N, dim] (sines of all frequencies, then cosines).
func sinePositionEncoding1D(_ positions: [Float], dim: Int, temperature: Float = 10000) -> Tensor {
    let half = dim / 2
    let dimT = (0..<half).map { powf(temperature, Float(2 * ($0 / 2)) / Float(half)) }
    var out = [Float](repeating: 0, count: positions.count * dim)
    for (i, p) in positions.enumerated() {
        for j in 0..<half {
            let v = p / dimT[j]
            out[i * dim + j] = sinf(v)
            out[i * dim + half + j] = cosf(v)
        }
    }
    return Tensor(shape: [positions.count, dim], scalars: out)
}
