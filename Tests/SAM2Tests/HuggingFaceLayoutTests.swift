// The Hugging Face `transformers` checkpoint layout: the small SAM 2.1 checkpoint converted to that
// layout (tools/reference/make_hf_fixtures.py, checked against transformers' SAM 2 model) gives the
// same model as the official file, the eight official architectures' HF key lists map onto their official key lists and are
// detected, and a key the layout does not define is an error naming it.

import Foundation
import SAM2Checkpoint
import SAM2Tensor
import Testing

@testable import SAM2
@testable import SAM2IO
@testable import SAM2Workflows

struct HuggingFaceLayoutTests {
    static let hfFile = ModelFixtures.url("model/small_2.1_hf.safetensors")
    static func smallConfiguration() throws -> SAM2Configuration {
        try SAM2Configuration.named(ModelFixtures.url("model/small_2.1.json").path)
    }

    static func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
        #expect(a.shape == b.shape)
        return zip(a.scalars, b.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    @Test func sameOutputsAsTheOfficialLayout() throws {
        let official = try ModelFixtures.smallModel("2.1")
        let hf = try SAM2Model.load(checkpoint: Self.hfFile, configuration: Self.smallConfiguration())
        let image = try ImageIO.readImage(ModelFixtures.url("model/images/square.png"))
        let a = SAM2ImagePredictor(model: official)
        let b = SAM2ImagePredictor(model: hf)
        try a.setImage(image)
        try b.setImage(image)
        #expect(Self.maxDifference(a.imageEmbedding!, b.imageEmbedding!) <= 1e-6)
        // A point and a box: the prompt encoder's split point embeddings and its position matrix.
        let point = SIMD2<Float>(150, 120)
        let box = SIMD4<Float>(60, 50, 260, 250)
        let pa = try a.predict(points: [point], labels: [1], box: box, returnLogits: true)
        let pb = try b.predict(points: [point], labels: [1], box: box, returnLogits: true)
        #expect(Self.maxDifference(pa.masks, pb.masks) <= 1e-6)
        #expect(Self.maxDifference(pa.lowResLogits, pb.lowResLogits) <= 1e-6)
        #expect(zip(pa.scores, pb.scores).allSatisfy { abs($0 - $1) <= 1e-6 })
    }

    @Test func summaryReadsTheLayout() throws {
        let summary = try CheckpointSummary.read(Self.hfFile, configuration: Self.smallConfiguration())
        #expect(summary.configuration.name == "small_2.1")
        #expect(summary.format.contains("Hugging Face"))
        // Without a configuration the mapped shapes reach detection, which names the small trunk.
        do {
            _ = try CheckpointSummary.read(Self.hfFile)
            Issue.record("small trunk detected as a preset")
        } catch {
            #expect(String(describing: error).contains("trunk width 16"))
        }
    }

    /// Every official tensor is the image of exactly one HF tensor (the point embeddings of one).
    @Test(arguments: ConfigurationTests.names)
    func officialArchitectureFromHFKeys(name: String) throws {
        let (hfShapes, _) = try ConfigurationTests.shapes("hf_\(name)")
        #expect(HuggingFaceLayout.matches(keys: Array(hfShapes.keys)))
        let entries = try HuggingFaceLayout.officialEntries(shapes: hfShapes, source: name) { key in
            throw CheckpointError.missingKey(source: "shapes only", key: key)
        }
        let mapped = entries.mapValues(\.shape)
        let (officialShapes, _) = try ConfigurationTests.shapes(name)
        #expect(
            mapped == officialShapes,
            "differ: \(Set(mapped.keys).symmetricDifference(officialShapes.keys).sorted().prefix(5))")
        #expect(try SAM2Configuration.detect(shapes: mapped).name == name)
    }

    @Test func unknownKeyIsNamed() throws {
        let (shapes, _) = try ConfigurationTests.shapes("hf_sam2.1_hiera_t")
        var extended = shapes
        extended["mask_decoder.transformer.layers.0.extra_norm.weight"] = [256]
        #expect {
            try HuggingFaceLayout.officialEntries(shapes: extended, source: "test") { _ in Tensor.zeros([1]) }
        } throws: { error in
            String(describing: error).contains("mask_decoder.transformer.layers.0.extra_norm.weight")
        }
        // The same through a file: loading and `sam2 info` both refuse it by name.
        let url = try Self.copyWithExtraTensor(Self.hfFile, key: "vision_encoder.backbone.blocks.0.attn.rel_pos_h")
        defer { try? FileManager.default.removeItem(at: url) }
        for read in [
            { _ = try SAM2Model.load(checkpoint: url, configuration: Self.smallConfiguration()) },
            { _ = try CheckpointSummary.read(url, configuration: Self.smallConfiguration()) },
        ] {
            #expect(
                throws: HuggingFaceLayoutError.unknownKeys(
                    source: url.path, keys: ["vision_encoder.backbone.blocks.0.attn.rel_pos_h"], count: 1)
            ) {
                try read()
            }
        }
    }

    /// A copy of a safetensors file with one more float32 tensor of shape [2].
    static func copyWithExtraTensor(_ source: URL, key: String) throws -> URL {
        let data = try Data(contentsOf: source)
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        var header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<8 + headerLength)) as! [String: Any]
        let body = data.subdata(in: 8 + headerLength..<data.count)
        header[key] = ["dtype": "F32", "shape": [2], "data_offsets": [body.count, body.count + 8]]
        var newHeader = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while newHeader.count % 8 != 0 { newHeader.append(0x20) }
        var out = Data((0..<8).map { UInt8(truncatingIfNeeded: newHeader.count >> (8 * $0)) })
        out.append(newHeader)
        out.append(body)
        out.append(Data(count: 8))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "hf-extra-\(UUID().uuidString).safetensors")
        try out.write(to: url)
        return url
    }
}
