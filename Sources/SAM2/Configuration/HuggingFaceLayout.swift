// HuggingFaceLayout: the Hugging Face `transformers` SAM 2 checkpoint layout (the `model.safetensors`
// of `facebook/sam2.1-hiera-*`, written by transformers' convert_sam2_video_to_hf.py and
// Sam2VideoModel.save_pretrained) read under the official key names, in this one place.
//
// Every HF key must match one rule below; any other key is an error naming it. `#` is an integer,
// `$` is `weight` or `bias`, `{a,b:c}` one of the listed segments (`b` renamed to `c`).
//
//   HF key                                                    official key
//   vision_encoder.backbone.patch_embed.projection.$          image_encoder.trunk.patch_embed.proj.$
//   vision_encoder.backbone.{pos_embed,pos_embed_window}      image_encoder.trunk.<same>
//   vision_encoder.backbone.blocks.#.{layer_norm1:norm1,layer_norm2:norm2,proj}.$
//                                                             image_encoder.trunk.blocks.#.<seg>.$
//   vision_encoder.backbone.blocks.#.attn.{qkv,proj}.$        image_encoder.trunk.blocks.#.attn.<seg>.$
//   vision_encoder.neck.convs.#.$                             image_encoder.neck.convs.#.conv.$
//   prompt_encoder.shared_embedding.positional_embedding      sam_prompt_encoder.pe_layer
//                                                               .positional_encoding_gaussian_matrix
//   shared_image_embedding.positional_embedding               (copy of the one above: must be equal; dropped)
//   prompt_encoder.point_embed.weight [N, C]                  sam_prompt_encoder.point_embeddings.{0..N-1}.weight
//                                                             [1, C] (rows split)
//   prompt_encoder.{not_a_point_embed,no_mask_embed}.weight   sam_prompt_encoder.<same>.weight
//   prompt_encoder.mask_embed.{conv1,layer_norm1,conv2,layer_norm2,conv3}.$
//                                                             sam_prompt_encoder.mask_downscaling.{0,1,3,4,6}.$
//   mask_decoder.{iou_token,mask_tokens,obj_score_token}.weight, mask_decoder.{conv_s0,conv_s1}.$
//                                                             sam_mask_decoder.<same>
//   mask_decoder.{upscale_conv1,upscale_layer_norm,upscale_conv2}.$
//                                                             sam_mask_decoder.output_upscaling.{0,1,3}.$
//   mask_decoder.transformer.layers.#.{self_attn,cross_attn_token_to_image,cross_attn_image_to_token}
//     .{q_proj,k_proj,v_proj,o_proj:out_proj}.$
//   mask_decoder.transformer.final_attn_token_to_image.{q_proj,k_proj,v_proj,o_proj:out_proj}.$
//   mask_decoder.transformer.layers.#.layer_norm{1,2,3,4}.$   sam_mask_decoder.transformer.layers.#.norm{1..4}.$
//   mask_decoder.transformer.layer_norm_final_attn.$          sam_mask_decoder.transformer.norm_final_attn.$
//   memory_attention.layers.#.{self_attn,cross_attn_image}.{q_proj,k_proj,v_proj,o_proj:out_proj}.$
//   memory_attention.layers.#.{linear1,linear2,layer_norm1:norm1,layer_norm2:norm2,layer_norm3:norm3}.$
//   memory_attention.layer_norm.$                             memory_attention.norm.$
//   memory_encoder.mask_downsampler.layers.#.conv.$           memory_encoder.mask_downsampler.encoder.(3#).$
//   memory_encoder.mask_downsampler.layers.#.layer_norm.$     memory_encoder.mask_downsampler.encoder.(3#+1).$
//   memory_encoder.mask_downsampler.final_conv.$              memory_encoder.mask_downsampler.encoder.(3·layers).$
//   memory_encoder.memory_fuser.layers.#.{depthwise_conv:dwconv,pointwise_conv1:pwconv1,pointwise_conv2:pwconv2,
//     layer_norm:norm}.$
//   memory_encoder.memory_fuser.layers.#.scale                memory_encoder.fuser.layers.#.gamma
//   memory_encoder.{projection:out_proj,feature_projection:pix_feat_proj}.$
//   mask_downsample.$                                         mask_downsample.$
//   temporal_positional_encoding_projection_layer.$           obj_ptr_tpos_proj.$
//   no_memory_embedding, no_memory_positional_encoding, no_object_pointer,
//   occlusion_spatial_embedding_parameter, memory_temporal_positional_encoding
//                                                             no_mem_embed, no_mem_pos_enc, no_obj_ptr,
//                                                             no_obj_embed_spatial, maskmem_tpos_enc
//   MLPs (P = vision_encoder.backbone.blocks.#.mlp, mask_decoder.transformer.layers.#.mlp,
//   mask_decoder.iou_prediction_head, mask_decoder.output_hypernetworks_mlps.#,
//   mask_decoder.pred_obj_score_head, object_pointer_proj; O = the official scope):
//     P.proj_in.$ → O.layers.0.$,  P.layers.#.$ → O.layers.(#+1).$,  P.proj_out.$ → O.layers.(k+1).$
//     (k = how many P.layers.# the file has); a single-Linear P.$ → O.$.
//
// Only two tensors are transformed rather than renamed: the stacked point embeddings (split into
// rows) and the duplicated prompt position-encoding matrix (checked equal, one copy kept). The HF
// layout stores nothing the official model recomputes, and lacks nothing it needs. Files written
// from the image-only Sam2Model lack the memory tensors and are refused (a missing-weight error):
// the model is loaded whole, video included.

import Foundation
import SAM2Checkpoint
import SAM2Tensor

public enum HuggingFaceLayoutError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Keys that follow no rule of the layout (up to a few, and how many in all).
    case unknownKeys(source: String, keys: [String], count: Int)
    /// The two copies of the prompt position-encoding matrix differ.
    case inconsistentCopies(source: String, keys: [String])
    /// A tensor that is split or checked has an unexpected shape.
    case misShaped(source: String, key: String, shape: [Int])

    public var description: String {
        switch self {
        case .unknownKeys(let source, let keys, let count):
            let more = count > keys.count ? " and \(count - keys.count) more" : ""
            return
                "\(source) is in the Hugging Face transformers layout but has \(count) key\(count == 1 ? "" : "s") "
                + "that layout does not define: \(keys.joined(separator: ", "))\(more)"
        case .inconsistentCopies(let source, let keys):
            return "\(source): \(keys.joined(separator: " and ")) should be copies of one tensor but differ"
        case .misShaped(let source, let key, let shape):
            return "\(source): \(key) has shape \(shape), which the Hugging Face layout does not allow"
        }
    }
}

public enum HuggingFaceLayout {
    /// The duplicated position-encoding matrix (HF keeps one copy for the image-wide encoding).
    static let positionMatrix = "prompt_encoder.shared_embedding.positional_embedding"
    static let positionMatrixCopy = "shared_image_embedding.positional_embedding"
    static let pointEmbeddings = "prompt_encoder.point_embed.weight"

    /// True when the keys are transformers' SAM 2 names (a `vision_encoder.` tensor, no `image_encoder.` one).
    public static func matches(keys: [String]) -> Bool {
        keys.contains { $0.hasPrefix("vision_encoder.") } && !keys.contains { $0.hasPrefix("image_encoder.") }
    }

    /// The checkpoint's weights under the official key names, whichever layout it is stored in.
    public static func officialWeights(_ file: CheckpointFile) throws -> WeightStore {
        guard matches(keys: file.keys) else { return try WeightStore(checkpoint: file) }
        let shapes = Dictionary(uniqueKeysWithValues: file.keys.map { ($0, file.entry($0)!.shape) })
        return WeightStore(
            entries: try officialEntries(shapes: shapes, source: file.path) { try file.tensor($0) }, source: file.path)
    }

    /// Official key → lazily loaded tensor for HF-layout tensors (`shapes`, read by `load`);
    /// throws naming the keys no rule knows.
    static func officialEntries(
        shapes: [String: [Int]], source: String,
        load: @escaping @Sendable (String) throws -> Tensor
    ) throws -> [String: LazyTensor] {
        let context = Context(keys: Array(shapes.keys))
        var entries: [String: LazyTensor] = [:]
        var unknown: [String] = []
        func add(_ name: String, _ tensor: LazyTensor) throws {
            guard entries[name] == nil else { throw CheckpointError.duplicateKey(source: source, key: name) }
            entries[name] = tensor
        }
        for key in shapes.keys.sorted() {
            switch key {
            case positionMatrixCopy where shapes[positionMatrix] != nil:
                continue  // read together with its original below
            case positionMatrix, positionMatrixCopy:
                let copies = [positionMatrix, positionMatrixCopy].filter { shapes[$0] != nil }
                guard copies.allSatisfy({ shapes[$0] == shapes[key] }) else {
                    throw HuggingFaceLayoutError.inconsistentCopies(source: source, keys: copies)
                }
                try add(
                    "sam_prompt_encoder.pe_layer.positional_encoding_gaussian_matrix",
                    LazyTensor(shape: shapes[key]!) {
                        let tensors = try copies.map { try load($0) }
                        guard tensors.allSatisfy({ $0.scalars == tensors[0].scalars }) else {
                            throw HuggingFaceLayoutError.inconsistentCopies(source: source, keys: copies)
                        }
                        return tensors[0]
                    })
            case pointEmbeddings:
                let shape = shapes[key]!
                guard shape.count == 2 else {
                    throw HuggingFaceLayoutError.misShaped(source: source, key: key, shape: shape)
                }
                for row in 0..<shape[0] {
                    try add(
                        "sam_prompt_encoder.point_embeddings.\(row).weight",
                        LazyTensor(shape: [1, shape[1]]) {
                            try load(key).slice(axis: 0, row..<row + 1)
                        })
                }
            default:
                guard let name = officialName(key, context) else {
                    unknown.append(key)
                    continue
                }
                try add(name, LazyTensor(shape: shapes[key]!) { try load(key) })
            }
        }
        guard unknown.isEmpty else {
            throw HuggingFaceLayoutError.unknownKeys(
                source: source, keys: Array(unknown.prefix(5)), count: unknown.count)
        }
        return entries
    }

    /// The official name of a renamed (not transformed) HF key, or nil when no rule matches.
    static func officialName(_ key: String, _ context: Context) -> String? {
        let segments = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        for rule in rules {
            if let captures = rule.match(segments), let name = rule.build(captures, context) { return name }
        }
        return nil
    }

    /// What a rule needs to know about the whole file: how many numbered children a scope has.
    struct Context {
        /// Scope (dotted path ending before the number) → the distinct numbers under it.
        private var children: [String: Set<Int>] = [:]

        init(keys: [String]) {
            for key in keys {
                let segments = key.split(separator: ".").map(String.init)
                for (i, segment) in segments.enumerated() where i > 0 {
                    if let n = Int(segment) { children[segments[..<i].joined(separator: "."), default: []].insert(n) }
                }
            }
        }

        func count(_ scope: String) -> Int { children[scope]?.count ?? 0 }
    }

    /// A key pattern over dotted segments and how to build the official name from its captures.
    struct Rule: Sendable {
        enum Segment: Sendable {
            case literal(String)
            case number  // `#`
            case parameter  // `$`: weight or bias
            case oneOf([String: String])  // `{a,b:c}`
        }
        let pattern: [Segment]
        let build: @Sendable ([String], Context) -> String?

        init(_ pattern: String, build: @escaping @Sendable ([String], Context) -> String?) {
            self.pattern = pattern.split(separator: ".").map { part in
                switch part {
                case "#": return .number
                case "$": return .parameter
                case _ where part.hasPrefix("{"):
                    var options: [String: String] = [:]
                    for option in part.dropFirst().dropLast().split(separator: ",") {
                        let pair = option.split(separator: ":").map(String.init)
                        options[pair[0]] = pair.count > 1 ? pair[1] : pair[0]
                    }
                    return .oneOf(options)
                default: return .literal(String(part))
                }
            }
            self.build = build
        }

        /// A rule whose official name is `template` with each `*` replaced by the next capture.
        init(_ pattern: String, _ template: String) {
            self.init(pattern) { captures, _ in
                var out = ""
                var next = captures.makeIterator()
                for c in template { if c == "*" { out += next.next()! } else { out.append(c) } }
                return out
            }
        }

        /// The captured segments (numbers, parameters, renamed alternatives), or nil.
        func match(_ segments: [String]) -> [String]? {
            guard segments.count == pattern.count else { return nil }
            var captures: [String] = []
            for (segment, part) in zip(segments, pattern) {
                switch part {
                case .literal(let text): guard segment == text else { return nil }
                case .number:
                    guard !segment.isEmpty, segment.allSatisfy({ ("0"..."9").contains($0) }) else { return nil }
                    captures.append(segment)
                case .parameter:
                    guard segment == "weight" || segment == "bias" else { return nil }
                    captures.append(segment)
                case .oneOf(let options):
                    guard let renamed = options[segment] else { return nil }
                    captures.append(renamed)
                }
            }
            return captures
        }
    }

    /// The three rules of one MLP scope (`proj_in`, `layers.#`, `proj_out` → `layers.#`) and its
    /// single-Linear form. `hf` and `official` may contain `#`, captured in order.
    static func mlp(_ hf: String, _ official: String) -> [Rule] {
        @Sendable func scope(_ template: String, _ numbers: ArraySlice<String>) -> String {
            var out = ""
            var next = numbers.makeIterator()
            for c in template { if c == "#" { out += next.next()! } else { out.append(c) } }
            return out
        }
        let depth = hf.filter { $0 == "#" }.count
        return [
            Rule("\(hf).proj_in.$") { c, _ in "\(scope(official, c[..<depth])).layers.0.\(c[depth])" },
            Rule("\(hf).layers.#.$") { c, _ in
                "\(scope(official, c[..<depth])).layers.\(Int(c[depth])! + 1).\(c[depth + 1])"
            },
            Rule("\(hf).proj_out.$") { c, context in
                let last = context.count(scope(hf, c[..<depth]) + ".layers") + 1
                return "\(scope(official, c[..<depth])).layers.\(last).\(c[depth])"
            },
        ]
    }

    static let rules: [Rule] = {
        let attention = "{q_proj,k_proj,v_proj,o_proj:out_proj}"
        let decoderAttention = "{self_attn,cross_attn_token_to_image,cross_attn_image_to_token}"
        var rules = [
            // Image encoder: Hiera trunk and FPN neck.
            Rule("vision_encoder.backbone.patch_embed.projection.$", "image_encoder.trunk.patch_embed.proj.*"),
            Rule("vision_encoder.backbone.{pos_embed,pos_embed_window}", "image_encoder.trunk.*"),
            Rule(
                "vision_encoder.backbone.blocks.#.{layer_norm1:norm1,layer_norm2:norm2,proj}.$",
                "image_encoder.trunk.blocks.*.*.*"),
            Rule("vision_encoder.backbone.blocks.#.attn.{qkv,proj}.$", "image_encoder.trunk.blocks.*.attn.*.*"),
            Rule("vision_encoder.neck.convs.#.$", "image_encoder.neck.convs.*.conv.*"),
            // Prompt encoder (the position matrix and point embeddings are handled by officialEntries).
            Rule("prompt_encoder.{not_a_point_embed,no_mask_embed}.weight", "sam_prompt_encoder.*.weight"),
            Rule(
                "prompt_encoder.mask_embed.{conv1:0,layer_norm1:1,conv2:3,layer_norm2:4,conv3:6}.$",
                "sam_prompt_encoder.mask_downscaling.*.*"),
            // Mask decoder.
            Rule("mask_decoder.{iou_token,mask_tokens,obj_score_token}.weight", "sam_mask_decoder.*.weight"),
            Rule("mask_decoder.{conv_s0,conv_s1}.$", "sam_mask_decoder.*.*"),
            Rule(
                "mask_decoder.{upscale_conv1:0,upscale_layer_norm:1,upscale_conv2:3}.$",
                "sam_mask_decoder.output_upscaling.*.*"),
            Rule(
                "mask_decoder.transformer.layers.#.\(decoderAttention).\(attention).$",
                "sam_mask_decoder.transformer.layers.*.*.*.*"),
            Rule(
                "mask_decoder.transformer.layers.#."
                    + "{layer_norm1:norm1,layer_norm2:norm2,layer_norm3:norm3,layer_norm4:norm4}.$",
                "sam_mask_decoder.transformer.layers.*.*.*"),
            Rule(
                "mask_decoder.transformer.final_attn_token_to_image.\(attention).$",
                "sam_mask_decoder.transformer.final_attn_token_to_image.*.*"),
            Rule("mask_decoder.transformer.layer_norm_final_attn.$", "sam_mask_decoder.transformer.norm_final_attn.*"),
            Rule("mask_decoder.pred_obj_score_head.$", "sam_mask_decoder.pred_obj_score_head.*"),
            // Memory attention and memory encoder (video).
            Rule(
                "memory_attention.layers.#.{self_attn,cross_attn_image}.\(attention).$",
                "memory_attention.layers.*.*.*.*"),
            Rule(
                "memory_attention.layers.#.{linear1,linear2,layer_norm1:norm1,layer_norm2:norm2,layer_norm3:norm3}.$",
                "memory_attention.layers.*.*.*"),
            Rule("memory_attention.layer_norm.$", "memory_attention.norm.*"),
            Rule("memory_encoder.mask_downsampler.layers.#.{conv:0,layer_norm:1}.$") { c, _ in
                "memory_encoder.mask_downsampler.encoder.\(3 * Int(c[0])! + Int(c[1])!).\(c[2])"
            },
            Rule("memory_encoder.mask_downsampler.final_conv.$") { c, context in
                let index = 3 * context.count("memory_encoder.mask_downsampler.layers")
                return "memory_encoder.mask_downsampler.encoder.\(index).\(c[0])"
            },
            Rule(
                "memory_encoder.memory_fuser.layers.#."
                    + "{depthwise_conv:dwconv,pointwise_conv1:pwconv1,pointwise_conv2:pwconv2,layer_norm:norm}.$",
                "memory_encoder.fuser.layers.*.*.*"),
            Rule("memory_encoder.memory_fuser.layers.#.scale", "memory_encoder.fuser.layers.*.gamma"),
            Rule("memory_encoder.{projection:out_proj,feature_projection:pix_feat_proj}.$", "memory_encoder.*.*"),
            Rule("mask_downsample.$", "mask_downsample.*"),
            Rule("object_pointer_proj.$", "obj_ptr_proj.*"),
            Rule("temporal_positional_encoding_projection_layer.$", "obj_ptr_tpos_proj.*"),
            Rule(
                "{no_memory_embedding:no_mem_embed,no_memory_positional_encoding:no_mem_pos_enc,"
                    + "no_object_pointer:no_obj_ptr,occlusion_spatial_embedding_parameter:no_obj_embed_spatial,"
                    + "memory_temporal_positional_encoding:maskmem_tpos_enc}",
                "*"),
        ]
        rules += mlp("vision_encoder.backbone.blocks.#.mlp", "image_encoder.trunk.blocks.#.mlp")
        rules += mlp("mask_decoder.transformer.layers.#.mlp", "sam_mask_decoder.transformer.layers.#.mlp")
        rules += mlp("mask_decoder.iou_prediction_head", "sam_mask_decoder.iou_prediction_head")
        rules += mlp("mask_decoder.output_hypernetworks_mlps.#", "sam_mask_decoder.output_hypernetworks_mlps.#")
        rules += mlp("mask_decoder.pred_obj_score_head", "sam_mask_decoder.pred_obj_score_head")
        rules += mlp("object_pointer_proj", "obj_ptr_proj")
        return rules
    }()
}
