// Hostile and unusual input through the built `sam2` binary (issue 16): memory bombs and files that
// are not files give one line and exit 1 with peak memory far under 2 GB; many boxes and thin images
// succeed; outputs of an earlier run and temporaries of a killed one do not linger.

import Foundation
import Testing

@testable import SAM2
@testable import SAM2IO
@testable import SAM2Workflows

@Suite(.serialized) struct ReliabilityTests {
    static let model = ["--checkpoint", CLI.checkpoint, "--config", CLI.config, "--quiet"]
    static let gigabyte = 1 << 30

    func expectOneLineFailure(_ r: CLI.Result, _ message: String, status: Int32 = 1, _ context: String) {
        let lines = r.stderr.split(separator: "\n")
        #expect(
            r.status == status && lines.count == 1 && r.stderr.contains(message), "\(context): \(r.status) \(r.stderr)")
        #expect(r.maxRSSBytes < 2 * Self.gigabyte, "\(context): peak RSS \(r.maxRSSBytes >> 20) MiB")
    }

    /// Image bombs (tools/reference/make_image_fixtures.py): refused from the header, or, for a chunk
    /// claiming 2 GiB, without allocating it; as an image and as a mask prompt.
    @Test(arguments: [
        ("bomb_22000.png", "is 22000×22000 pixels (484.0 megapixels), above the limit"),
        ("bomb_30000x16000.jpg", "is 30000×16000 pixels (480.0 megapixels), above the limit"),
        ("text_chunk_2gib.png", "is a truncated PNG file"), ("exif_chunk_2gib.png", "is a truncated PNG file"),
    ])
    func imageBombsAreRefusedInBoundedMemory(_ name: String, _ message: String) throws {
        let bomb = ImageFixtures.url(name).path
        expectOneLineFailure(try CLI.run(["segment", bomb, "--point", "1,1"] + Self.model), message, name)
        let asMask = try CLI.run(["segment", CLI.image, "--point", "1,1", "--mask-input", bomb] + Self.model)
        #expect(asMask.maxRSSBytes < 2 * Self.gigabyte && asMask.status == 1, "\(name) as a mask: \(asMask.stderr)")
        // A larger budget is the user's choice: the 22000² header is then decoded only up to its data.
        if name == "bomb_22000.png" {
            expectOneLineFailure(
                try CLI.run(["segment", bomb, "--point", "1,1", "--max-megapixels", "600"] + Self.model),
                "is a corrupt PNG file", "\(name) with --max-megapixels 600")
        }
    }

    /// Files that are not regular files: a FIFO would block, /dev/zero would never end.
    @Test func pipesAndDevicesAreRefusedAtOnce() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("pipe.png").path
        let checkpointFIFO = dir.appendingPathComponent("pipe.pt").path
        #expect(mkfifo(fifo, 0o600) == 0 && mkfifo(checkpointFIFO, 0o600) == 0)
        for image in [fifo, "/dev/zero"] {
            expectOneLineFailure(
                try CLI.run(["segment", image, "--point", "1,1"] + Self.model), "not a regular file", image)
        }
        expectOneLineFailure(try CLI.run(["info", checkpointFIFO]), "not a regular file", "checkpoint FIFO")
        expectOneLineFailure(
            try CLI.run(["segment", CLI.image, "--point", "1,1", "--mask-input", dir.path] + Self.model),
            "it is a folder, not a file", "--mask-input folder")
    }

    /// Hostile checkpoints (tools/reference/make_checkpoint_fixtures.py, section 8) through `info`.
    @Test(arguments: [
        "stride_2_62.pt", "offset_2_63.pt", "expanded_2_62.pt", "pickle_declares_1tib.pt", "storage_declares_1tib.pt",
        "storage_zip_bomb.pt", "pickle_65mib.pt", "header_over_100mb.safetensors",
    ])
    func hostileCheckpointsFailInOneLine(_ name: String) throws {
        let checkpoint = Self.checkpointFixture(name)
        expectOneLineFailure(try CLI.run(["info", checkpoint]), checkpoint, "info \(name)")
        expectOneLineFailure(
            try CLI.run(["segment", CLI.image, "--point", "1,1", "--checkpoint", checkpoint]), checkpoint,
            "segment \(name)")
    }

    static func checkpointFixture(_ name: String) -> String {
        // The checkpoint tests' fixtures sit beside this target's in the build folder.
        let resources = ModelFixtures.root.deletingLastPathComponent().deletingLastPathComponent()
        return resources.appendingPathComponent("swift-sam2_SAM2CheckpointTests.resources/Fixtures/\(name)").path
    }

    /// Automatic-mask options past their bounds are usage errors; thin images with crop layers work.
    @Test func automaticMaskOptionsAreBoundedAndThinImagesWork() throws {
        for (option, value) in [
            ("--points-per-side", "100000"), ("--crop-n-layers", "10"), ("--points-per-batch", "0"),
        ] {
            expectOneLineFailure(
                try CLI.run(["auto", CLI.image, option, value] + Self.model), "\(option) '\(value)'", status: 2, option)
        }
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (w, h) in [(1, 1), (1, 10000), (10000, 1)] {
            let url = dir.appendingPathComponent("thin_\(w)x\(h).png")
            try ImageIO.writeRGBPNG(
                RGBImage(width: w, height: h, pixels: .init(repeating: 90, count: w * h * 3)), to: url)
            let r = try CLI.run(
                ["auto", url.path, "--crop-n-layers", "1", "--points-per-side", "4", "--json"] + Self.model)
            #expect(r.status == 0 && r.stdout.contains("\"width\":\(w)"), "\(w)×\(h): \(r.stderr)")
        }
    }

    /// Many boxes: predicted in passes of 16 and kept as run lengths, so 300 boxes take about the memory
    /// of 30, and each box's mask is the one a single-box run gives.
    @Test func manyBoxesRunInBoundedMemory() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func boxes(_ n: Int) -> [String] {
            (0..<n).flatMap { i in ["--box", "\(i % 40),\(i % 50),\(40 + i % 50),\(60 + i % 60)"] }
        }
        var peaks: [Int: Int] = [:]
        for n in [30, 300] {
            let r = try CLI.run(["segment", CLI.image, "--json"] + boxes(n) + Self.model)
            #expect(r.status == 0, "\(n) boxes: \(r.stderr)")
            let record = try JSONDecoder().decode(SegmentationRecord.self, from: Data(r.stdout.utf8))
            #expect(record.masks.count == n)
            // Box 0 (0,0,40,60) alone gives the same mask as in the batch (to a pixel at the threshold:
            // a batched product sums in another order).
            let alone = try CLI.run(["segment", CLI.image, "--json", "--box", "0,0,40,60"] + Self.model)
            let single = try JSONDecoder().decode(SegmentationRecord.self, from: Data(alone.stdout.utf8))
            func values(_ rle: COCORLE) -> [UInt8] {
                UncompressedRLE(cocoString: rle.counts, height: rle.size[0], width: rle.size[1])!.mask()
            }
            let (a, b) = (values(record.masks[0].segmentation), values(single.masks[0].segmentation))
            let inter = zip(a, b).filter { $0 != 0 && $1 != 0 }.count
            let union = zip(a, b).filter { $0 != 0 || $1 != 0 }.count
            #expect(union == 0 || Double(inter) / Double(union) >= 0.999, "\(n) boxes: box 0 IoU \(inter)/\(union)")
            peaks[n] = r.maxRSSBytes
        }
        print("segment peak RSS: 30 boxes \(peaks[30]! >> 20) MiB, 300 boxes \(peaks[300]! >> 20) MiB")
        #expect(Double(peaks[300]!) < 1.25 * Double(peaks[30]!), "RSS 30 → 300 boxes: \(peaks)")
    }

    /// A new run into an output folder replaces the earlier run's whole set (a mask_2.png from a run
    /// with more masks does not linger), and removes temporaries a killed run left.
    @Test func outputsOfEarlierRunsAndKilledRunsDoNotLinger() throws {
        let out = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let first = try CLI.run(
            ["segment", CLI.image, "--point", "40,60", "--output", out.path, "--cutout", "--overlay"] + Self.model)
        #expect(first.status == 0, "\(first.stderr)")
        // A temporary of a process that is gone (pid 2^22 + 1 is above Linux's default pid_max), and one
        // of this test's own process (alive: kept).
        let dead = out.appendingPathComponent(".mask_0.png.4194305.0badcafe.tmp")
        let alive = out.appendingPathComponent(".mask_0.png.\(getpid()).0badcafe.tmp")
        try Data("x".utf8).write(to: dead)
        try Data("x".utf8).write(to: alive)
        let second = try CLI.run(["segment", CLI.image, "--box", "10,10,60,90", "--output", out.path] + Self.model)
        #expect(second.status == 0, "\(second.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        #expect(names == [alive.lastPathComponent, "mask_0.png"], "\(names)")
        // An output folder that cannot be made: one line naming it.
        let blocker = out.appendingPathComponent("file")
        try Data().write(to: blocker)
        expectOneLineFailure(
            try CLI.run(
                ["segment", CLI.image, "--point", "1,1", "--output", blocker.appendingPathComponent("x").path]
                    + Self.model),
            "cannot write '\(blocker.appendingPathComponent("x").path)'", "output under a file")
    }
}
