// Tests of CheckpointFile / TorchCheckpoint / SafetensorsFile / ZipArchive against the committed
// fixtures: every tensor's dtype, shape and values, zero-copy views, and every bad file's error.

import Foundation
import SAM2Tensor
import Testing

@testable import SAM2Checkpoint

@Suite struct CheckpointFileTests {
    /// Opens `name` and checks keys, dtypes, shapes and every value against expected.json.
    func checkAgainstExpected(_ name: String, format: CheckpointFormat) throws {
        let expected = try #require(Fixtures.expected[name])
        let file = try CheckpointFile.open(Fixtures.url(name))
        #expect(file.format == format)
        #expect(file.keys == expected.keys.sorted())
        for (key, want) in expected {
            let info = try #require(file.entry(key), "\(name): \(key)")
            #expect(info.dtype.rawValue == want.dtype, "\(name): \(key)")
            #expect(info.shape == want.shape, "\(name): \(key)")
            #expect(info.count == want.values.count, "\(name): \(key)")
            let tensor = try file.tensor(key)
            #expect(tensor.shape == want.shape, "\(name): \(key)")
            #expect(tensor.scalars == want.values, "\(name): \(key)")
        }
    }

    @Test(arguments: ["model_wrapped.pt", "bare_state_dict.pt", "dtypes.pt", "zip64.pt", "descriptors_deflated.pt"])
    func torchValues(_ name: String) throws {
        try checkAgainstExpected(name, format: .torch)
    }

    @Test func safetensorsValues() throws {
        try checkAgainstExpected("dtypes.safetensors", format: .safetensors)
        let file = try SafetensorsFile(url: Fixtures.url("dtypes.safetensors"))
        #expect(file.metadata == ["format": "pt"])
    }

    @Test func layoutCasesReadAsTorchDoes() throws {
        // Spot checks that do not rely on expected.json alone: views of one storage agree.
        let file = try CheckpointFile.open(Fixtures.url("model_wrapped.pt"))
        let full = try file.tensor("shared.full").scalars  // 4×5
        #expect(try file.tensor("shared.row2").scalars == Array(full[10..<15]))
        #expect(try file.tensor("shared.column").scalars == [full[1], full[6], full[11], full[16]])
        #expect(try file.tensor("scalar").scalars == [2.5])
        #expect(try file.tensor("empty").shape == [0, 4])
        #expect(file.entry("nonexistent") == nil)
        #expect(
            checkpointError { _ = try file.tensor("nonexistent") } == .missingKey(source: file.path, key: "nonexistent")
        )
    }

    @Test func storedFloat32IsZeroCopy() throws {
        let checkpoint = try TorchCheckpoint(url: Fixtures.url("model_wrapped.pt"))
        let mapped = checkpoint.archive.file
        let range = UInt(bitPattern: mapped.base)..<(UInt(bitPattern: mapped.base) + UInt(mapped.count))
        func address(_ t: Tensor) -> UInt { UInt(bitPattern: t.storage.pointer) }
        let full = try checkpoint.tensor("shared.full")
        let row = try checkpoint.tensor("shared.row2")
        let weight = try checkpoint.tensor("image_encoder.trunk.patch_embed.proj.weight")
        #expect(range.contains(address(full)))
        #expect(range.contains(address(weight)))
        #expect(address(row) == address(full) + 10 * 4)  // same storage, offset 10
        // Non-contiguous tensors are materialised into fresh memory.
        #expect(!range.contains(address(try checkpoint.tensor("transposed"))))
        // safetensors float32 data (8-byte aligned header) is viewed in place too.
        let st = try SafetensorsFile(url: Fixtures.url("dtypes.safetensors"))
        let stRange = UInt(bitPattern: st.file.base)..<(UInt(bitPattern: st.file.base) + UInt(st.file.count))
        #expect(stRange.contains(address(try st.tensor("b.float32"))))
        #expect(!stRange.contains(address(try st.tensor("a.float16"))))
    }

    @Test func tensorsOutliveTheirFile() throws {
        var tensor: Tensor?
        do {
            let file = try CheckpointFile.open(Fixtures.url("model_wrapped.pt"))
            tensor = try file.tensor("shared.full")
        }
        let want = try #require(Fixtures.expected["model_wrapped.pt"]?["shared.full"])
        #expect(tensor?.scalars == want.values)
    }

    @Test func zipStructures() throws {
        let zip64 = try ZipArchive(url: Fixtures.url("zip64.pt"))
        #expect(zip64.entries.contains { $0.name == "zip64/data.pkl" })
        for entry in zip64.entries {
            _ = try zip64.contents(of: entry, verifyChecksum: true)
        }
        let descriptors = try ZipArchive(url: Fixtures.url("descriptors_deflated.pt"))
        #expect(descriptors.entries.allSatisfy { $0.hasDataDescriptor })
        #expect(descriptors.entries.contains { $0.method == 8 && $0.name.hasPrefix("descriptors/data/") })
        #expect(descriptors.entries.contains { $0.isStored })
        for entry in descriptors.entries {
            let data = try descriptors.contents(of: entry, verifyChecksum: true)
            #expect(data.count == entry.uncompressedSize)
        }
        let torch = try ZipArchive(url: Fixtures.url("model_wrapped.pt"))
        for entry in torch.entries {
            _ = try torch.contents(of: entry, verifyChecksum: true)
            if entry.name.contains("/data/") { #expect(entry.dataOffset % 64 == 0) }  // torch aligns storages
        }
    }

    @Test func crcMismatchIsReported() throws {
        var bytes = try Data(contentsOf: Fixtures.url("model_wrapped.pt"))
        let archive = try ZipArchive(url: Fixtures.url("model_wrapped.pt"))
        let entry = try #require(archive.entry(named: "archive/data/0"))
        bytes[entry.dataOffset] ^= 0x01
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sam2-crc-\(UUID().uuidString).pt")
        try bytes.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let damaged = try ZipArchive(url: url)
        _ = try damaged.contents(of: entry)  // CRC is optional for stored entries
        let error = checkpointError { _ = try damaged.contents(of: entry, verifyChecksum: true) }
        guard case .corruptEntry(_, let name, let detail)? = error else {
            Issue.record("expected corruptEntry, got \(String(describing: error))")
            return
        }
        #expect(name == "archive/data/0")
        #expect(detail.contains("CRC-32"))
    }

    @Test func dtypeSummary() throws {
        let file = try CheckpointFile.open(Fixtures.url("dtypes.pt"))
        let summary = file.dtypes
        #expect(summary[.float16] == 2)
        for dtype in StoredDType.allCases where dtype != .float16 { #expect(summary[dtype] == 1, "\(dtype)") }
        #expect(file.valueCount == Fixtures.expected["dtypes.pt"]!.values.reduce(0) { $0 + $1.values.count })
    }

    // MARK: - Malicious pickles: refused by name, nothing executed

    @Test(arguments: [
        ("evil_os_system.pt", "os.system"), ("evil_os_system.pkl", "os.system"),
        ("evil_builtins_eval.pt", "builtins.eval"), ("evil_builtins_eval.pkl", "builtins.eval"),
        ("evil_nested.pt", "posix.system"),
    ])
    func foreignGlobalsAreRefused(_ name: String, _ global: String) throws {
        let url = Fixtures.url(name)
        let error = checkpointError { _ = try CheckpointFile.open(url) }
        #expect(error == .foreignGlobal(path: url.path, global: global))
        let message = try #require(error).description
        #expect(message.contains("refusing pickle global \(global) in \(url.path)"))
        #expect(!FileManager.default.fileExists(atPath: Fixtures.pwnedMarker))
    }

    // MARK: - Damaged and foreign files

    @Test func missingFile() {
        let url = Fixtures.url("no-such-checkpoint.pt")
        let error = checkpointError { _ = try CheckpointFile.open(url) }
        guard case .missingFile(let path, _)? = error else {
            Issue.record("expected missingFile, got \(String(describing: error))")
            return
        }
        #expect(path == url.path)
        #expect(error!.description.contains("no-such-checkpoint.pt"))
    }

    @Test func truncatedTorchFile() {
        let url = Fixtures.url("truncated.pt")
        let error = checkpointError { _ = try CheckpointFile.open(url) }
        guard case .truncated(let path, _)? = error else {
            Issue.record("expected truncated, got \(String(describing: error))")
            return
        }
        #expect(path == url.path)
    }

    @Test func corruptCentralDirectory() {
        let url = Fixtures.url("corrupt_central_directory.pt")
        let error = checkpointError { _ = try CheckpointFile.open(url) }
        guard case .corruptArchive(let path, let detail)? = error else {
            Issue.record("expected corruptArchive, got \(String(describing: error))")
            return
        }
        #expect(path == url.path)
        #expect(detail.contains("archive/data.pkl"))  // the first entry's offset was damaged
    }

    @Test func bigEndianRefused() {
        let url = Fixtures.url("big_endian.pt")
        #expect(checkpointError { _ = try CheckpointFile.open(url) } == .bigEndian(path: url.path))
    }

    @Test func badSafetensorsHeaders() {
        func error(_ name: String) -> CheckpointError? {
            checkpointError { _ = try CheckpointFile.open(Fixtures.url(name)) }
        }
        guard case .truncated(_, let pastEnd)? = error("past_end.safetensors") else {
            Issue.record("past_end: \(String(describing: error("past_end.safetensors")))")
            return
        }
        #expect(pastEnd.contains("tensor w ends at data byte 16"))
        guard case .corruptArchive(_, let overlap)? = error("overlapping.safetensors") else {
            Issue.record("overlapping: \(String(describing: error("overlapping.safetensors")))")
            return
        }
        #expect(overlap.contains("overlap") && overlap.contains("a") && overlap.contains("b"))
        guard case .corruptArchive(_, let mismatch)? = error("size_mismatch.safetensors") else {
            Issue.record("size_mismatch: \(String(describing: error("size_mismatch.safetensors")))")
            return
        }
        #expect(mismatch.contains("needs 12 bytes"))
        #expect(
            error("unknown_dtype.safetensors")
                == .unknownDType(path: Fixtures.url("unknown_dtype.safetensors").path, key: "w", dtype: "Q7"))
    }

    /// Checkpoints that killed the process (arithmetic overflow traps, a 1 TiB allocation) or made it
    /// inflate gigabytes (tools/reference/make_checkpoint_fixtures.py, section 8): each is refused with
    /// one line naming the file and what is wrong, before anything is allocated for it.
    @Test(arguments: [
        ("stride_2_62.pt", "reaches past its storage of 4 float32 elements"),
        ("offset_2_63.pt", "reaches past its storage of 4 float32 elements"),
        ("expanded_2_62.pt", "more than its storage's 4"),
        ("pickle_declares_1tib.pt", "more than the 67108864 it can hold"),
        ("pickle_65mib.pt", "declares 68157440 bytes uncompressed, more than the 67108864 it can hold"),
        (
            "storage_declares_1tib.pt",
            "holds 1099511627776 bytes, but the pickle says its storage has 4 float32 elements"
        ),
        ("storage_zip_bomb.pt", "holds 1048576 bytes, but the pickle says its storage has 4 float32 elements"),
        ("header_over_100mb.safetensors", "more than the format's limit of 100000000"),
    ])
    func hostileCheckpointsAreRefused(_ name: String, _ message: String) throws {
        let url = Fixtures.url(name)
        let error = checkpointError {
            let file = try CheckpointFile.open(url)
            _ = file.valueCount
            for key in file.keys { _ = try file.tensor(key) }
        }
        let text = error?.description ?? "opened"
        #expect(text.contains(message) && text.contains(url.path) && !text.contains("\n"), "\(name): \(text)")
    }

    /// A storage that only some of its elements are used of is inflated no further than its tensors
    /// reach (the rest goes through a small buffer, for the CRC): the deflated fixture's sliced views
    /// read as torch wrote them.
    @Test func deflatedStoragesAreKeptOnlyAsFarAsTheirTensorsReach() throws {
        let file = try TorchCheckpoint(url: Fixtures.url("descriptors_deflated.pt"))
        let expected = Fixtures.expected["descriptors_deflated.pt"]!
        for key in ["offset.slice", "strided.every_other", "shared.column"] {
            #expect(try file.tensor(key).scalars == expected[key]!.values, "\(key)")
        }
    }

    /// A FIFO would block `open` until a writer comes: it is refused at once as not a regular file.
    @Test func fifoIsRefusedWithoutWaiting() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sam2-fifo-\(UUID().uuidString).pt")
        #expect(mkfifo(url.path, 0o600) == 0)
        defer { try? FileManager.default.removeItem(at: url) }
        let error = checkpointError { _ = try CheckpointFile.open(url) }
        #expect(error == .missingFile(path: url.path, reason: "not a regular file"))
    }

    @Test func randomFileIsNotACheckpoint() {
        let url = Fixtures.url("random.bin")
        let error = checkpointError { _ = try CheckpointFile.open(url) }
        guard case .notACheckpoint(let path, let looksLike)? = error else {
            Issue.record("expected notACheckpoint, got \(String(describing: error))")
            return
        }
        #expect(path == url.path)
        #expect(looksLike.hasPrefix("unrecognised binary data (600 bytes"))
        // expected.json itself is text, and says so.
        let text = checkpointError { _ = try CheckpointFile.open(Fixtures.url("expected.json")) }
        #expect(text?.description.contains("a text file") == true)
    }

    @Test func emptyFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sam2-empty-\(UUID().uuidString).pt")
        try Data().write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(
            checkpointError { _ = try CheckpointFile.open(url) }
                == .notACheckpoint(path: url.path, looksLike: "an empty file"))
    }

    @Test func everyTruncationFailsCleanly() throws {
        // Cutting the archive anywhere gives a CheckpointError, never a crash or a wrong read.
        let bytes = try Data(contentsOf: Fixtures.url("model_wrapped.pt"))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sam2-cut-\(UUID().uuidString).pt")
        defer { try? FileManager.default.removeItem(at: url) }
        for length in stride(from: 0, to: bytes.count, by: 97) {
            try bytes.prefix(length).write(to: url)
            #expect(checkpointError { _ = try CheckpointFile.open(url) } != nil, "cut at \(length)")
        }
    }
}

@Suite struct CheckpointFuzzTests {
    @Test func singleBitFlipsNeverCrash() throws {
        // Bytes of a real checkpoint flipped one at a time: opening and reading all tensors either
        // works or throws a CheckpointError, never crashes.
        let original = try Data(contentsOf: Fixtures.url("model_wrapped.pt"))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sam2-flip-\(UUID().uuidString).pt")
        defer { try? FileManager.default.removeItem(at: url) }
        // Every byte of the pickle and of the central directory onwards; every 13th elsewhere.
        let archive = try ZipArchive(url: Fixtures.url("model_wrapped.pt"))
        let pickle = try #require(archive.entry(named: "archive/data.pkl"))
        let directoryStart = archive.entries.map { $0.dataOffset + $0.compressedSize }.max()!
        let positions = (0..<original.count).filter {
            $0 % 13 == 0 || $0 >= directoryStart
                || (pickle.localHeaderOffset..<(pickle.dataOffset + pickle.compressedSize)).contains($0)
        }
        var failures = 0
        for position in positions {
            var bytes = original
            bytes[position] ^= 0x5A
            try bytes.write(to: url)
            do {
                let file = try CheckpointFile.open(url)
                for key in file.keys { _ = try file.tensor(key) }
            } catch is CheckpointError {
                failures += 1
            }
        }
        #expect(failures > 0)
    }
}
