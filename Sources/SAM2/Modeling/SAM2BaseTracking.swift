// The tracking step of sam2/modeling/sam2_base.py for one object on one frame: the frame's
// features conditioned on the memory bank (memory attention over past mask memories and object
// pointers), the SAM heads (or a mask prompt taken as the output), the object pointer, and the
// frame's new mask memory (memory encoder).

import SAM2Checkpoint
import SAM2Tensor
import Synchronization

/// Weights only the video tracker uses.
struct TrackingModules: Sendable {
    let memoryAttention: MemoryAttention
    let memoryEncoder: MemoryEncoder
    /// `maskmem_tpos_enc`, [numMaskmem, memDim].
    let maskmemTposEnc: Tensor
    /// `no_mem_pos_enc`, [C] (the memory's position when the bank is empty and no_mem_embed is
    /// not added directly).
    let noMemPosEnc: Tensor
    let noObjPtr: Tensor?
    let noObjEmbedSpatial: Tensor?
    let maskDownsample: Conv2d?
    let objPtrProj: MLP?
    let objPtrTposProj: Linear?

    init(_ weights: WeightScope, configuration config: SAM2Configuration) throws {
        let m = config.memory
        let c = config.hiddenDim
        memoryAttention = try MemoryAttention(weights.scoped("memory_attention"), configuration: config)
        memoryEncoder = try MemoryEncoder(weights.scoped("memory_encoder"), configuration: config)
        maskmemTposEnc = try weights.tensor("maskmem_tpos_enc", shape: [m.numMaskmem, 1, 1, m.memDim]).reshaped([
            m.numMaskmem, m.memDim,
        ])
        noMemPosEnc = try weights.tensor("no_mem_pos_enc", shape: [1, 1, c]).reshaped([c])
        noObjPtr =
            config.heads.predObjScores && m.useObjPtrsInEncoder
            ? try weights.tensor("no_obj_ptr", shape: [1, c]).reshaped([c]) : nil
        noObjEmbedSpatial =
            m.noObjEmbedSpatial
            ? try weights.tensor("no_obj_embed_spatial", shape: [1, m.memDim]).reshaped([m.memDim]) : nil
        maskDownsample =
            m.useObjPtrsInEncoder
            ? try Conv2d(weights, "mask_downsample", inputs: 1, outputs: 1, kernel: 4, stride: 4) : nil
        objPtrProj =
            m.useObjPtrsInEncoder && m.useMLPForObjPtrProj
            ? try MLP(weights, "obj_ptr_proj", inputDim: c, hiddenDim: c, outputDim: c, numLayers: 3) : nil
        objPtrTposProj =
            m.projTposEncInObjPtrs ? try Linear(weights, "obj_ptr_tpos_proj", inputs: c, outputs: m.memDim) : nil
    }
}

/// A frame's backbone output as the tracker uses it.
public struct FrameFeatures: Sendable {
    /// Lowest-resolution level, [1, C, h, w] (no `no_mem_embed`).
    let vision: Tensor
    /// Its sine position encoding, [C, h, w].
    let position: Tensor
    /// [feat_s0, feat_s1] after conv_s0 / conv_s1.
    let highRes: [Tensor]
    /// What every object tracked on this frame computes alike, made once by the first that needs it.
    let shared = SharedFrameWork()
}

/// Work on a frame's features that does not depend on the object: the memory attention's input up to
/// the end of its first self-attention, and the memory encoder's projection of the features.
final class SharedFrameWork: Sendable {
    private let firstSelfAttention = Mutex<Tensor?>(nil)
    private let projectedFeatures = Mutex<Tensor?>(nil)

    func firstSelfAttention(_ make: () -> Tensor) -> Tensor {
        firstSelfAttention.withLock { cached in
            if let cached { return cached }
            let made = make()
            cached = made
            return made
        }
    }

    func projectedFeatures(_ make: () -> Tensor) -> Tensor {
        projectedFeatures.withLock { cached in
            if let cached { return cached }
            let made = make()
            cached = made
            return made
        }
    }
}

/// Clicks in the model's input frame (pixels of the S×S input) with labels (1, 0, 2/3 box corners).
struct PointInputs: Sendable {
    var coords: [SIMD2<Float>]
    var labels: [Int]
}

/// What one object's tracking keeps of a frame (the reference's compact per-frame output).
struct TrackedFrame: Sendable {
    /// Mask memory rounded to bfloat16, as the reference stores it, [1, memDim, h, w].
    var maskmemFeatures: BFloat16Tensor?
    /// Low-resolution mask logits after hole filling, [1, 1, s, s].
    var predMasks: Tensor
    /// Object pointer, [1, C].
    var objPtr: Tensor
    var objectScoreLogit: Float
}

/// One object's memory bank: conditioning frames (with prompts) and tracked frames.
struct ObjectMemory: Sendable {
    var condFrames: [Int: TrackedFrame] = [:]
    var nonCondFrames: [Int: TrackedFrame] = [:]
}

/// The outputs of `_forward_sam_heads` that tracking uses.
struct SAMHeadsOutput: Sendable {
    var lowResMasks: Tensor
    var highResMasks: Tensor
    var objPtr: Tensor
    var objectScoreLogit: Float
}

/// The result of a tracking step.
struct TrackStepOutput: Sendable {
    var lowResMasks: Tensor
    var highResMasks: Tensor
    var objPtr: Tensor
    var objectScoreLogit: Float
    var maskmemFeatures: Tensor?
}

extension SAM2Model {
    static let noObjectScore: Float = -1024

    /// `forward_image` + `_prepare_backbone_features` for one normalised frame [1, 3, S, S].
    func frameFeatures(_ image: Tensor) -> FrameFeatures {
        let levels = backboneLevels(image)
        let last = levels[levels.count - 1]
        return FrameFeatures(
            vision: last, position: imageEncoder.positionEncodings(for: [last])[0],
            highRes: configuration.heads.useHighResFeatures ? Array(levels.prefix(2)) : [])
    }

    /// `_forward_sam_heads` for one object.
    func forwardSAMHeads(_ backbone: Tensor, points: PointInputs?, mask: Tensor?, highRes: [Tensor], multimask: Bool)
        -> SAMHeadsOutput
    {
        let config = configuration
        let p = points ?? PointInputs(coords: [SIMD2(0, 0)], labels: [-1])
        let sparse = promptEncoder.embedPoints(
            Tensor(shape: [1, p.coords.count, 2], scalars: p.coords.flatMap { [$0.x, $0.y] }),
            labels: [p.labels])
        var dense = promptEncoder.noMaskDense(batch: 1)
        if var m = mask {
            let side = promptEncoder.maskInputSize
            if m.shape[2] != side || m.shape[3] != side {
                m = interpolateBilinear(m, height: side, width: side, antialias: true)
            }
            dense = promptEncoder.embedMask(m)
        }
        let out = maskDecoder(
            imageEmbedding: backbone, imagePE: promptEncoder.densePositionEncoding, sparse: sparse, dense: dense,
            multimaskOutput: multimask, highResFeatures: highRes.isEmpty ? nil : highRes)
        let objectScore = out.objectScoreLogits.scalars[0]
        let appearing = !config.heads.predObjScores || objectScore > 0
        var lowRes = out.masks
        if !appearing { lowRes = Tensor(shape: lowRes.shape, repeating: SAM2Model.noObjectScore) }
        let highResAll = interpolateBilinear(lowRes, height: config.imageSize, width: config.imageSize)
        var token = out.samTokens.slice(axis: 1, 0..<1)
        var lowResMask = lowRes
        var highResMask = highResAll
        if multimask {
            let ious = out.iouPredictions.scalars
            let best = ious.indices.max { ious[$0] < ious[$1] || (ious[$0] == ious[$1] && $0 > $1) }!  // first maximum
            lowResMask = lowRes.slice(axis: 1, best..<(best + 1))
            highResMask = highResAll.slice(axis: 1, best..<(best + 1))
            if out.samTokens.shape[1] > 1 { token = out.samTokens.slice(axis: 1, best..<(best + 1)) }
        }
        let c = config.hiddenDim
        var objPtr = tracking.objPtrProj.map { $0(token.reshaped([1, c])) } ?? token.reshaped([1, c])
        if config.heads.predObjScores, let noObjPtr = tracking.noObjPtr {
            objPtr = mixNoObjectPointer(objPtr, appearing: appearing, noObjPtr: noObjPtr)
        }
        return SAMHeadsOutput(
            lowResMasks: lowResMask, highResMasks: highResMask, objPtr: objPtr, objectScoreLogit: objectScore)
    }

    /// ref: with `fixed_no_obj_ptr`, an absent object's pointer is the learned no-object pointer.
    private func mixNoObjectPointer(_ objPtr: Tensor, appearing: Bool, noObjPtr: Tensor) -> Tensor {
        if appearing { return objPtr }
        let base = configuration.memory.fixedNoObjPtr ? Tensor(shape: objPtr.shape, repeating: 0) : objPtr
        return add(base, noObjPtr)
    }

    /// `_use_mask_as_output`: a binary mask prompt [1, 1, S, S] taken as the output.
    func useMaskAsOutput(_ backbone: Tensor, highRes: [Tensor], mask: Tensor) -> SAMHeadsOutput {
        let highResMasks = mask.map { $0 * 20 - 10 }
        let lowRes = interpolateBilinear(
            highResMasks, height: mask.shape[2] / 4, width: mask.shape[3] / 4, antialias: true)
        let c = configuration.hiddenDim
        var objPtr = Tensor(shape: [1, c], repeating: 0)
        if configuration.memory.useObjPtrsInEncoder, let down = tracking.maskDownsample {
            objPtr = forwardSAMHeads(backbone, points: nil, mask: down(mask), highRes: highRes, multimask: false).objPtr
        }
        let appearing = mask.scalars.contains { $0 > 0 }
        if configuration.heads.predObjScores, let noObjPtr = tracking.noObjPtr {
            objPtr = mixNoObjectPointer(objPtr, appearing: appearing, noObjPtr: noObjPtr)
        }
        return SAMHeadsOutput(
            lowResMasks: lowRes, highResMasks: highResMasks, objPtr: objPtr,
            objectScoreLogit: appearing ? 10 : -10)
    }

    /// `_prepare_memory_conditioned_features`: the frame's features [1, C, h, w] fused with the memory.
    func memoryConditionedFeatures(
        frame: Int, isInitCondFrame: Bool, features: FrameFeatures, memory: ObjectMemory,
        numFrames: Int, reverse: Bool
    ) -> Tensor {
        let config = configuration
        let m = config.memory
        let (c, h, w) = (config.hiddenDim, features.vision.shape[2], features.vision.shape[3])
        let tokens = { (x: Tensor) in x.reshaped([x.dim(-3), h * w]).permuted([1, 0]) }  // [C', h, w] → [hw, C']
        if m.numMaskmem == 0 { return features.vision }
        var parts: [Tensor] = []
        var positions: [Tensor] = []
        var numObjPtrTokens = 0
        if isInitCondFrame {
            if m.directlyAddNoMemEmbed {
                return add(tokens(features.vision.reshaped([c, h, w])), noMemEmbed).permuted([1, 0]).reshaped([
                    1, c, h, w,
                ])
            }
            parts = [noMemEmbed.reshaped([1, c])]
            positions = [tracking.noMemPosEnc.reshaped([1, c])]
        } else {
            let (selected, unselected) = selectClosestCondFrames(
                frame, Array(memory.condFrames.keys), maxCount: m.maxCondFramesInAttn)
            let unselectedSet = Set(unselected)
            func previous(_ t: Int) -> TrackedFrame? {
                memory.nonCondFrames[t] ?? (unselectedSet.contains(t) ? memory.condFrames[t] : nil)
            }
            var tPosAndPrevs: [(Int, TrackedFrame)] = selected.map { (0, memory.condFrames[$0]!) }
            let stride = m.memoryTemporalStrideForEval
            for tPos in 1..<m.numMaskmem {
                let tRel = m.numMaskmem - tPos
                let prevFrame: Int
                if tRel == 1 {
                    prevFrame = reverse ? frame + tRel : frame - tRel
                } else if !reverse {
                    prevFrame = floorDivide(frame - 2, stride) * stride - (tRel - 2) * stride
                } else {
                    prevFrame = -floorDivide(-(frame + 2), stride) * stride + (tRel - 2) * stride
                }
                if let out = previous(prevFrame) { tPosAndPrevs.append((tPos, out)) }
            }
            let memPos = tokens(tracking.memoryEncoder.positionEncoding(height: h, width: w))
            for (tPos, prev) in tPosAndPrevs {
                guard let feats = prev.maskmemFeatures else { continue }
                parts.append(tokens(feats.tensor.reshaped([m.memDim, h, w])))
                positions.append(
                    add(
                        memPos,
                        tracking.maskmemTposEnc.slice(axis: 0, (m.numMaskmem - tPos - 1)..<(m.numMaskmem - tPos))
                            .reshaped([m.memDim])))
            }
            if m.useObjPtrsInEncoder {
                let maxPtrs = min(numFrames, m.maxObjPtrsInEncoder)
                let ptrCond =
                    m.onlyObjPtrsInThePastForEval ? selected.filter { reverse ? $0 >= frame : $0 <= frame } : selected
                var posAndPtrs: [(Float, Tensor)] = ptrCond.map { t in
                    let diff = m.useSignedTposEncToObjPtrs ? (frame - t) * (reverse ? -1 : 1) : abs(frame - t)
                    return (Float(diff), memory.condFrames[t]!.objPtr)
                }
                if maxPtrs > 1 {
                    for tDiff in 1..<maxPtrs {
                        let t = reverse ? frame + tDiff : frame - tDiff
                        if t < 0 || t >= numFrames { break }
                        if let out = previous(t) { posAndPtrs.append((Float(tDiff), out.objPtr)) }
                    }
                }
                if !posAndPtrs.isEmpty {
                    let ptrs = Tensor.concatenate(posAndPtrs.map(\.1), axis: 0)  // [P, C]
                    var objPos: Tensor
                    if m.addTposEncToObjPtrs {
                        let tDiffMax = Float(maxPtrs - 1)
                        let tposDim = m.projTposEncInObjPtrs ? c : m.memDim
                        objPos = sinePositionEncoding1D(posAndPtrs.map { $0.0 / tDiffMax }, dim: tposDim)
                        if let proj = tracking.objPtrTposProj { objPos = proj(objPos) }
                    } else {
                        objPos = Tensor(shape: [posAndPtrs.count, m.memDim], repeating: 0)
                    }
                    if m.memDim < c {
                        // ref: each pointer becomes C / memDim tokens; their position repeats.
                        let split = c / m.memDim
                        parts.append(ptrs.reshaped([posAndPtrs.count * split, m.memDim]))
                        positions.append(
                            objPos.reshaped([posAndPtrs.count, 1, m.memDim]).repeated(split, axis: 1)
                                .reshaped([posAndPtrs.count * split, m.memDim]))
                        numObjPtrTokens = posAndPtrs.count * split
                    } else {
                        parts.append(ptrs)
                        positions.append(objPos)
                        numObjPtrTokens = posAndPtrs.count
                    }
                }
            }
        }
        let memoryTokens = Tensor.concatenate(parts, axis: 0)
        let memoryPos = Tensor.concatenate(positions, axis: 0)
        // The first layer's self-attention sees the frame alone: one computation for all its objects.
        let start = features.shared.firstSelfAttention {
            let curr = tokens(features.vision.reshaped([c, h, w]))
            let currPos = tokens(features.position)
            return tracking.memoryAttention.firstSelfAttention(
                curr: curr.reshaped([1, h * w, c]), currPos: currPos.reshaped([1, h * w, c]))
        }
        let out = tracking.memoryAttention(
            afterFirstSelfAttention: start, memory: memoryTokens.reshaped([1] + memoryTokens.shape),
            memoryPos: memoryPos.reshaped([1] + memoryPos.shape), numObjPtrTokens: numObjPtrTokens)
        return out.reshaped([h * w, c]).permuted([1, 0]).reshaped([1, c, h, w])
    }

    /// `_encode_new_memory`: the frame's mask memory [1, memDim, h, w].
    func encodeNewMemory(features: FrameFeatures, highResMasks: Tensor, objectScoreLogit: Float, isMaskFromPoints: Bool)
        -> Tensor
    {
        let m = configuration.memory
        let binarize = m.binarizeMaskFromPtsForMemEnc && isMaskFromPoints
        let (scaleFactor, bias) = (m.sigmoidScaleForMemEnc, m.sigmoidBiasForMemEnc)
        let probabilities = binarize ? highResMasks.map { $0 > 0 ? 1 : 0 } : sigmoid(highResMasks)
        let maskForMem = probabilities.map { $0 * scaleFactor + bias }
        let projected = features.shared.projectedFeatures { tracking.memoryEncoder.pixFeatProj(features.vision) }
        var feats = tracking.memoryEncoder(projectedPixFeat: projected, masks: maskForMem, skipMaskSigmoid: true)
            .features
        if let noObj = tracking.noObjEmbedSpatial, !(objectScoreLogit > 0) {
            feats = add(feats.permuted([0, 2, 3, 1]), noObj).permuted([0, 3, 1, 2])
        }
        return feats
    }

    /// `_use_multimask`.
    func useMultimask(isInitCondFrame: Bool, points: PointInputs?) -> Bool {
        let m = configuration.memory
        let count = points?.labels.count ?? 0
        return m.multimaskOutputInSAM && (isInitCondFrame || m.multimaskOutputForTracking)
            && m.multimaskMinPtNum <= count && count <= m.multimaskMaxPtNum
    }

    /// `track_step` for one object on one frame.
    func trackStep(
        frame: Int, isInitCondFrame: Bool, features: FrameFeatures, points: PointInputs?, mask: Tensor?,
        memory: ObjectMemory, numFrames: Int, reverse: Bool, runMemoryEncoder: Bool,
        previousMaskLogits: Tensor?
    ) -> TrackStepOutput {
        let sam: SAMHeadsOutput
        if let mask, configuration.memory.useMaskInputAsOutputWithoutSAM {
            sam = useMaskAsOutput(features.vision, highRes: features.highRes, mask: mask)
        } else {
            let pix = memoryConditionedFeatures(
                frame: frame, isInitCondFrame: isInitCondFrame, features: features, memory: memory,
                numFrames: numFrames, reverse: reverse)
            sam = forwardSAMHeads(
                pix, points: points, mask: previousMaskLogits ?? mask, highRes: features.highRes,
                multimask: useMultimask(isInitCondFrame: isInitCondFrame, points: points))
        }
        var memoryFeatures: Tensor?
        if runMemoryEncoder && configuration.memory.numMaskmem > 0 {
            memoryFeatures = encodeNewMemory(
                features: features, highResMasks: sam.highResMasks, objectScoreLogit: sam.objectScoreLogit,
                isMaskFromPoints: points != nil)
        }
        return TrackStepOutput(
            lowResMasks: sam.lowResMasks, highResMasks: sam.highResMasks, objPtr: sam.objPtr,
            objectScoreLogit: sam.objectScoreLogit, maskmemFeatures: memoryFeatures)
    }
}
