// Tests of WeightStore: scoped lookup by full reference key, strict shape checks, unused-key
// verification, key remapping and thread-safe use tracking.

import Foundation
import SAM2Checkpoint
import SAM2Tensor
import Testing

@Suite struct WeightStoreTests {
    func store() -> WeightStore {
        WeightStore(
            tensors: [
                "image_encoder.trunk.blocks.0.attn.qkv.weight": Tensor(
                    shape: [6, 2], scalars: (0..<12).map(Float.init)),
                "image_encoder.trunk.blocks.0.attn.qkv.bias": Tensor(shape: [6], repeating: 1),
                "image_encoder.neck.convs.0.weight": Tensor(shape: [1], repeating: 2),
                "no_mem_embed": Tensor(shape: [1, 1, 4], repeating: 3),
            ], source: "tiny.pt")
    }

    @Test func scopedLookup() throws {
        let s = store()
        let block = s.scoped("image_encoder.trunk").scoped("blocks.0")
        let w = try block.tensor("attn.qkv.weight", shape: [6, 2])
        #expect(w.scalars == (0..<12).map(Float.init))
        #expect(block.key("attn.qkv.weight") == "image_encoder.trunk.blocks.0.attn.qkv.weight")
        #expect(block.contains("attn.qkv.bias"))
        #expect(!block.contains("attn.proj.weight"))
        #expect(s.scoped("").key("no_mem_embed") == "no_mem_embed")
        #expect(block.shape(of: "attn.qkv.bias") == [6])
        #expect(try s.tensor("no_mem_embed").shape == [1, 1, 4])
    }

    @Test func missingAndMisShapedKeysNameTheFullKey() {
        let trunk = store().scoped("image_encoder.trunk")
        let missing = checkpointError { _ = try trunk.tensor("blocks.1.attn.qkv.weight", shape: [6, 2]) }
        #expect(missing == .missingKey(source: "tiny.pt", key: "image_encoder.trunk.blocks.1.attn.qkv.weight"))
        #expect(missing?.description == "weight image_encoder.trunk.blocks.1.attn.qkv.weight is missing from tiny.pt")
        let misShaped = checkpointError { _ = try trunk.tensor("blocks.0.attn.qkv.weight", shape: [288, 96]) }
        #expect(
            misShaped
                == .misShapedKey(
                    source: "tiny.pt", key: "image_encoder.trunk.blocks.0.attn.qkv.weight",
                    expected: [288, 96], found: [6, 2]))
        #expect(
            misShaped?.description
                == "weight image_encoder.trunk.blocks.0.attn.qkv.weight in tiny.pt has shape [6, 2], expected [288, 96]"
        )
    }

    @Test func verifyAllUsed() throws {
        let s = store()
        _ = try s.tensor("no_mem_embed", shape: [1, 1, 4])
        let error = checkpointError { try s.verifyAllUsed() }
        #expect(
            error
                == .unusedKeys(
                    source: "tiny.pt",
                    keys: [
                        "image_encoder.neck.convs.0.weight",
                        "image_encoder.trunk.blocks.0.attn.qkv.bias",
                        "image_encoder.trunk.blocks.0.attn.qkv.weight",
                    ], count: 3))
        #expect(error?.description.contains("3 weights in tiny.pt were not used") == true)
        s.markUsed(prefix: "image_encoder.trunk")
        #expect(s.unusedKeys == ["image_encoder.neck.convs.0.weight"])
        _ = try s.scoped("image_encoder.neck").tensor("convs.0.weight", shape: [1])
        try s.verifyAllUsed()
    }

    @Test func unusedListIsShortenedWithCount() {
        var tensors: [String: Tensor] = [:]
        for i in 0..<12 { tensors["layer.\(i)"] = Tensor(shape: [1], repeating: 0) }
        let error = checkpointError { try WeightStore(tensors: tensors, source: "x").verifyAllUsed() }
        guard case .unusedKeys(_, let keys, let count)? = error else {
            Issue.record("expected unusedKeys")
            return
        }
        #expect(keys.count == 5 && count == 12)
        #expect(error!.description.hasSuffix("and 7 more"))
    }

    @Test func checkpointStoreWithMapping() throws {
        let file = try CheckpointFile.open(Fixtures.url("model_wrapped.pt"))
        let plain = try WeightStore(checkpoint: file)
        #expect(plain.keys == file.keys)
        #expect(plain.source == file.path)
        let want = try #require(Fixtures.expected["model_wrapped.pt"]?["image_encoder.trunk.patch_embed.proj.weight"])
        let proj = try plain.scoped("image_encoder.trunk.patch_embed").tensor("proj.weight", shape: [3, 2, 3, 3])
        #expect(proj.scalars == want.values)

        // A renaming (as a Hugging Face layout converter would do), dropping some keys.
        let renamed = try WeightStore(checkpoint: file) { key in
            key.hasPrefix("shared.") ? nil : key.replacingOccurrences(of: "image_encoder.trunk", with: "backbone")
        }
        #expect(renamed.contains("backbone.patch_embed.proj.weight"))
        #expect(!renamed.contains("shared.full"))
        #expect(try renamed.tensor("backbone.patch_embed.proj.weight").scalars == want.values)

        let clash = checkpointError { _ = try WeightStore(checkpoint: file) { _ in "same" } }
        #expect(clash == .duplicateKey(source: file.path, key: "same"))
    }

    @Test func lazyEntriesLoadOnDemand() throws {
        let s = WeightStore(
            entries: [
                "qkv.weight": LazyTensor(shape: [2]) { Tensor(shape: [2], scalars: [4, 5]) },
                "bad": LazyTensor(shape: [3]) { Tensor(shape: [2], repeating: 0) },
            ], source: "converted")
        #expect(try s.tensor("qkv.weight", shape: [2]).scalars == [4, 5])
        #expect(
            checkpointError { _ = try s.tensor("bad") }
                == .misShapedKey(source: "converted", key: "bad", expected: [3], found: [2]))
        #expect(s.usedKeys == ["qkv.weight"])
    }

    @Test func useIsTrackedAcrossThreads() throws {
        var tensors: [String: Tensor] = [:]
        for i in 0..<200 { tensors["blocks.\(i).weight"] = Tensor(shape: [2], repeating: Float(i)) }
        let s = WeightStore(tensors: tensors)
        DispatchQueue.concurrentPerform(iterations: 200) { i in
            _ = try? s.scoped("blocks.\(i)").tensor("weight", shape: [2])
        }
        try s.verifyAllUsed()
        #expect(s.usedKeys.count == 200)
    }

    @Test func reducedPrecisionHandsBackTheFloatPagesOfPackedWeights() throws {
        // A 4 MiB float32 weight in a safetensors file (written here), viewed in place in the mapping.
        let (n, k) = (512, 2048)
        let values = (0..<n * k).map { Float($0 % 251) / 8 }  // exact in bf16
        let header = #"{"w": {"dtype": "F32", "shape": [\#(n), \#(k)], "data_offsets": [0, \#(n * k * 4)]}}"#
        let padded = header + String(repeating: " ", count: (8 - header.utf8.count % 8) % 8)
        var data = withUnsafeBytes(of: UInt64(padded.utf8.count).littleEndian) { Data($0) } + Data(padded.utf8)
        values.withUnsafeBytes { data.append(contentsOf: $0) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("packed-\(UUID()).safetensors")
        try data.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }

        let store = try WeightStore.open(url)
        let weight = try store.tensor("w", shape: [n, k])
        #expect(weight.storage.isBorrowed)
        let mapped = UnsafeRawPointer(weight.storage.pointer)
        #expect(weight.scalars == values)  // every page read in
        let touched = try #require(residentKiB(of: mapped))
        #expect(touched >= 4 << 10)

        let float = try store.scoped("").packedLinear("w", shape: [n, k])
        #expect(try #require(residentKiB(of: mapped)) == touched)  // float32 keeps using the file's pages
        let packed = try store.scoped("", precision: .bfloat16).packedLinear("w", shape: [n, k])
        #expect(try #require(residentKiB(of: mapped)) < 64)
        #expect(packed.dequantized.scalars == values)
        #expect(float.dequantized.scalars == values)
        #expect(weight.scalars == values)  // the view still reads the file's values
    }

    /// Resident KiB of the mapping holding `address` (its Rss line in /proc/self/smaps).
    func residentKiB(of address: UnsafeRawPointer) -> Int? {
        // /proc files say they are empty: read them to their end.
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/smaps"), let bytes = try? handle.readToEnd()
        else { return nil }
        let smaps = String(decoding: bytes, as: UTF8.self)
        let target = UInt(bitPattern: address)
        var inside = false
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let range = fields.first, range.contains("-"), !range.hasSuffix(":") {
                let bounds = range.split(separator: "-").compactMap { UInt($0, radix: 16) }
                inside = bounds.count == 2 && bounds[0] <= target && target < bounds[1]
            } else if inside, fields.first == "Rss:", fields.count >= 2 {
                return Int(fields[1])
            }
        }
        return nil
    }
}
