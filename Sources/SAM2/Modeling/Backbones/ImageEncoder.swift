// The image encoder of sam2/modeling/backbones/image_encoder.py: the Hiera trunk followed by the
// FPN neck (1×1 lateral convs to d_model, nearest-neighbour top-down fusion), with the coarsest
// level dropped (`scalp`).

import SAM2Checkpoint
import SAM2Tensor

/// `FpnNeck`: lateral 1×1 convs and the top-down path.
struct FpnNeck: Sendable {
    /// Lateral convs in the reference's order: `convs.0` takes the coarsest trunk level.
    let convs: [Conv2d]
    let topDownLevels: Set<Int>
    let positionEncoding: PositionEmbeddingSine

    init(_ weights: WeightScope, configuration config: NeckConfiguration) throws {
        convs = try config.backboneChannelList.enumerated().map { i, channels in
            try Conv2d(weights.scoped("convs.\(i)"), "conv", inputs: channels, outputs: config.dModel, kernel: 1)
        }
        topDownLevels = Set(config.fpnTopDownLevels)
        positionEncoding = PositionEmbeddingSine(numPosFeats: config.dModel, temperature: config.positionTemperature)
    }

    /// Trunk maps, finest first → neck maps [B, d_model, H_i, W_i], finest first.
    func callAsFunction(_ trunkFeatures: [Tensor]) -> [Tensor] {
        let n = convs.count - 1
        var out = [Tensor?](repeating: nil, count: convs.count)
        var previous: Tensor?
        for i in stride(from: n, through: 0, by: -1) {
            let lateral = convs[n - i](trunkFeatures[i])
            if topDownLevels.contains(i), let coarser = previous {
                // ref: F.interpolate(scale_factor=2.0, mode="nearest")
                previous = add(
                    lateral, interpolateNearest(coarser, height: coarser.shape[2] * 2, width: coarser.shape[3] * 2))
            } else {
                previous = lateral
            }
            out[i] = previous
        }
        return out.map { $0! }
    }
}

/// `ImageEncoder`: trunk, neck, scalp.
public struct ImageEncoder: Sendable {
    let trunk: Hiera
    let neck: FpnNeck
    let scalp: Int

    init(_ weights: WeightScope, configuration config: SAM2Configuration) throws {
        trunk = try Hiera(weights.scoped("trunk"), configuration: config.trunk, imageSize: config.imageSize)
        neck = try FpnNeck(weights.scoped("neck"), configuration: config.neck)
        scalp = config.neck.scalp
    }

    /// [B, 3, S, S] → the kept neck levels (`backbone_fpn`), finest first.
    func callAsFunction(_ image: Tensor) -> [Tensor] {
        let features = neck(trunk(image))
        return Array(features.dropLast(scalp))
    }

    /// Sine position encodings of the neck levels (`vision_pos_enc`), [d_model, H, W] each.
    func positionEncodings(for features: [Tensor]) -> [Tensor] {
        features.map { neck.positionEncoding(height: $0.shape[2], width: $0.shape[3]) }
    }
}
