// The automatic mask generator against the reference (tools/reference/make_amg_fixtures.py) on the
// small configuration: same record count, records matched by point with mask IoU ≥ 0.99 and
// predicted IoU within 2e-3 (SPEC §4); and its utilities: grids, crop boxes, NMS, edge filter,
// the empty result, option validation.

import Foundation
import Testing

@testable import SAM2
@testable import SAM2IO
@testable import SAM2Workflows

struct AMGFixture {
    struct Record {
        var rle: UncompressedRLE
        var area: Int
        var bbox: [Int]
        var predictedIoU: Float
        var pointCoords: SIMD2<Float>
        var cropBox: [Int]
    }

    let image: RGBImage
    let options: SAM2AutomaticMaskGenerator.Options
    let records: [Record]

    init(_ name: String) throws {
        let doc =
            try JSONSerialization.jsonObject(with: Data(contentsOf: ModelFixtures.url("amg/\(name).json")))
            as! [String: Any]
        image = try ImageIO.readImage(ModelFixtures.url("model/images/\(doc["image"] as! String).png"))
        let (h, w) = (doc["height"] as! Int, doc["width"] as! Int)
        let ref = doc["options"] as! [String: Any]
        var o = SAM2AutomaticMaskGenerator.Options()
        o.pointsPerSide = ref["points_per_side"] as? Int ?? o.pointsPerSide
        o.predIoUThresh = ref["pred_iou_thresh"] as? Double ?? o.predIoUThresh
        o.stabilityScoreThresh = ref["stability_score_thresh"] as? Double ?? o.stabilityScoreThresh
        o.boxNMSThresh = ref["box_nms_thresh"] as? Double ?? o.boxNMSThresh
        o.cropNMSThresh = ref["crop_nms_thresh"] as? Double ?? o.cropNMSThresh
        o.cropNLayers = ref["crop_n_layers"] as? Int ?? o.cropNLayers
        o.minMaskRegionArea = ref["min_mask_region_area"] as? Int ?? o.minMaskRegionArea
        o.useM2M = ref["use_m2m"] as? Bool ?? o.useM2M
        o.outputMode = .cocoRLE
        options = o
        records = (doc["records"] as! [[String: Any]]).map { r in
            let p = r["point_coords"] as! [Double]
            return Record(
                rle: UncompressedRLE(cocoString: r["segmentation"] as! String, height: h, width: w)!,
                area: r["area"] as! Int, bbox: r["bbox"] as! [Int], predictedIoU: Float(r["predicted_iou"] as! Double),
                pointCoords: SIMD2(Float(p[0]), Float(p[1])), cropBox: r["crop_box"] as! [Int])
        }
    }
}

func maskIoU(_ a: [UInt8], _ b: [UInt8]) -> Double {
    var inter = 0
    var union = 0
    for (x, y) in zip(a, b) {
        if x != 0 && y != 0 { inter += 1 }
        if x != 0 || y != 0 { union += 1 }
    }
    return union == 0 ? 1 : Double(inter) / Double(union)
}

struct AutomaticMaskGeneratorParityTests {
    @Test(arguments: ["open", "crops", "m2m"])
    func recordsEqualTheReference(_ name: String) throws {
        let fixture = try AMGFixture(name)
        let generator = try SAM2AutomaticMaskGenerator(
            model: try ModelFixtures.smallModel("2.1"), options: fixture.options)
        let ours = try generator.generate(fixture.image)
        #expect(ours.count == fixture.records.count, "record count")
        var unmatched = Array(ours.indices)
        var minimumIoU = 1.0
        var scoreError: Float = 0
        for ref in fixture.records {
            let refMask = ref.rle.mask()
            // Matched by point; among a point's masks, the one that overlaps most.
            let candidates = unmatched.filter {
                abs(ours[$0].pointCoords.x - ref.pointCoords.x) < 1e-3
                    && abs(ours[$0].pointCoords.y - ref.pointCoords.y) < 1e-3
            }
            guard
                let best = candidates.max(by: {
                    maskIoU(ours[$0].rle.mask(), refMask) < maskIoU(ours[$1].rle.mask(), refMask)
                })
            else {
                Issue.record("no record for the reference's point \(ref.pointCoords)")
                continue
            }
            unmatched.removeAll { $0 == best }
            let m = ours[best]
            minimumIoU = min(minimumIoU, maskIoU(m.rle.mask(), refMask))
            scoreError = max(scoreError, abs(m.predictedIoU - ref.predictedIoU))
            #expect(m.cropBox == ref.cropBox)
            guard case .cocoRLE(let counts) = m.segmentation else {
                Issue.record("not COCO RLE")
                continue
            }
            #expect(counts == m.rle.cocoString)
        }
        print(
            "AMG parity \(name): \(ours.count) records (reference \(fixture.records.count)), min mask IoU \(minimumIoU), max predicted_iou error \(scoreError)"
        )
        #expect(minimumIoU >= 0.99)
        #expect(scoreError <= 2e-3)
    }

    @Test(arguments: [0, 1])
    func nothingSurvivingIsAnEmptyList(cropLayers: Int) throws {
        let image = try ImageIO.readImage(ModelFixtures.url("model/images/odd.png"))
        var o = SAM2AutomaticMaskGenerator.Options()
        o.pointsPerSide = 4
        o.cropNLayers = cropLayers
        o.predIoUThresh = 1
        o.minMaskRegionArea = 20
        for mode in AutomaticMaskOutputMode.allCases {
            o.outputMode = mode
            let generator = try SAM2AutomaticMaskGenerator(model: try ModelFixtures.smallModel("2.1"), options: o)
            #expect(try generator.generate(image).isEmpty)
        }
    }

    @Test func outputModesCarryTheSameMask() throws {
        let image = try ImageIO.readImage(ModelFixtures.url("model/images/odd.png"))
        var o = SAM2AutomaticMaskGenerator.Options()
        o.pointsPerSide = 2
        o.predIoUThresh = 0
        o.stabilityScoreThresh = 0
        let model = try ModelFixtures.smallModel("2.1")
        var results: [AutomaticMaskOutputMode: [AutomaticMask]] = [:]
        for mode in AutomaticMaskOutputMode.allCases {
            o.outputMode = mode
            results[mode] = try SAM2AutomaticMaskGenerator(model: model, options: o).generate(image)
        }
        let binary = results[.binaryMask]!
        #expect(!binary.isEmpty)
        for (k, m) in binary.enumerated() {
            #expect(m.segmentation == .binary(m.rle.mask()))
            #expect(results[.uncompressedRLE]![k].segmentation == .uncompressedRLE(m.rle))
            #expect(results[.cocoRLE]![k].segmentation == .cocoRLE(m.rle.cocoString))
            let box = MaskRendering.boundingBox(m.rle.mask(), width: image.width, height: image.height)!
            #expect(m.bbox == [box.x, box.y, box.width, box.height])
            #expect(m.area == m.rle.mask().reduce(0) { $0 + Int($1) })
        }
    }

    @Test func invalidOptionsAreRefused() throws {
        let model = try ModelFixtures.smallModel("2.1")
        let cases: [(inout SAM2AutomaticMaskGenerator.Options) -> Void] = [
            { $0.pointsPerSide = 0 }, { $0.pointsPerBatch = 0 }, { $0.predIoUThresh = 1.5 },
            { $0.stabilityScoreThresh = -0.1 },
            { $0.boxNMSThresh = .nan }, { $0.cropOverlapRatio = 1 }, { $0.cropNLayers = -1 },
            { $0.minMaskRegionArea = -3 },
            { $0.pointGrids = [[SIMD2(0.5, 0.5)]] }, { $0.pointsPerSide = nil },
        ]
        for change in cases {
            var o = SAM2AutomaticMaskGenerator.Options()
            change(&o)
            #expect(throws: AutomaticMaskGeneratorError.self) {
                try SAM2AutomaticMaskGenerator(model: model, options: o)
            }
        }
        var grids = SAM2AutomaticMaskGenerator.Options()
        grids.pointsPerSide = nil
        grids.pointGrids = [[SIMD2(0.5, 0.5)]]
        _ = try SAM2AutomaticMaskGenerator(model: model, options: grids)
    }
}

struct AMGUtilityTests {
    @Test func pointGridsAreNumpyLinspace() {
        let g = PointGrids.grid(pointsPerSide: 4)
        #expect(g.count == 16)
        let expected: [SIMD2<Double>] = [
            SIMD2(0.125, 0.125), SIMD2(0.375, 0.125), SIMD2(0.125, 0.375), SIMD2(0.875, 0.875),
        ]
        #expect([g[0], g[1], g[4], g[15]] == expected)
        #expect(PointGrids.grid(pointsPerSide: 1) == [SIMD2<Double>(0.5, 0.5)])
        let layers = PointGrids.layerGrids(pointsPerSide: 8, cropLayers: 2, downscaleFactor: 2)
        #expect(layers.map(\.count) == [64, 16, 4])
    }

    @Test func cropBoxesAsTheReference() {
        // generate_crop_boxes((131, 97), 1, 512 / 1500) and ((240, 400), 2, 0.3) from the reference.
        let odd = PointGrids.cropBoxes(width: 97, height: 131, layers: 1, overlapRatio: 512.0 / 1500.0)
        #expect(
            odd.map { [$0.x0, $0.y0, $0.x1, $0.y1] } == [
                [0, 0, 97, 131], [0, 0, 65, 82], [0, 49, 65, 131], [32, 0, 97, 82], [32, 49, 97, 131],
            ])
        let wide = PointGrids.cropBoxes(width: 400, height: 240, layers: 2, overlapRatio: 0.3)
        #expect(wide.count == 1 + 4 + 16)
        #expect(wide.map(\.layer) == [0] + Array(repeating: 1, count: 4) + Array(repeating: 2, count: 16))
        #expect(wide[1] == CropBox(x0: 0, y0: 0, x1: 236, y1: 156, layer: 1))
        #expect(wide[20] == CropBox(x0: 273, y0: 153, x1: 400, y1: 240, layer: 2))
    }

    @Test func nmsKeepsTheBestAndBreaksTiesByIndex() {
        let boxes: [SIMD4<Float>] = [
            SIMD4(0, 0, 10, 10), SIMD4(1, 1, 11, 11), SIMD4(20, 20, 30, 30), SIMD4(0, 0, 10, 10), SIMD4(5, 5, 5, 5),
        ]
        // 0 and 1 overlap with IoU 81/119 ≈ 0.68; 3 duplicates 0 with the same score; 4 is empty.
        #expect(
            BoxOperations.nms(boxes: boxes, scores: [0.9, 0.95, 0.5, 0.9, 0.99], iouThreshold: 0.7) == [4, 1, 0, 2])
        #expect(BoxOperations.nms(boxes: boxes, scores: [0.9, 0.95, 0.5, 0.9, 0.99], iouThreshold: 0.6) == [4, 1, 2])
        #expect(
            BoxOperations.nms(boxes: boxes, scores: [0.9, 0.9, 0.9, 0.9, 0.9], iouThreshold: 1) == [0, 1, 2, 3, 4])
    }

    @Test func cropEdgeFilterIgnoresImageEdges() {
        let crop = CropBox(x0: 100, y0: 0, x1: 300, y1: 200, layer: 1)
        // x0 near crop's left
        #expect(BoxOperations.isNearCropEdge(SIMD4(5, 50, 60, 90), crop: crop, imageWidth: 300, imageHeight: 400))
        // top and right are image edges
        #expect(!BoxOperations.isNearCropEdge(SIMD4(30, 0, 199, 90), crop: crop, imageWidth: 300, imageHeight: 400))
        // bottom near crop's
        #expect(BoxOperations.isNearCropEdge(SIMD4(30, 40, 60, 185), crop: crop, imageWidth: 300, imageHeight: 400))
        #expect(!BoxOperations.isNearCropEdge(SIMD4(21, 21, 60, 90), crop: crop, imageWidth: 300, imageHeight: 400))
    }
}
