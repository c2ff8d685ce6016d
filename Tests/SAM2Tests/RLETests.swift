// RLE encodings against pycocotools (fixtures from tools/reference/make_amg_fixtures.py): the
// column-major uncompressed counts, COCO strings byte for byte, areas, and decoding round trips.

import Foundation
import Testing

@testable import SAM2
@testable import SAM2IO
@testable import SAM2Workflows

struct RLETests {
    struct Case {
        var height: Int, width: Int, counts: [Int], coco: String, area: Int
    }

    static func cases() throws -> [Case] {
        let doc =
            try JSONSerialization.jsonObject(with: Data(contentsOf: ModelFixtures.url("amg/rle.json")))
            as! [[String: Any]]
        return doc.map { c in
            let size = c["size"] as! [Int]
            return Case(
                height: size[0], width: size[1], counts: c["counts"] as! [Int], coco: c["coco"] as! String,
                area: c["area"] as! Int)
        }
    }

    @Test func cocoStringsEqualPycocotools() throws {
        for c in try Self.cases() {
            let rle = UncompressedRLE(height: c.height, width: c.width, counts: c.counts)
            #expect(rle.cocoString == c.coco, "\(c.height)×\(c.width)")
            #expect(rle.area == c.area)
            // Mask → counts (mask_to_rle_pytorch) and back.
            let mask = rle.mask()
            #expect(UncompressedRLE(mask: mask, height: c.height, width: c.width) == rle)
            #expect(UncompressedRLE(cocoString: c.coco, height: c.height, width: c.width) == rle)
            let plane: [Float] = mask.map { $0 == 0 ? -1 : 2 }
            #expect(
                plane.withUnsafeBufferPointer {
                    UncompressedRLE(plane: $0, height: c.height, width: c.width, threshold: 0)
                } == rle)
            if let box = rle.boundingBox {
                let expected = MaskRendering.boundingBox(mask, width: c.width, height: c.height)!
                #expect(box == expected)
            } else {
                #expect(rle.area == 0)
            }
        }
    }

    @Test func generatorRecordsRoundTrip() throws {
        for name in ["open", "crops", "m2m"] {
            let doc =
                try JSONSerialization.jsonObject(with: Data(contentsOf: ModelFixtures.url("amg/\(name).json")))
                as! [String: Any]
            let (h, w) = (doc["height"] as! Int, doc["width"] as! Int)
            for r in doc["records"] as! [[String: Any]] {
                let coco = r["segmentation"] as! String
                let rle = try #require(UncompressedRLE(cocoString: coco, height: h, width: w))
                #expect(rle.area == r["area"] as! Int)
                let again = UncompressedRLE(mask: rle.mask(), height: h, width: w)
                #expect(again.cocoString == coco)
            }
        }
    }

    @Test func malformedStringsAreRejected() {
        #expect(UncompressedRLE(cocoString: "3", height: 2, width: 2) == nil)  // 3 pixels for 4
        #expect(UncompressedRLE(cocoString: "4\u{7f}", height: 2, width: 2) == nil)
        #expect(UncompressedRLE(cocoString: "p", height: 2, width: 2) == nil)  // continuation without an end
        #expect(UncompressedRLE(cocoString: "4", height: 2, width: 2)?.counts == [4])
    }
}
