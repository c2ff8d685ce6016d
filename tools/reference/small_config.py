"""The small test configuration: SAM 2 / 2.1 with every size shrunk, built by the reference code.

The official configs are overridden through Hydra (the same code path as the official builders),
so the small model is the reference's own architecture at a smaller scale: 128-pixel input,
a 4-stage Hiera of width 16 with windowed (padded) and global attention, a 32-wide neck and heads.
`swift_configuration` writes the same configuration as our Swift `SAM2Configuration` JSON.
"""
import json

IMAGE_SIZE = 128
TRUNK = dict(embed_dim=16, num_heads=1, stages=[1, 2, 2, 1], global_att_blocks=[4],
             window_spec=[8, 4, 6, 4], window_pos_embed_bkg_spatial_size=[4, 4])
D_MODEL = 32
MEM_DIM = 16
MEM_FFN = 64
MEM_LAYERS = 2


def hydra_overrides():
    t = TRUNK
    channels = [t["embed_dim"] * 2 ** i for i in range(4)][::-1]
    feat = IMAGE_SIZE // 16
    o = [
        f"++model.image_size={IMAGE_SIZE}",
        f"++model.image_encoder.trunk.embed_dim={t['embed_dim']}",
        f"++model.image_encoder.trunk.num_heads={t['num_heads']}",
        f"++model.image_encoder.trunk.stages={t['stages']}",
        f"++model.image_encoder.trunk.global_att_blocks={t['global_att_blocks']}",
        f"++model.image_encoder.trunk.window_spec={t['window_spec']}",
        f"++model.image_encoder.trunk.window_pos_embed_bkg_spatial_size={t['window_pos_embed_bkg_spatial_size']}",
        f"++model.image_encoder.neck.d_model={D_MODEL}",
        f"++model.image_encoder.neck.backbone_channel_list={channels}",
        f"++model.image_encoder.neck.position_encoding.num_pos_feats={D_MODEL}",
        f"++model.memory_attention.d_model={D_MODEL}",
        f"++model.memory_attention.num_layers={MEM_LAYERS}",
        f"++model.memory_attention.layer.d_model={D_MODEL}",
        f"++model.memory_attention.layer.dim_feedforward={MEM_FFN}",
        f"++model.memory_attention.layer.self_attention.embedding_dim={D_MODEL}",
        f"++model.memory_attention.layer.self_attention.feat_sizes=[{feat},{feat}]",
        f"++model.memory_attention.layer.cross_attention.embedding_dim={D_MODEL}",
        f"++model.memory_attention.layer.cross_attention.feat_sizes=[{feat},{feat}]",
        f"++model.memory_attention.layer.cross_attention.kv_in_dim={MEM_DIM}",
        f"++model.memory_encoder.out_dim={MEM_DIM}",
        f"++model.memory_encoder.in_dim={D_MODEL}",
        f"++model.memory_encoder.position_encoding.num_pos_feats={MEM_DIM}",
        f"++model.memory_encoder.mask_downsampler.embed_dim={D_MODEL}",
        f"++model.memory_encoder.fuser.layer.dim={D_MODEL}",
    ]
    return o


def swift_configuration(version):
    """Our SAM2Configuration (Codable JSON) for the small configuration of `version` ("2.0"/"2.1")."""
    t = TRUNK
    v21 = version == "2.1"
    feat = IMAGE_SIZE // 16
    return {
        "name": f"small_{version}",
        "version": version,
        "imageSize": IMAGE_SIZE,
        "backboneStride": 16,
        "pixelMean": [0.485, 0.456, 0.406],
        "pixelStd": [0.229, 0.224, 0.225],
        "trunk": {
            "embedDim": t["embed_dim"], "numHeads": t["num_heads"], "stages": t["stages"],
            "globalAttentionBlocks": t["global_att_blocks"], "windowSpec": t["window_spec"],
            "positionEmbeddingSize": t["window_pos_embed_bkg_spatial_size"],
            "qPool": 3, "qStride": 2, "dimMul": 2, "headMul": 2, "mlpRatio": 4,
            "patchKernelSize": 7, "patchStride": 4, "patchPadding": 3, "layerNormEps": 1e-6,
        },
        "neck": {
            "dModel": D_MODEL, "backboneChannelList": [t["embed_dim"] * 2 ** i for i in range(4)][::-1],
            "fpnTopDownLevels": [2, 3], "scalp": 1, "positionTemperature": 10000,
        },
        "heads": {
            "maskInChans": 16, "numMultimaskOutputs": 3, "transformerDepth": 2, "transformerMLPDim": 2048,
            "transformerHeads": 8, "attentionDownsampleRate": 2, "iouHeadDepth": 3, "iouHeadHiddenDim": 256,
            "useHighResFeatures": True, "iouPredictionUseSigmoid": True, "predObjScores": True,
            "predObjScoresMLP": True, "useMultimaskTokenForObjPtr": True, "dynamicMultimaskViaStability": True,
            "dynamicMultimaskStabilityDelta": 0.05, "dynamicMultimaskStabilityThresh": 0.98, "layerNormEps": 1e-5,
        },
        "memory": {
            "numMaskmem": 7, "memDim": MEM_DIM, "attentionLayers": MEM_LAYERS, "attentionFeedforwardDim": MEM_FFN,
            "attentionHeads": 1, "ropeTheta": 10000, "ropeFeatureSize": [feat, feat],
            "maskDownsamplerKernel": 3, "maskDownsamplerStride": 2, "maskDownsamplerPadding": 1,
            "maskDownsamplerTotalStride": 16, "fuserLayers": 2, "fuserKernel": 7, "fuserPadding": 3,
            "sigmoidScaleForMemEnc": 20, "sigmoidBiasForMemEnc": -10, "useMaskInputAsOutputWithoutSAM": True,
            "directlyAddNoMemEmbed": True, "noObjEmbedSpatial": v21, "useObjPtrsInEncoder": True,
            "maxObjPtrsInEncoder": 16, "addTposEncToObjPtrs": v21, "projTposEncInObjPtrs": v21,
            "useSignedTposEncToObjPtrs": v21, "onlyObjPtrsInThePastForEval": True, "fixedNoObjPtr": True,
            "useMLPForObjPtrProj": True, "multimaskOutputInSAM": True, "multimaskOutputForTracking": True,
            "multimaskMinPtNum": 0, "multimaskMaxPtNum": 1, "maxCondFramesInAttn": -1,
            "memoryTemporalStrideForEval": 1, "nonOverlapMasksForMemEnc": False,
            "binarizeMaskFromPtsForMemEnc": True, "fillHoleArea": 8,
        },
    }


def write_swift_configuration(version, path):
    with open(path, "w") as f:
        json.dump(swift_configuration(version), f, indent=1, sort_keys=True)
