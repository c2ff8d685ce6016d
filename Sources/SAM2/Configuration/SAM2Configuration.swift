// SAM2Configuration: every size and switch of a SAM 2 / SAM 2.1 model as data, with the eight
// official presets. Mirrors sam2/configs/sam2{,.1}/*.yaml plus the defaults of the classes they name.

import Foundation

/// The Hiera trunk (reference: sam2/modeling/backbones/hieradet.py, `Hiera.__init__`).
public struct HieraConfiguration: Codable, Sendable, Equatable {
    public var embedDim: Int
    public var numHeads: Int
    public var stages: [Int]
    public var globalAttentionBlocks: [Int]
    public var windowSpec: [Int]
    /// Size of the background position embedding grid (`window_pos_embed_bkg_spatial_size`).
    public var positionEmbeddingSize: [Int]
    public var qPool: Int = 3
    public var qStride: Int = 2
    public var dimMul: Int = 2
    public var headMul: Int = 2
    public var mlpRatio: Int = 4
    public var patchKernelSize: Int = 7
    public var patchStride: Int = 4
    public var patchPadding: Int = 3
    public var layerNormEps: Float = 1e-6

    public init(
        embedDim: Int, numHeads: Int, stages: [Int], globalAttentionBlocks: [Int],
        windowSpec: [Int] = [8, 4, 14, 7], positionEmbeddingSize: [Int] = [14, 14]
    ) {
        self.embedDim = embedDim
        self.numHeads = numHeads
        self.stages = stages
        self.globalAttentionBlocks = globalAttentionBlocks
        self.windowSpec = windowSpec
        self.positionEmbeddingSize = positionEmbeddingSize
    }

    /// Channels at the end of each stage, finest first (embedDim · dimMul^stage).
    public var stageChannels: [Int] { stages.indices.map { embedDim * Int(pow(Double(dimMul), Double($0))) } }
    public var depth: Int { stages.reduce(0, +) }
}

/// The FPN neck (reference: `FpnNeck` in sam2/modeling/backbones/image_encoder.py).
public struct NeckConfiguration: Codable, Sendable, Equatable {
    public var dModel: Int = 256
    /// Trunk channels, coarsest first, as the reference lists them.
    public var backboneChannelList: [Int]
    public var fpnTopDownLevels: [Int] = [2, 3]
    /// Number of coarsest levels dropped after the neck (`ImageEncoder.scalp`).
    public var scalp: Int = 1
    public var positionTemperature: Float = 10000

    public init(backboneChannelList: [Int]) { self.backboneChannelList = backboneChannelList }
}

/// The SAM prompt encoder and mask decoder (reference: `SAM2Base._build_sam_heads`).
public struct SAMHeadsConfiguration: Codable, Sendable, Equatable {
    public var maskInChans: Int = 16
    public var numMultimaskOutputs: Int = 3
    public var transformerDepth: Int = 2
    public var transformerMLPDim: Int = 2048
    public var transformerHeads: Int = 8
    public var attentionDownsampleRate: Int = 2
    public var iouHeadDepth: Int = 3
    public var iouHeadHiddenDim: Int = 256
    public var useHighResFeatures: Bool = true
    public var iouPredictionUseSigmoid: Bool = true
    public var predObjScores: Bool = true
    public var predObjScoresMLP: Bool = true
    public var useMultimaskTokenForObjPtr: Bool = true
    /// Set by the reference's builders (`apply_postprocessing=True`).
    public var dynamicMultimaskViaStability: Bool = true
    public var dynamicMultimaskStabilityDelta: Float = 0.05
    public var dynamicMultimaskStabilityThresh: Float = 0.98
    public var layerNormEps: Float = 1e-5

    public init() {}
}

/// Memory attention, memory encoder and the tracking switches of `SAM2Base`.
public struct MemoryConfiguration: Codable, Sendable, Equatable {
    public var numMaskmem: Int = 7
    public var memDim: Int = 64
    public var attentionLayers: Int = 4
    public var attentionFeedforwardDim: Int = 2048
    public var attentionHeads: Int = 1
    public var ropeTheta: Float = 10000
    public var ropeFeatureSize: [Int] = [64, 64]
    public var maskDownsamplerKernel: Int = 3
    public var maskDownsamplerStride: Int = 2
    public var maskDownsamplerPadding: Int = 1
    public var maskDownsamplerTotalStride: Int = 16
    public var fuserLayers: Int = 2
    public var fuserKernel: Int = 7
    public var fuserPadding: Int = 3
    public var sigmoidScaleForMemEnc: Float = 20
    public var sigmoidBiasForMemEnc: Float = -10
    public var useMaskInputAsOutputWithoutSAM: Bool = true
    public var directlyAddNoMemEmbed: Bool = true
    public var noObjEmbedSpatial: Bool
    public var useObjPtrsInEncoder: Bool = true
    public var maxObjPtrsInEncoder: Int = 16
    public var addTposEncToObjPtrs: Bool
    public var projTposEncInObjPtrs: Bool
    public var useSignedTposEncToObjPtrs: Bool
    public var onlyObjPtrsInThePastForEval: Bool = true
    public var fixedNoObjPtr: Bool = true
    public var useMLPForObjPtrProj: Bool = true
    public var multimaskOutputInSAM: Bool = true
    public var multimaskOutputForTracking: Bool = true
    public var multimaskMinPtNum: Int = 0
    public var multimaskMaxPtNum: Int = 1
    public var maxCondFramesInAttn: Int = -1
    public var memoryTemporalStrideForEval: Int = 1
    public var nonOverlapMasksForMemEnc: Bool = false
    /// Set by the reference's video builder.
    public var binarizeMaskFromPtsForMemEnc: Bool = true
    public var fillHoleArea: Int = 8

    public init(version21: Bool) {
        noObjEmbedSpatial = version21
        addTposEncToObjPtrs = version21
        projTposEncInObjPtrs = version21
        useSignedTposEncToObjPtrs = version21
    }
}

public struct SAM2Configuration: Codable, Sendable, Equatable {
    /// Official name, e.g. `sam2.1_hiera_b+`, or a free name for a custom configuration.
    public var name: String
    /// "2.0" or "2.1".
    public var version: String
    public var imageSize: Int = 1024
    public var backboneStride: Int = 16
    public var trunk: HieraConfiguration
    public var neck: NeckConfiguration
    public var heads: SAMHeadsConfiguration
    public var memory: MemoryConfiguration
    /// ImageNet normalisation applied to input pixels in [0, 1].
    public var pixelMean: [Float] = [0.485, 0.456, 0.406]
    public var pixelStd: [Float] = [0.229, 0.224, 0.225]

    public init(name: String, version: String, trunk: HieraConfiguration) {
        self.name = name
        self.version = version
        self.trunk = trunk
        self.neck = NeckConfiguration(backboneChannelList: trunk.stageChannels.reversed())
        self.heads = SAMHeadsConfiguration()
        self.memory = MemoryConfiguration(version21: version == "2.1")
    }

    public var hiddenDim: Int { neck.dModel }
    /// Side of the image embedding grid (64 at 1024 / 16).
    public var imageEmbeddingSize: Int { imageSize / backboneStride }
    public var isVersion21: Bool { version == "2.1" }
}

extension SAM2Configuration {
    static func trunk(_ size: String) -> HieraConfiguration {
        switch size {
        case "t":
            return HieraConfiguration(
                embedDim: 96, numHeads: 1, stages: [1, 2, 7, 2], globalAttentionBlocks: [5, 7, 9],
                positionEmbeddingSize: [7, 7])
        case "s":
            return HieraConfiguration(
                embedDim: 96, numHeads: 1, stages: [1, 2, 11, 2], globalAttentionBlocks: [7, 10, 13],
                positionEmbeddingSize: [7, 7])
        case "b+":
            return HieraConfiguration(
                embedDim: 112, numHeads: 2, stages: [2, 3, 16, 3], globalAttentionBlocks: [12, 16, 20])
        default:
            return HieraConfiguration(
                embedDim: 144, numHeads: 2, stages: [2, 6, 36, 4], globalAttentionBlocks: [23, 33, 43],
                windowSpec: [8, 4, 16, 8], positionEmbeddingSize: [7, 7])
        }
    }

    /// The eight official configurations, named as the reference's config files.
    public static let presets: [SAM2Configuration] = ["2.1", "2.0"].flatMap { version in
        ["t", "s", "b+", "l"].map { size in
            let prefix = version == "2.1" ? "sam2.1" : "sam2"
            return SAM2Configuration(name: "\(prefix)_hiera_\(size)", version: version, trunk: trunk(size))
        }
    }

    /// Short names users type, mapped to the SAM 2.1 presets.
    public static let aliases: [String: String] = [
        "tiny": "sam2.1_hiera_t", "small": "sam2.1_hiera_s", "base_plus": "sam2.1_hiera_b+", "large": "sam2.1_hiera_l",
    ]

    /// A preset by name or alias, or a configuration from a JSON file at `nameOrPath`.
    public static func named(_ nameOrPath: String) throws -> SAM2Configuration {
        let name = aliases[nameOrPath] ?? nameOrPath
        if let preset = presets.first(where: { $0.name == name }) { return preset }
        if nameOrPath.hasSuffix(".json") {
            let url = URL(fileURLWithPath: nameOrPath)
            guard let data = try? Data(contentsOf: url) else { throw ConfigurationError.unreadableFile(nameOrPath) }
            do { return try JSONDecoder().decode(SAM2Configuration.self, from: data) } catch {
                throw ConfigurationError.invalidFile(nameOrPath, String(describing: error))
            }
        }
        throw ConfigurationError.unknownName(nameOrPath)
    }
}

public enum ConfigurationError: Error, CustomStringConvertible, Equatable {
    case unknownName(String)
    case unreadableFile(String)
    case invalidFile(String, String)
    case unknownArchitecture(String)

    public var description: String {
        switch self {
        case .unknownName(let name):
            let known = (SAM2Configuration.presets.map(\.name) + SAM2Configuration.aliases.keys.sorted()).joined(
                separator: ", ")
            return "unknown configuration '\(name)': expected one of \(known), or a configuration .json file"
        case .unreadableFile(let path): return "cannot read configuration file \(path)"
        case .invalidFile(let path, let why):
            return "configuration file \(path) is not a valid SAM 2 configuration: \(why)"
        case .unknownArchitecture(let found):
            return "unknown architecture: \(found); pass --config NAME to choose a configuration"
        }
    }
}
