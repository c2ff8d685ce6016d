// `sam2 auto` as a user runs it: bad generator options are one-line usage errors (exit 2), --json
// prints one parsable object per image with the reference's record fields, --output writes mask PNGs
// and an overlay, and --coco writes a valid COCO instances file.

import Foundation
import Testing

@testable import SAM2
@testable import SAM2IO
@testable import SAM2Workflows

@Suite(.serialized) struct AutoCommandTests {
    static let base = ["auto", CLI.image, "--checkpoint", CLI.checkpoint, "--config", CLI.config, "--quiet"]

    @Test func helpListsEveryOption() throws {
        let r = try CLI.run(["auto", "--help"])
        #expect(r.status == 0 && r.stdout.contains("usage: sam2 auto"))
        for option in [
            "--points-per-side", "--points-per-batch", "--pred-iou-thresh", "--stability-score-thresh",
            "--stability-score-offset",
            "--mask-threshold", "--box-nms-thresh", "--crop-n-layers", "--crop-nms-thresh", "--crop-overlap-ratio",
            "--crop-n-points-downscale-factor", "--min-mask-region-area", "--use-m2m", "--no-multimask",
            "--output-mode",
            "--coco", "--json", "--output", "--threads", "--quiet",
        ] {
            #expect(r.stdout.contains(option), "\(option)")
        }
    }

    @Test(
        arguments: [
            (["--points-per-side", "-1"], "--points-per-side '-1'"),
            (["--points-per-side", "0"], "--points-per-side '0'"),
            (["--points-per-batch", "0"], "--points-per-batch '0'"),
            (["--crop-n-layers", "-2"], "--crop-n-layers '-2'"),
            (["--min-mask-region-area", "-5"], "--min-mask-region-area '-5'"),
            (["--crop-n-points-downscale-factor", "0"], "--crop-n-points-downscale-factor '0'"),
            (["--pred-iou-thresh", "1.5"], "--pred-iou-thresh '1.5'"),
            (["--stability-score-thresh", "-0.1"], "--stability-score-thresh '-0.1'"),
            (["--box-nms-thresh", "nan"], "--box-nms-thresh 'nan'"),
            (["--crop-nms-thresh", "2"], "--crop-nms-thresh '2'"),
            (["--crop-overlap-ratio", "1"], "--crop-overlap-ratio '1'"),
            (["--stability-score-offset", "inf"], "--stability-score-offset 'inf'"),
            (["--output-mode", "png"], "--output-mode 'png'"),
            (["--bogus"], "--bogus"),
        ] as [([String], String)])
    func badOptionsAreUsageErrors(extra: [String], message: String) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(Self.base + ["--coco", dir.appendingPathComponent("c.json").path] + extra)
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test func jsonOutputAndCOCOFile() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let coco = dir.appendingPathComponent("instances.json")
        let images = dir.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        for name in ["odd", "portrait"] {
            try FileManager.default.copyItem(
                at: ModelFixtures.url("model/images/\(name).png"), to: images.appendingPathComponent("\(name).png"))
        }
        let r = try CLI.run([
            "auto", images.path, "--checkpoint", CLI.checkpoint, "--config", CLI.config, "--points-per-side", "4",
            "--pred-iou-thresh", "0", "--stability-score-thresh", "0", "--json", "--coco", coco.path,
            "--output", dir.appendingPathComponent("out").path,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        var total = 0
        for (line, (name, w, h)) in zip(lines, [("odd", 97, 131), ("portrait", 180, 300)]) {
            let doc = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            #expect((doc["image"] as! String).hasSuffix("\(name).png"))
            #expect(doc["width"] as? Int == w && doc["height"] as? Int == h)
            let masks = doc["masks"] as! [[String: Any]]
            #expect(!masks.isEmpty)
            total += masks.count
            for (k, m) in masks.enumerated() {
                #expect(
                    Set(m.keys) == [
                        "segmentation", "area", "bbox", "predicted_iou", "point_coords", "stability_score", "crop_box",
                    ])
                let seg = m["segmentation"] as! [String: Any]
                #expect(seg["size"] as? [Int] == [h, w])
                let rle = try #require(UncompressedRLE(cocoString: seg["counts"] as! String, height: h, width: w))
                #expect(rle.area == m["area"] as? Int)
                let png = try ImageIO.readMask(dir.appendingPathComponent("out/\(name)/mask_\(k).png"))
                #expect(png.values == rle.mask())
            }
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/\(name)/overlay.png").path))
        }
        let instances = try JSONSerialization.jsonObject(with: Data(contentsOf: coco)) as! [String: Any]
        let cocoImages = instances["images"] as! [[String: Any]]
        let annotations = instances["annotations"] as! [[String: Any]]
        #expect(cocoImages.map { $0["id"] as! Int } == [1, 2])
        #expect(annotations.count == total)
        #expect(Set(annotations.map { $0["id"] as! Int }).count == total)
        #expect((instances["categories"] as! [[String: Any]]).count == 1)
        for a in annotations {
            let image = cocoImages[(a["image_id"] as! Int) - 1]
            let seg = a["segmentation"] as! [String: Any]
            let rle = try #require(
                UncompressedRLE(
                    cocoString: seg["counts"] as! String, height: image["height"] as! Int, width: image["width"] as! Int
                ))
            #expect(rle.area == a["area"] as? Int && a["category_id"] as? Int == 1 && (a["bbox"] as! [Int]).count == 4)
        }
    }

    @Test func rleAndBinaryModes() throws {
        for mode in ["rle", "binary"] {
            let r = try CLI.run(
                Self.base + [
                    "--points-per-side", "2", "--pred-iou-thresh", "0", "--stability-score-thresh", "0",
                    "--output-mode", mode, "--json", "--no-multimask",
                ])
            #expect(r.status == 0, "\(r.stderr)")
            let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
            let masks = doc["masks"] as! [[String: Any]]
            #expect(!masks.isEmpty && masks.count <= 4)
            for m in masks {
                if mode == "rle" {
                    let seg = m["segmentation"] as! [String: Any]
                    #expect((seg["counts"] as! [Int]).reduce(0, +) == 97 * 131)
                } else {
                    let rows = m["segmentation"] as! [[Int]]
                    #expect(rows.count == 131 && rows[0].count == 97)
                    #expect(rows.joined().reduce(0, +) == m["area"] as? Int)
                }
            }
        }
    }
}
