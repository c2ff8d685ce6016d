// Configuration presets and their detection from the key and shape lists of the eight official
// architectures (Fixtures/architectures, written by tools/reference/architectures.py keys).

import Foundation
import Testing

@testable import SAM2
@testable import SAM2IO
@testable import SAM2Workflows

struct ConfigurationTests {
    static let names = SAM2Configuration.presets.map(\.name)

    static func shapes(_ name: String) throws -> (shapes: [String: [Int]], values: Int) {
        let data = try Data(contentsOf: ModelFixtures.url("architectures/\(name).json"))
        let doc = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        return (doc["shapes"] as! [String: [Int]], doc["values"] as! Int)
    }

    @Test(arguments: names)
    func detectsEachOfficialArchitecture(name: String) throws {
        let (shapes, _) = try Self.shapes(name)
        let detected = try SAM2Configuration.detect(shapes: shapes)
        #expect(detected.name == name)
        #expect(detected.version == (name.hasPrefix("sam2.1") ? "2.1" : "2.0"))
    }

    @Test func unknownArchitectureIsNamed() throws {
        var (shapes, _) = try Self.shapes("sam2.1_hiera_t")
        shapes["image_encoder.trunk.patch_embed.proj.weight"] = [80, 3, 7, 7]
        #expect(throws: ConfigurationError.self) { try SAM2Configuration.detect(shapes: shapes) }
        do { _ = try SAM2Configuration.detect(shapes: shapes) } catch {
            #expect(String(describing: error).contains("trunk width 80"))
        }
        #expect(throws: ConfigurationError.self) { try SAM2Configuration.detect(shapes: ["foo": [1]]) }
    }

    @Test func aliasesAndJSON() throws {
        #expect(try SAM2Configuration.named("tiny").name == "sam2.1_hiera_t")
        #expect(try SAM2Configuration.named("base_plus").trunk.positionEmbeddingSize == [14, 14])
        #expect(try SAM2Configuration.named("large").trunk.positionEmbeddingSize == [7, 7])
        #expect(throws: ConfigurationError.unknownName("huge")) { try SAM2Configuration.named("huge") }
        let small = try SAM2Configuration.named(ModelFixtures.url("model/small_2.1.json").path)
        #expect(small.imageSize == 128 && small.trunk.stages == [1, 2, 2, 1] && small.memory.memDim == 16)
        // A configuration round-trips through JSON.
        let preset = try SAM2Configuration.named("sam2_hiera_b+")
        #expect(try JSONDecoder().decode(SAM2Configuration.self, from: JSONEncoder().encode(preset)) == preset)
    }
}
