// The workflows of `sam2 segment` as a user runs them: background removal (--cutout --invert --crop),
// a detector's boxes (--boxes-from, equal to --box), folders (resumable, atomic, one line per bad
// file), shards and merge-coco.

import Foundation
import Testing

@testable import SAM2
@testable import SAM2IO
@testable import SAM2Workflows

@Suite(.serialized) struct SegmentWorkflowTests {
    static let model = ["--checkpoint", CLI.checkpoint, "--config", CLI.config, "--quiet"]
    static func fixture(_ name: String) -> String { ModelFixtures.url("detections/\(name)").path }

    /// A folder of the fixture images under the given names.
    static func folder(in dir: URL, _ images: [(String, String)]) throws -> URL {
        let folder = dir.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (fixture, name) in images {
            try FileManager.default.copyItem(
                at: ModelFixtures.url("model/images/\(fixture).png"), to: folder.appendingPathComponent(name))
        }
        return folder
    }

    /// The regular files under `dir`, temporary ones included, as relative paths.
    static func files(under dir: URL) -> [String] {
        let paths = FileManager.default.enumerator(atPath: dir.path)?.compactMap { $0 as? String } ?? []
        return paths.filter { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(
                atPath: dir.appendingPathComponent(path).path, isDirectory: &isDirectory) && !isDirectory.boolValue
        }.sorted()
    }

    static func modified(_ url: URL) throws -> Date {
        try FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as! Date
    }

    @Test func helpListsTheWorkflowOptions() throws {
        let r = try CLI.run(["segment", "--help"])
        #expect(r.status == 0 && r.stdout.contains("usage: sam2 segment IMAGE|DIR"))
        for option in [
            "--boxes-from", "--images-json", "--min-score", "--cutout", "--invert", "--crop", "--coco", "--overwrite",
            "--shard",
        ] {
            #expect(r.stdout.contains(option), "\(option)")
        }
        #expect(try CLI.run(["--help"]).stdout.contains("merge-coco"))
    }

    @Test func boxesFromEqualSegmentBox() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = try Self.folder(in: dir, [("odd", "000000000007.png")]).appendingPathComponent("000000000007.png")
            .path
        func logits(_ name: String, _ extra: [String]) throws -> [Float] {
            let path = dir.appendingPathComponent(name).path
            let r = try CLI.run(["segment", image] + Self.model + ["--save-logits", path] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            return try NPY.read(URL(fileURLWithPath: path)).values
        }
        // One box: the same computation, the same logits bit for bit.
        let single = try logits("single.npy", ["--box", "10.5,20.25,40.5,60.25"])
        #expect(try logits("one.npy", ["--boxes-from", Self.fixture("results_one.json")]) == single)
        // Two boxes in one batched pass: equal up to the rounding of the batched products.
        let second = try logits("second.npy", ["--box", "40,50,90,120"])
        let both = try logits("both.npy", ["--boxes-from", Self.fixture("results.json")])
        #expect(both.count == 2 * single.count)
        #expect(zip(both, single + second).allSatisfy { abs($0 - $1) <= 1e-4 })
        #expect(zip(both, single + second).allSatisfy { ($0 > 0) == ($1 > 0) || abs($1) < 1e-4 })
        // --min-score drops the 0.3 box; the COCO file keeps category and score.
        let coco = dir.appendingPathComponent("coco.json")
        let r = try CLI.run(
            ["segment", image] + Self.model + [
                "--boxes-from", Self.fixture("results.json"), "--min-score", "0.5",
                "--coco", coco.path, "--json",
            ])
        #expect(r.status == 0, "\(r.stderr)")
        let record = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let masks = record["masks"] as! [[String: Any]]
        #expect(
            masks.count == 1 && masks[0]["category_id"] as? Int == 3
                && masks[0]["box"] as? [Double] == [10.5, 20.25, 40.5, 60.25])
        let instances = try JSONSerialization.jsonObject(with: Data(contentsOf: coco)) as! [String: Any]
        let images = instances["images"] as! [[String: Any]]
        #expect(images.count == 1 && images[0]["id"] as? Int == 7 && images[0]["width"] as? Int == 97)
        let annotations = instances["annotations"] as! [[String: Any]]
        #expect(annotations.count == 1)
        #expect(
            annotations[0]["category_id"] as? Int == 3 && annotations[0]["score"] as? Double == 0.9
                && annotations[0]["image_id"] as? Int == 7)
        let seg = annotations[0]["segmentation"] as! [String: Any]
        let rle = try #require(UncompressedRLE(cocoString: seg["counts"] as! String, height: 131, width: 97))
        #expect(rle.mask() == single.map { $0 > 0 ? 1 : 0 })
        #expect((instances["categories"] as! [[String: Any]]).map { $0["id"] as! Int } == [3])
    }

    @Test func cutoutInvertCrop() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var masks: [[UInt8]] = []
        for (name, extra) in [
            ("plain", []), ("invert", ["--invert"]), ("crop", ["--crop"]), ("both", ["--invert", "--crop"]),
        ] {
            let out = dir.appendingPathComponent(name)
            let r = try CLI.run(
                ["segment", CLI.image] + Self.model + ["--box", "20,30,60,90", "--output", out.path, "--cutout"] + extra
            )
            #expect(r.status == 0, "\(r.stderr)")
            masks.append(try ImageIO.readMask(out.appendingPathComponent("mask_0.png")).values)
        }
        let mask = masks[0]
        #expect(masks.allSatisfy { $0 == mask } && mask.contains(1) && mask.contains(0))
        let image = try ImageIO.readImage(URL(fileURLWithPath: CLI.image))
        let read = { (name: String) in try ImageIO.readImage(dir.appendingPathComponent("\(name)/cutout_0.png")) }
        // Read back as RGB, a transparent pixel is black: the kept pixels are the image's.
        for (name, keepInside) in [("plain", true), ("invert", false)] {
            let cut = try read(name)
            #expect(cut.width == 97 && cut.height == 131)
            for i in 0..<(97 * 131) {
                let kept = (mask[i] != 0) == keepInside
                #expect(
                    Array(cut.pixels[3 * i..<3 * i + 3]) == (kept ? Array(image.pixels[3 * i..<3 * i + 3]) : [0, 0, 0]))
            }
        }
        let box = try #require(MaskRendering.boundingBox(mask, width: 97, height: 131))
        let cropped = try read("crop")
        #expect(cropped.width == box.width + 1 && cropped.height == box.height + 1)
        let expected = MaskRendering.croppedCutout(image, mask: mask, invert: true)
        let both = try read("both")
        #expect(both.width == expected.width && both.height == expected.height)
    }

    @Test func folderRunIsResumable() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let images = try Self.folder(
            in: dir, [("odd", "odd.png"), ("square", "square.png"), ("portrait", "portrait.png")])
        let out = dir.appendingPathComponent("out")
        let args =
            ["segment", images.path] + Self.model + [
                "--boxes-from", Self.fixture("yolo"), "--output", out.path, "--overlay",
            ]
        let first = try CLI.run(args + ["--json"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.split(separator: "\n").count == 3)
        #expect(
            Self.files(under: out) == [
                "odd/mask_0.png", "odd/mask_1.png", "odd/masks.json", "odd/overlay.png",
                "portrait/masks.json", "portrait/overlay.png",
                "square/mask_0.png", "square/masks.json", "square/overlay.png",
            ])
        let record = try SegmentationRecord.read(out.appendingPathComponent("odd/masks.json"))
        #expect(
            record.image == "odd.png" && record.masks.map(\.categoryId) == [0, 2]
                && record.masks.map(\.detectorScore) == [0.9, 0.1])
        let stamps = try Self.files(under: out).map { try Self.modified(out.appendingPathComponent($0)) }
        Thread.sleep(forTimeInterval: 0.05)
        // A re-run redoes nothing.
        let again = try CLI.run(args + ["--json"])
        #expect(again.status == 0 && again.stdout.isEmpty, "\(again.stderr)")
        #expect(try Self.files(under: out).map { try Self.modified(out.appendingPathComponent($0)) } == stamps)
        // An image without its record is redone, alone.
        try FileManager.default.removeItem(at: out.appendingPathComponent("square/masks.json"))
        let resumed = try CLI.run(args + ["--json"])
        #expect(
            resumed.status == 0 && resumed.stdout.split(separator: "\n").count == 1
                && resumed.stdout.contains("square.png"))
        #expect(try Self.modified(out.appendingPathComponent("odd/mask_0.png")) == stamps[0])
        // --overwrite redoes every image, and --coco gathers records of images done earlier.
        let coco = dir.appendingPathComponent("coco.json")
        let all = try CLI.run(args + ["--json", "--overwrite"])
        #expect(all.stdout.split(separator: "\n").count == 3)
        #expect(try CLI.run(args + ["--coco", coco.path]).status == 0)
        let instances = try JSONSerialization.jsonObject(with: Data(contentsOf: coco)) as! [String: Any]
        #expect(
            (instances["images"] as! [[String: Any]]).map { $0["file_name"] as! String } == [
                "odd.png", "portrait.png", "square.png",
            ])
        #expect((instances["annotations"] as! [[String: Any]]).map { $0["category_id"] as! Int } == [0, 2, 1])
    }

    @Test func aFailureMidFolderLeavesOnlyCompleteOutputs() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let images = try Self.folder(in: dir, [("odd", "a.png"), ("square", "c.png")])
        try Data("not a png".utf8).write(to: images.appendingPathComponent("b.png"))
        let out = dir.appendingPathComponent("out")
        let r = try CLI.run(
            ["segment", images.path] + Self.model + ["--point", "20,20", "--output", out.path, "--cutout"])
        #expect(r.status == 1 && r.stderr.contains("b.png"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
        // a.png was finished before b.png failed; nothing of b or c, no temporary file.
        #expect(
            Self.files(under: out) == [
                "a/cutout_0.png", "a/cutout_1.png", "a/cutout_2.png",
                "a/mask_0.png", "a/mask_1.png", "a/mask_2.png", "a/masks.json",
            ])
        // What a killed run leaves for c (a temporary file, a mask without a record) is replaced on the re-run.
        let c = out.appendingPathComponent("c")
        try FileManager.default.createDirectory(at: c, withIntermediateDirectories: true)
        try Data("half".utf8).write(to: c.appendingPathComponent(".mask_0.png.1a2b3c4d.tmp"))
        try Data("stale".utf8).write(to: c.appendingPathComponent("mask_5.png"))
        // With b.png fixed, a re-run does b and c only.
        try FileManager.default.copyItem(
            at: ModelFixtures.url("model/images/portrait.png"), to: images.appendingPathComponent("b2.png"))
        try FileManager.default.removeItem(at: images.appendingPathComponent("b.png"))
        let stamp = try Self.modified(out.appendingPathComponent("a/masks.json"))
        let again = try CLI.run(
            ["segment", images.path] + Self.model + ["--point", "20,20", "--output", out.path, "--cutout", "--json"])
        #expect(again.status == 0 && again.stdout.split(separator: "\n").count == 2, "\(again.stderr)")
        #expect(try Self.modified(out.appendingPathComponent("a/masks.json")) == stamp)
        #expect(
            Self.files(under: c) == [
                "cutout_0.png", "cutout_1.png", "cutout_2.png", "mask_0.png", "mask_1.png", "mask_2.png", "masks.json",
            ])
        #expect(!Self.files(under: out).contains { $0.hasSuffix(".tmp") })
    }

    @Test func shardsThenMergeCOCO() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let names = ["odd", "square", "portrait", "landscape"]
        let images = try Self.folder(in: dir, names.map { ($0, "\($0).png") })
        let out = dir.appendingPathComponent("out")
        var shardFiles: [String] = []
        var seen: [String] = []
        for k in 0..<3 {
            let coco = dir.appendingPathComponent("shard\(k).json").path
            let r = try CLI.run(
                ["segment", images.path] + Self.model + [
                    "--box", "10,10,60,60", "--output", out.path,
                    "--shard", "\(k)/3", "--coco", coco, "--json",
                ])
            #expect(r.status == 0, "\(r.stderr)")
            seen += r.stdout.split(separator: "\n").map { line in
                (try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any])["image"] as! String
            }
            shardFiles.append(coco)
        }
        #expect(seen.sorted() == names.map { "\($0).png" }.sorted())
        let merged = dir.appendingPathComponent("merged.json")
        let r = try CLI.run(["merge-coco", merged.path] + shardFiles)
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: merged)) as! [String: Any]
        let ids = (doc["images"] as! [[String: Any]]).map { $0["id"] as! Int }
        // Image ids are positions in the whole folder (name order), the same in every shard.
        #expect(ids.sorted() == [1, 2, 3, 4])
        #expect((doc["annotations"] as! [[String: Any]]).map { $0["id"] as! Int } == [1, 2, 3, 4])
        #expect((doc["categories"] as! [[String: Any]]).map { $0["name"] as! String } == ["object"])
        // A conflict leaves the earlier merged file as it was.
        let before = try Data(contentsOf: merged)
        let conflict = try CLI.run([
            "merge-coco", merged.path, Self.fixture("merge/shard_a.json"), Self.fixture("merge/conflict.json"),
        ])
        #expect(
            conflict.status == 1 && conflict.stderr.contains("conflict.json: images entry 0: image id 2"),
            "\(conflict.stderr)")
        #expect(conflict.stderr.split(separator: "\n").count == 1)
        #expect(try Data(contentsOf: merged) == before)
        let usage = try CLI.run(["merge-coco", merged.path])
        #expect(usage.status == 2 && usage.stderr.contains("merge-coco"))
        #expect(try CLI.run(["merge-coco", "--help"]).stdout.contains("usage: sam2 merge-coco"))
    }

    @Test(
        arguments: [
            (["IMAGE", "--point", "1,1", "--invert"], 2, "--invert and --crop shape cut-outs; add --cutout"),
            (["DIR", "--point", "1,1"], 2, "a folder needs --output DIR"),
            (["DIR", "--point", "1,1", "--output", "OUT", "--shard", "3/3"], 2, "--shard '3/3'"),
            (["IMAGE", "--point", "1,1", "--shard", "0/2"], 2, "--shard and --overwrite apply to a folder"),
            (["IMAGE", "--point", "1,1", "--boxes-from", "RESULTS"], 2, "--boxes-from gives the prompts"),
            (["IMAGE", "--boxes-from", "RESULTS", "--multimask"], 2, "drop --multimask"),
            (["IMAGE", "--point", "1,1", "--min-score", "0.5"], 2, "need --boxes-from"),
            (["IMAGE", "--boxes-from", "BAD"], 1, "missing_bbox.json: entry 1: \"bbox\" is missing"),
            (["IMAGE", "--boxes-from", "/nonexistent/boxes.json"], 1, "cannot read /nonexistent/boxes.json"),
            (["EMPTY", "--point", "1,1", "--output", "OUT"], 1, "holds no .jpg, .jpeg or .png image"),
            (["/nonexistent/photos", "--point", "1,1"], 1, "/nonexistent/photos"),
            (["DIR", "--boxes-from", "FAR", "--output", "OUT"], 1, "lies wholly outside the 97×131 image"),
        ] as [([String], Int32, String)])
    func badUseIsOneLine(arguments: [String], status: Int32, message: String) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let images = try Self.folder(in: dir, [("odd", "odd.png")])
        let empty = dir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let far = dir.appendingPathComponent("far")
        try FileManager.default.createDirectory(at: far, withIntermediateDirectories: true)
        try Data("0 0.5 0.5 0.1 0.1\n0 5 5 0.1 0.1\n".utf8).write(to: far.appendingPathComponent("odd.txt"))
        let substitutions = [
            "IMAGE": CLI.image, "DIR": images.path, "EMPTY": empty.path, "OUT": dir.appendingPathComponent("out").path,
            "RESULTS": Self.fixture("results.json"), "BAD": Self.fixture("bad/missing_bbox.json"), "FAR": far.path,
        ]
        let r = try CLI.run(["segment"] + arguments.map { substitutions[$0] ?? $0 } + Self.model)
        #expect(r.status == status, "\(r.stderr)")
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path))
    }
}
