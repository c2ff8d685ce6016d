// Hiera, the hierarchical vision transformer trunk of SAM 2 (reference:
// sam2/modeling/backbones/hieradet.py): patch embedding, multi-scale blocks with query pooling
// between stages, windowed and global attention, one feature map per stage.

import SAM2Checkpoint
import SAM2Tensor

/// `MultiScaleAttention`: attention whose queries may be max-pooled 2×2 (the first block of a stage),
/// its products in the scope's precision.
struct MultiScaleAttention: Sendable {
    let dimOut: Int
    let numHeads: Int
    let poolQuery: Bool
    let precision: Precision
    let qkv: Linear
    let proj: Linear

    init(_ weights: WeightScope, dim: Int, dimOut: Int, numHeads: Int, poolQuery: Bool) throws {
        self.dimOut = dimOut
        self.numHeads = numHeads
        self.poolQuery = poolQuery
        precision = weights.precision
        qkv = try Linear(weights, "qkv", inputs: dim, outputs: dimOut * 3)
        proj = try Linear(weights, "proj", inputs: dimOut, outputs: dimOut)
    }

    /// [B, H, W, dim] → [B, H', W', dimOut] (H' = H/2 with query pooling)
    func callAsFunction(_ x: Tensor) -> Tensor {
        let (b, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        // ref: qkv.reshape(B, H*W, 3, heads, -1); unbind(2) — read in place as strided operands.
        let qkvOut = qkv(x)
        let packed = qkvOut.reshaped([b, h * w, 3, numHeads, dimOut / numHeads])
        var query = AttentionOperand(packed: packed, part: 0)
        var (qh, qw) = (h, w)
        if poolQuery {
            // ref: q.reshape(B, H, W, -1) max-pooled 2×2: q's channels are the first dimOut of qkv.
            let q = maxPool2x2NHWC(qkvOut, channels: 0..<dimOut)
            (qh, qw) = (q.shape[1], q.shape[2])
            query = AttentionOperand(tokenMajor: q.reshaped([b, qh * qw, dimOut]), heads: numHeads)
        }
        let out = scaledDotProductAttention(
            query: query, key: AttentionOperand(packed: packed, part: 1),
            value: AttentionOperand(packed: packed, part: 2), precision: precision)
        return proj(out.reshaped([b, qh, qw, dimOut]))
    }
}

/// `MultiScaleBlock`: pre-norm attention (windowed when `windowSize` > 0) and MLP, with a
/// projected and pooled shortcut where the width changes.
struct MultiScaleBlock: Sendable {
    let dim: Int
    let dimOut: Int
    let windowSize: Int
    let poolQuery: Bool
    let norm1: LayerNorm
    let attn: MultiScaleAttention
    let norm2: LayerNorm
    let mlp: MLP
    let proj: Linear?

    init(
        _ weights: WeightScope, dim: Int, dimOut: Int, numHeads: Int, mlpRatio: Int, poolQuery: Bool,
        windowSize: Int, eps: Float
    ) throws {
        self.dim = dim
        self.dimOut = dimOut
        self.windowSize = windowSize
        self.poolQuery = poolQuery
        norm1 = try LayerNorm(weights, "norm1", dim: dim, eps: eps)
        attn = try MultiScaleAttention(
            weights.scoped("attn"), dim: dim, dimOut: dimOut, numHeads: numHeads, poolQuery: poolQuery)
        norm2 = try LayerNorm(weights, "norm2", dim: dimOut, eps: eps)
        mlp = try MLP(
            weights, "mlp", inputDim: dimOut, hiddenDim: dimOut * mlpRatio, outputDim: dimOut, numLayers: 2,
            activation: .gelu)
        proj = dim != dimOut ? try Linear(weights, "proj", inputs: dim, outputs: dimOut) : nil
    }

    /// [B, H, W, dim] → [B, H', W', dimOut]
    func callAsFunction(_ input: Tensor) -> Tensor {
        groupedParts(input).map { windowGroups(input, $0) } ?? stepByStep(input)
    }

    /// The block one step at a time over the whole map, as the reference writes it.
    func stepByStep(_ input: Tensor) -> Tensor {
        var shortcut = input
        let x = norm1(input)
        if let proj {
            shortcut = proj(x)
            if poolQuery { shortcut = maxPool2x2NHWC(shortcut) }
        }
        let (h, w) = (shortcut.shape[1], shortcut.shape[2])
        var y: Tensor
        if windowSize > 0 {
            let parts = windowPartition(x, windowSize: windowSize)
            y = attn(parts.windows)
            // ref: with query pooling the windows shrink by the stride; the padding is recomputed
            // from the pooled size.
            let size = poolQuery ? windowSize / 2 : windowSize
            let hp = (h + size - 1) / size * size
            let wp = (w + size - 1) / size * size
            y = windowUnpartition(y, windowSize: size, paddedHeight: hp, paddedWidth: wp, height: h, width: w)
        } else {
            y = attn(x)
        }
        // x = shortcut + attn; x + mlp(norm2(x)) with the add fused into the norm and the MLP.
        let (sum, normalized) = norm2(shortcut, adding: y)
        return mlp(normalized, residual: sum)
    }

    /// Weight bytes (in their precision) up to which a part of a windowed block runs a group of
    /// windows at a time (`windowGroups`): every group reads the part's weights again, which pays
    /// while they stay in cache beside the group's tokens (the first stages' blocks; in later
    /// stages the weights outweigh the activations they would save).
    static let windowGroupWeightBytes = 1 << 20

    /// The parts of a windowed block that run in groups of windows.
    enum GroupedParts { case attention, attentionAndMLP }

    /// Which parts of the block run in groups of windows for this input, nil for none. The shortcut's
    /// projection and pooling see only their own window's tokens when the windows tile the map.
    func groupedParts(_ input: Tensor) -> GroupedParts? {
        guard windowSize > 0 else { return nil }
        if proj != nil || poolQuery {
            guard windowSize % 2 == 0, input.shape[1] % windowSize == 0, input.shape[2] % windowSize == 0 else {
                return nil
            }
        }
        let attention = attn.qkv.weight.byteCount + attn.proj.weight.byteCount + (proj?.weight.byteCount ?? 0)
        let all = attention + mlp.layers.reduce(0) { $0 + $1.weight.byteCount }
        if all <= Self.windowGroupWeightBytes { return .attentionAndMLP }
        return attention <= Self.windowGroupWeightBytes ? .attention : nil
    }

    /// A windowed block run a group of windows at a time on each worker: the group's tokens go
    /// through norm1, the shortcut's projection and pooling, attention, the residual sum, norm2 (and
    /// the MLP) while they are in cache, instead of each step passing over the whole map; otherwise
    /// the MLP then runs over the whole map. Every token sees the same operations as in the
    /// step-by-step form (the padding is zero after norm1, as the reference pads the normalised map).
    func windowGroups(_ input: Tensor, _ parts: GroupedParts) -> Tensor {
        let grid = WindowGrid(input, windowSize: windowSize)
        let pool = poolQuery ? 2 : 1
        let outGrid = WindowGrid(
            batch: grid.batch, height: grid.height / pool, width: grid.width / pool, channels: dimOut,
            size: windowSize / pool)
        let perGroup = max(1, min(512 / (windowSize * windowSize), grid.count / (8 * Parallel.threadCount)))
        let groups = (grid.count + perGroup - 1) / perGroup
        let shape = [outGrid.batch, outGrid.height, outGrid.width, dimOut]
        let out = Tensor(uninitializedShape: shape)
        let normalizedOut = parts == .attention ? Tensor(uninitializedShape: shape) : nil
        Parallel.forEach(groups) { g in
            let windows = (g * perGroup)..<min(grid.count, (g + 1) * perGroup)
            let x = windowPartition(input, grid: grid, windows: windows)
            let normalized = norm1(x)
            zeroWindowPadding(normalized, grid: grid, first: windows.lowerBound)
            var shortcut = x
            if let proj {
                shortcut = proj(normalized)
                if poolQuery { shortcut = maxPool2x2NHWC(shortcut) }
            }
            let (sum, normalized2) = norm2(shortcut, adding: attn(normalized))
            if let normalizedOut {
                windowUnpartition(sum, into: out, grid: outGrid, first: windows.lowerBound)
                windowUnpartition(normalized2, into: normalizedOut, grid: outGrid, first: windows.lowerBound)
            } else {
                windowUnpartition(mlp(normalized2, residual: sum), into: out, grid: outGrid, first: windows.lowerBound)
            }
        }
        return normalizedOut.map { mlp($0, residual: out) } ?? out
    }
}

/// `Hiera`: the trunk. Outputs one NCHW map per stage, finest first.
public struct Hiera: Sendable {
    let patchEmbed: Conv2d
    let blocks: [MultiScaleBlock]
    let stageEnds: [Int]
    /// Absolute position embedding at the token grid [h, w, C], precomputed at load (it depends
    /// only on the weights and the input size).
    let positionEmbedding: Tensor

    init(_ weights: WeightScope, configuration config: HieraConfiguration, imageSize: Int) throws {
        let e = config.embedDim
        patchEmbed = try Conv2d(
            weights.scoped("patch_embed"), "proj", inputs: 3, outputs: e, kernel: config.patchKernelSize,
            stride: config.patchStride, padding: config.patchPadding)
        stageEnds = config.stages.indices.map { config.stages[...$0].reduce(0, +) - 1 }
        let poolBlocks = Set(stageEnds.dropLast().prefix(config.qPool).map { $0 + 1 })
        var blocks: [MultiScaleBlock] = []
        var (dim, heads, stage) = (e, config.numHeads, 0)
        for i in 0..<config.depth {
            // ref: the window size is taken before the stage advances, so the first (pooling) block
            // of a stage still partitions with the previous stage's window.
            var window = config.windowSpec[stage]
            if config.globalAttentionBlocks.contains(i) { window = 0 }
            var dimOut = dim
            if i > 0 && stageEnds.contains(i - 1) {
                dimOut = dim * config.dimMul
                heads *= config.headMul
                stage += 1
            }
            blocks.append(
                try MultiScaleBlock(
                    weights.scoped("blocks.\(i)"), dim: dim, dimOut: dimOut, numHeads: heads,
                    mlpRatio: config.mlpRatio, poolQuery: poolBlocks.contains(i),
                    windowSize: window, eps: config.layerNormEps))
            dim = dimOut
        }
        self.blocks = blocks

        // ref: Hiera._get_pos_embed — bicubic resize of the background grid plus the tiled window embedding.
        let tokens = (imageSize + 2 * config.patchPadding - config.patchKernelSize) / config.patchStride + 1
        let grid = config.positionEmbeddingSize
        let window = config.windowSpec[0]
        let background = try weights.tensor("pos_embed", shape: [1, e, grid[0], grid[1]])
        let windowEmbed = try weights.tensor("pos_embed_window", shape: [1, e, window, window])
        let resized = interpolateBicubic(background, height: tokens, width: tokens)
        positionEmbedding = add(resized, tile(windowEmbed, height: tokens, width: tokens)).permuted([0, 2, 3, 1])
            .reshaped([tokens, tokens, e])
    }

    /// [B, 3, S, S] normalised image → per-stage maps [B, C_i, S/4/2^i, S/4/2^i]
    public func callAsFunction(_ image: Tensor) -> [Tensor] {
        var x = add(patchEmbed.channelsLast(image), positionEmbedding)
        var outputs: [Tensor] = []
        for (i, block) in blocks.enumerated() {
            x = block(x)
            if stageEnds.contains(i) { outputs.append(x.permuted([0, 3, 1, 2])) }
        }
        return outputs
    }
}

/// Repeats a [1, C, s, s] map over an [h, w] grid (`Tensor.tile`); h and w must be multiples of s.
private func tile(_ x: Tensor, height: Int, width: Int) -> Tensor {
    let (s1, s2) = (x.shape[2], x.shape[3])
    precondition(
        height % s1 == 0 && width % s2 == 0,
        "position grid \(height)×\(width) is not a multiple of the window \(s1)×\(s2)")
    let rows = Tensor.concatenate(Array(repeating: x, count: width / s2), axis: 3)
    return Tensor.concatenate(Array(repeating: rows, count: height / s1), axis: 2)
}
