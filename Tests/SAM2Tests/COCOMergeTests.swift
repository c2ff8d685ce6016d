// Merging COCO instances files: images and categories once per id, annotations re-numbered, other
// members kept, and conflicting or dangling entries as one-line errors naming the file and entry.

import Foundation
import Testing

@testable import SAM2
@testable import SAM2IO
@testable import SAM2Workflows

@Suite struct COCOMergeTests {
    static func fixture(_ name: String) -> URL { ModelFixtures.url("detections/merge/\(name)") }

    @Test func mergesShards() throws {
        let data = try COCOMerge.merge([Self.fixture("shard_a.json"), Self.fixture("shard_b.json")])
        let merged = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let images = merged["images"] as! [[String: Any]]
        #expect(images.map { $0["id"] as! Int } == [1, 2, 3])
        let annotations = merged["annotations"] as! [[String: Any]]
        #expect(annotations.map { $0["id"] as! Int } == [1, 2, 3])
        #expect(annotations.map { $0["image_id"] as! Int } == [1, 2, 3])
        #expect(annotations.map { $0["score"] as! Double } == [0.5, 0.25, 0.75])
        #expect((merged["categories"] as! [[String: Any]]).map { $0["id"] as! Int } == [1, 2])
        #expect((merged["info"] as! [String: Any])["description"] as? String == "shard a")
    }

    @Test(arguments: [
        ("conflict.json", "conflict.json: images entry 0: image id 2 is 'z.png' here but 'b.png' in"),
        ("orphan.json", "orphan.json: annotations entry 0: \"image_id\" names no image of this file"),
    ])
    func conflictsAreErrors(file: String, message: String) throws {
        let error = #expect(throws: DatasetFileError.self) {
            try COCOMerge.merge([Self.fixture("shard_a.json"), Self.fixture(file)])
        }
        let text = error.map(String.init(describing:)) ?? ""
        #expect(text.contains(message), "\(text)")
        #expect(!text.contains("\n"))
    }
}
