// Parity of the video memory modules with the reference on the committed small SAM 2.1 checkpoint
// (tools/reference/make_memory_fixtures.py): the memory encoder (with and without the mask sigmoid)
// and the memory attention (RoPE with repeated keys and object-pointer tokens left unrotated).

import Foundation
import SAM2Checkpoint
import Testing

@testable import SAM2
@testable import SAM2IO
@testable import SAM2Workflows

struct MemoryParityTests {
    static func modules() throws -> (MemoryEncoder, MemoryAttention) {
        let config = try SAM2Configuration.named(ModelFixtures.url("model/small_2.1.json").path)
        let store = try WeightStore(checkpoint: CheckpointFile.open(ModelFixtures.url("model/small_2.1.pt")))
        return (
            try MemoryEncoder(store.scoped("memory_encoder"), configuration: config),
            try MemoryAttention(store.scoped("memory_attention"), configuration: config)
        )
    }

    @Test func memoryEncoder() throws {
        let (encoder, _) = try Self.modules()
        let ref = try ReferenceCase("model/2.1_memory.safetensors")
        let out = encoder(pixFeat: try ref["pix_feat"], masks: try ref["mask_logits"], skipMaskSigmoid: false)
        #expect(relativeL2(out.features, try ref["encoder_features"]) <= 1e-4)
        #expect(relativeL2(out.position.reshaped([1] + out.position.shape), try ref["encoder_pos"]) <= 1e-4)
        let probs = encoder(pixFeat: try ref["pix_feat"], masks: try ref["mask_probs"], skipMaskSigmoid: true)
        #expect(relativeL2(probs.features, try ref["encoder_features_probs"]) <= 1e-4)
    }

    @Test func memoryAttention() throws {
        let (_, attention) = try Self.modules()
        let ref = try ReferenceCase("model/2.1_memory.safetensors")
        let pointers = Int(ref.file.metadata["num_obj_ptr_tokens"]!)!
        let out = attention(
            curr: try ref["curr"], currPos: try ref["curr_pos"], memory: try ref["memory"],
            memoryPos: try ref["memory_pos"], numObjPtrTokens: pointers)
        #expect(relativeL2(out, try ref["attention_output"]) <= 1e-4)
        // The pointer tokens take part: without them the output differs.
        let frames = try ref["memory"].dim(1) - pointers
        let withoutPointers = attention(
            curr: try ref["curr"], currPos: try ref["curr_pos"],
            memory: try ref["memory"].slice(axis: 1, 0..<frames),
            memoryPos: try ref["memory_pos"].slice(axis: 1, 0..<frames), numObjPtrTokens: 0)
        #expect(relativeL2(withoutPointers, try ref["attention_output"]) > 1e-3)
    }
}
