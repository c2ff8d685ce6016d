// The `sam2` tool as a user runs it: the built binary with good and bad arguments, files and
// prompts. Checks exit statuses (0 / 1 runtime / 2 usage), one-line errors naming the culprit,
// the files written, and that a failing run leaves nothing behind.

import Foundation
import Testing

@testable import SAM2
@testable import SAM2IO
@testable import SAM2Workflows

struct CLI {
    static let binary: URL = {
        // The test bundle sits next to the products of the same build.
        var dir = Bundle.module.bundleURL.deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("sam2").path) && dir.path != "/" {
            dir.deleteLastPathComponent()
        }
        return dir.appendingPathComponent("sam2")
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        /// The process's peak resident memory.
        var maxRSSBytes: Int
    }

    /// Runs the binary to its end with its outputs in temporary files, and takes its exit status and
    /// peak resident memory from wait4 (Foundation's Process reaps children on its own thread). The
    /// child gets `environment` when given, else this process's environment.
    static func run(_ arguments: [String], stdin: String = "/dev/null", environment: [String: String]? = nil) throws
        -> Result
    {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (outPath, errPath) = (dir.appendingPathComponent("out").path, dir.appendingPathComponent("err").path)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = ([binary.path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { for pointer in envp ?? [] { free(pointer) } }
        var pid: pid_t = 0
        let spawned =
            envp == nil
            ? posix_spawn(&pid, binary.path, &actions, nil, argv, environ)
            : posix_spawn(&pid, binary.path, &actions, nil, argv, &envp!)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let exited = status & 0x7f == 0
        return Result(
            status: exited ? (status >> 8) & 0xff : 128 + (status & 0x7f),
            stdout: String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: outPath))) ?? Data(), as: UTF8.self),
            stderr: String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: errPath))) ?? Data(), as: UTF8.self),
            maxRSSBytes: usage.ru_maxrss * 1024)
    }

    static let checkpoint = ModelFixtures.url("model/small_2.1.pt").path
    static let config = ModelFixtures.url("model/small_2.1.json").path
    static let image = ModelFixtures.url("model/images/odd.png").path

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sam2-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}

@Suite(.serialized) struct CLITests {
    @Test func helpAndUsage() throws {
        #expect(try CLI.run([]).status == 2)
        for command in ["--help", "info --help", "segment --help", "bench --help"] {
            let r = try CLI.run(command.split(separator: " ").map(String.init))
            #expect(r.status == 0 && r.stdout.contains("usage: sam2"), "\(command)")
        }
        let unknown = try CLI.run(["frobnicate"])
        #expect(unknown.status == 2 && unknown.stderr.contains("unknown command 'frobnicate'"))
        let option = try CLI.run(["segment", CLI.image, "--checkpoint", CLI.checkpoint, "--point", "1,1", "--bogus"])
        #expect(option.status == 2 && option.stderr.contains("--bogus"))
        #expect(option.stderr.split(separator: "\n").count == 1)
    }

    @Test func infoReportsConfigurationAndCounts() throws {
        let r = try CLI.run(["info", CLI.checkpoint, "--config", CLI.config, "--json"])
        #expect(r.status == 0)
        let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect(doc["config"] as? String == "small_2.1")
        #expect(doc["version"] as? String == "2.1")
        // The committed small checkpoint's tensor and value counts as torch counts them.
        #expect(doc["tensors"] as? Int == 347)
        #expect(doc["values"] as? Int == 907930)
    }

    @Test func precisionOption() throws {
        let bench = try CLI.run([
            "bench", "--checkpoint", CLI.checkpoint, "--config", CLI.config, "--precision", "bf16", "--repeat", "1",
            "--json", "--quiet",
        ])
        #expect(bench.status == 0)
        let doc = try JSONSerialization.jsonObject(with: Data(bench.stdout.utf8)) as! [String: Any]
        #expect(doc["precision"] as? String == "bf16")
        // The products' weights are held in bf16: fewer bytes than the same model in float32.
        let fp32 = try CLI.run([
            "bench", "--checkpoint", CLI.checkpoint, "--config", CLI.config, "--repeat", "1", "--json", "--quiet",
        ])
        let fp32Doc = try JSONSerialization.jsonObject(with: Data(fp32.stdout.utf8)) as! [String: Any]
        let (bf16MB, fp32MB) = (
            try #require(doc["weights_mb"] as? Double), try #require(fp32Doc["weights_mb"] as? Double)
        )
        #expect(fp32MB == 3.63 && bf16MB > 0 && bf16MB < fp32MB)
        let segment = try CLI.run([
            "segment", CLI.image, "--checkpoint", CLI.checkpoint, "--config", CLI.config, "--point", "20,20",
            "--precision", "int8", "--json", "--output", try CLI.temporaryDirectory().path,
        ])
        #expect(segment.status == 0 && segment.stdout.contains("\"score\""))
        let bad = try CLI.run(["segment", CLI.image, "--checkpoint", CLI.checkpoint, "--precision", "fp16"])
        #expect(bad.status == 2 && bad.stderr.contains("--precision 'fp16': expected fp32, bf16 or int8"))
        let info = try CLI.run(["info", CLI.checkpoint, "--config", CLI.config])
        #expect(info.status == 0 && info.stdout.contains("accelerated precisions: fp32"))
        let kernels = ["avx512 (own kernels)", "generic (own kernels)"]
        #expect(kernels.contains { info.stdout.contains($0) }, "\(info.stdout)")
    }

    @Test(arguments: [
        ("/nonexistent/model.pt", "cannot open checkpoint /nonexistent/model.pt"),
        ("Tests/SAM2CheckpointTests/Fixtures/evil_os_system.pt", "refusing pickle global os.system"),
        ("Tests/SAM2CheckpointTests/Fixtures/truncated.pt", "truncated"),
        ("Tests/SAM2CheckpointTests/Fixtures/corrupt_central_directory.pt", "corrupt_central_directory.pt"),
        ("Tests/SAM2CheckpointTests/Fixtures/random.bin", "is not a checkpoint"),
    ])
    func badCheckpoints(path: String, message: String) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let full = path.hasPrefix("/") ? path : root.appendingPathComponent(path).path
        let r = try CLI.run(["info", full])
        #expect(r.status == 1)
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
    }

    @Test func unknownArchitectureSaysWhatWasFound() throws {
        let r = try CLI.run(["info", CLI.checkpoint])
        #expect(r.status == 1 && r.stderr.contains("trunk width 16") && r.stderr.contains("--config"))
    }

    @Test func segmentWritesMasksJSONAndLogitsEqualToTheReference() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ref = try ReferenceCase("model/2.1_odd_point.safetensors")
        let p = ref.floats("point_coords")![0]
        let logits = dir.appendingPathComponent("logits.npy")
        let r = try CLI.run([
            "segment", CLI.image, "--checkpoint", CLI.checkpoint, "--config", CLI.config,
            "--point", "\(p[0]),\(p[1])", "--output", dir.appendingPathComponent("out").path,
            "--cutout", "--overlay", "--save-logits", logits.path, "--json",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect(doc["width"] as? Int == 97 && doc["height"] as? Int == 131)
        let masks = doc["masks"] as! [[String: Any]]
        #expect(masks.count == 3)
        for (k, m) in masks.enumerated() {
            #expect(m["index"] as? Int == k)
            #expect(FileManager.default.fileExists(atPath: m["file"] as! String))
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/cutout_\(k).png").path))
        }
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/overlay.png").path))
        let saved = try NPY.read(logits)
        #expect(saved.shape == [3, 131, 97])
        let ours = subsample(Tensor(shape: saved.shape, scalars: saved.values), stride: ref.int("stride"))
        let expected = try ref["logits"]
        #expect(relativeL2(ours, expected.reshaped([-1, expected.dim(-2), expected.dim(-1)])) <= 5e-4)
        let scores = masks.map { Float($0["score"] as! Double) }
        #expect(maxAbsDifference(scores, try ref["scores"].scalars) <= 2e-3)
        // Mask files hold 0/255 and match the logits' sign.
        let mask0 = try ImageIO.readMask(URL(fileURLWithPath: masks[0]["file"] as! String))
        #expect(mask0.values.enumerated().allSatisfy { ($0.element != 0) == (saved.values[$0.offset] > 0) })
    }

    @Test(
        arguments: [
            (["--point", "nan,3"], 1, "not a finite number"),
            (["--point", "3,inf"], 1, "not a finite number"),
            (["--point", "10,10,2"], 2, "label 2.0"),
            (["--point", "500,10"], 1, "outside the 97×131 image"),
            (["--point", "10"], 2, "--point '10'"),
            (["--box", "50,50,10,10"], 1, "x1 < x0"),
            (["--box", "500,500,600,600"], 1, "wholly outside"),
            (["--mask-input", "MASK_WRONG_SIZE", "--point", "3,3"], 1, "is 320×320 but the image is 97×131"),
            (["--point", "1,1", "--threads", "0"], 2, "--threads '0'"),
            (["--point", "1,1", "--multimask", "--single"], 2, "not both"),
        ] as [([String], Int32, String)])
    func badPromptsLeaveNothingBehind(extra: [String], status: Int32, message: String) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let args = extra.map { $0 == "MASK_WRONG_SIZE" ? ModelFixtures.url("model/images/square.png").path : $0 }
        let r = try CLI.run(
            [
                "segment", CLI.image, "--checkpoint", CLI.checkpoint, "--config", CLI.config,
                "--output", out.path, "--save-logits", dir.appendingPathComponent("l.npy").path,
            ] + args)
        #expect(r.status == status, "\(r.stderr)")
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty, "files were written")
    }

    @Test func undecodableImage() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("photo.jpg")
        try Data("not a jpeg".utf8).write(to: bad)
        let r = try CLI.run([
            "segment", bad.path, "--checkpoint", CLI.checkpoint, "--config", CLI.config, "--point", "1,1",
            "--output", dir.appendingPathComponent("out").path,
        ])
        #expect(r.status == 1 && r.stderr.contains("photo.jpg"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path))
    }
}
