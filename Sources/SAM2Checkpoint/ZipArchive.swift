// ZipArchive: reads the zip container torch.save writes (PKWARE APPNOTE: end of central directory,
// zip64 end record + locator + extra fields, central directory, local headers, data descriptors).
// The file is memory-mapped: stored entries are views of the mapping, deflated ones are inflated by zlib.

import CZlib
import Foundation

/// One member of a zip archive, as described by its central-directory record.
public struct ZipEntry: Sendable, Equatable {
    public let name: String
    /// 0 = stored, 8 = deflated (the only two methods read).
    public let method: UInt16
    public let flags: UInt16
    public let crc32: UInt32
    public let compressedSize: Int
    public let uncompressedSize: Int
    public let localHeaderOffset: Int
    /// Offset of the member's first data byte in the file (after its local header).
    public let dataOffset: Int

    public var isStored: Bool { method == 0 }
    /// Sizes and CRC follow the data instead of sitting in the local header (bit 3).
    public var hasDataDescriptor: Bool { flags & 0x8 != 0 }
}

public final class ZipArchive: Sendable {
    public let file: MappedFile
    /// Members in central-directory order.
    public let entries: [ZipEntry]
    private let index: [String: Int]

    public var path: String { file.path }

    public convenience init(url: URL) throws {
        try self.init(file: MappedFile(url: url))
    }

    public init(file: MappedFile) throws {
        self.file = file
        let parsed = try ZipArchive.readCentralDirectory(file)
        entries = parsed
        var index: [String: Int] = [:]
        for (i, entry) in parsed.enumerated() where index[entry.name] == nil { index[entry.name] = i }
        self.index = index
    }

    public func entry(named name: String) -> ZipEntry? {
        index[name].map { entries[$0] }
    }

    /// Deflate expands at most 1032 to 1 (RFC 1951: a 258-byte match costs at least 2 bits); a member
    /// declaring more than that of its compressed size is not a deflate stream.
    static let maximumDeflateRatio = 1032

    /// The member's bytes: a view of the mapping when stored (zero-copy), an inflated copy when
    /// deflated. Deflated data is always checked against its CRC-32; stored data only on request.
    /// A deflated member is refused before anything is allocated when it declares more than `limit`
    /// bytes, and only its first `keeping` bytes are kept in memory (the rest is inflated through a
    /// small buffer, for the checksum): the memory spent follows what the caller needs, never what
    /// the archive declares. The region returned holds `min(keeping, size)` bytes.
    public func contents(of entry: ZipEntry, verifyChecksum: Bool = false, limit: Int = .max, keeping: Int = .max)
        throws -> ByteRegion
    {
        guard let raw = file.region.subregion(entry.dataOffset, entry.compressedSize) else {
            throw CheckpointError.truncated(path: path, detail: "entry \(entry.name) ends past the end of the file")
        }
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.uncompressedSize else {
                throw CheckpointError.corruptEntry(
                    path: path, entry: entry.name,
                    detail:
                        "stored entry has compressed size \(entry.compressedSize) but size \(entry.uncompressedSize)")
            }
            if verifyChecksum { try check(ZipArchive.crc32(raw.bytes), of: entry) }
            return raw.subregion(0, min(keeping, raw.count))!
        case 8:
            guard entry.uncompressedSize <= limit else {
                throw CheckpointError.corruptEntry(
                    path: path, entry: entry.name,
                    detail: "declares \(entry.uncompressedSize) bytes uncompressed, more than the \(limit) it can hold")
            }
            let (ceiling, overflow) = entry.compressedSize.multipliedReportingOverflow(by: Self.maximumDeflateRatio)
            guard overflow || entry.uncompressedSize <= ceiling + 64 else {
                throw CheckpointError.corruptEntry(
                    path: path, entry: entry.name,
                    detail:
                        "declares \(entry.uncompressedSize) bytes from \(entry.compressedSize) deflated ones, more "
                        + "than deflate can expand to"
                )
            }
            return try inflate(raw, entry: entry, keeping: min(max(keeping, 0), entry.uncompressedSize))
        default:
            throw CheckpointError.corruptEntry(
                path: path, entry: entry.name,
                detail: "compression method \(entry.method) is not supported (only stored and deflated)")
        }
    }

    /// Contents of the member called `name`, or nil when there is none.
    public func contents(named name: String, verifyChecksum: Bool = false, limit: Int = .max) throws -> ByteRegion? {
        guard let entry = entry(named: name) else { return nil }
        return try contents(of: entry, verifyChecksum: verifyChecksum, limit: limit)
    }

    private func check(_ crc: UInt32, of entry: ZipEntry) throws {
        guard crc == entry.crc32 else {
            throw CheckpointError.corruptEntry(
                path: path, entry: entry.name,
                detail: "CRC-32 is \(hex(crc)), the archive says \(hex(entry.crc32))")
        }
    }

    // MARK: - Central directory

    private static let localSignature: UInt32 = 0x0403_4b50
    private static let centralSignature: UInt32 = 0x0201_4b50
    private static let endSignature: UInt32 = 0x0605_4b50
    private static let zip64EndSignature: UInt32 = 0x0606_4b50
    private static let zip64LocatorSignature: UInt32 = 0x0706_4b50

    private static func readCentralDirectory(_ file: MappedFile) throws -> [ZipEntry] {
        let r = file.region
        let path = file.path
        func corrupt(_ detail: String) -> CheckpointError { .corruptArchive(path: path, detail: detail) }

        // The end record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
        var endOffset = -1
        if r.count >= 22 {
            var p = r.count - 22
            let lowest = max(0, r.count - 22 - 0xFFFF)
            while p >= lowest {
                if r.u32(p) == endSignature && p + 22 + Int(r.u16(p + 20)) == r.count {
                    endOffset = p
                    break
                }
                p -= 1
            }
        }
        guard endOffset >= 0 else {
            throw CheckpointError.truncated(
                path: path, detail: "the zip end-of-central-directory record is missing (\(r.count) bytes)")
        }
        var entryCount = Int(r.u16(endOffset + 10))
        var directorySize = Int(r.u32(endOffset + 12))
        var directoryOffset = Int(r.u32(endOffset + 16))
        var directoryLimit = endOffset  // the central directory ends before this offset

        // zip64: a locator sits right before the end record and points at the zip64 end record.
        if endOffset >= 20 && r.u32(endOffset - 20) == zip64LocatorSignature {
            let recordOffset64 = r.u64(endOffset - 20 + 8)
            guard recordOffset64 <= UInt64(endOffset - 20), r.contains(Int(recordOffset64), 56),
                r.u32(Int(recordOffset64)) == zip64EndSignature
            else {
                throw corrupt(
                    "the zip64 end-of-central-directory locator points at \(recordOffset64), where there is no zip64 "
                        + "end record"
                )
            }
            let record = Int(recordOffset64)
            let count64 = r.u64(record + 32)
            let size64 = r.u64(record + 40)
            let offset64 = r.u64(record + 48)
            guard count64 <= UInt64(r.count), size64 <= UInt64(r.count), offset64 <= UInt64(r.count) else {
                throw corrupt(
                    "the zip64 end record claims \(count64) entries, \(size64) directory bytes at \(offset64), more "
                        + "than the file's \(r.count) bytes"
                )
            }
            entryCount = Int(count64)
            directorySize = Int(size64)
            directoryOffset = Int(offset64)
            directoryLimit = record
        } else if entryCount == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            throw corrupt("the end record asks for zip64 fields but there is no zip64 locator")
        }
        guard directoryOffset <= directoryLimit, directorySize <= directoryLimit - directoryOffset else {
            throw corrupt(
                "the central directory (\(directorySize) bytes at \(directoryOffset)) does not fit before the end "
                    + "record at \(directoryLimit)"
            )
        }
        guard entryCount <= directorySize / 46 + 1 else {
            throw corrupt(
                "the end record claims \(entryCount) entries, more than a \(directorySize)-byte central directory holds"
            )
        }

        var entries: [ZipEntry] = []
        entries.reserveCapacity(entryCount)
        let directoryEnd = directoryOffset + directorySize
        var p = directoryOffset
        for i in 0..<entryCount {
            guard p + 46 <= directoryEnd, r.u32(p) == centralSignature else {
                throw corrupt(
                    "central directory record \(i) at offset \(p) is damaged (bad signature or past the directory end)")
            }
            let flags = r.u16(p + 8)
            let method = r.u16(p + 10)
            let crc = r.u32(p + 16)
            var compressed = UInt64(r.u32(p + 20))
            var uncompressed = UInt64(r.u32(p + 24))
            let nameLength = Int(r.u16(p + 28))
            let extraLength = Int(r.u16(p + 30))
            let commentLength = Int(r.u16(p + 32))
            var localOffset = UInt64(r.u32(p + 42))
            let recordEnd = p + 46 + nameLength + extraLength + commentLength
            guard recordEnd <= directoryEnd else {
                throw corrupt("central directory record \(i) runs past the end of the directory")
            }
            let name = r.string(p + 46, nameLength)
            // zip64 extended information (id 1): only the fields whose 32-bit value is all ones, in this order.
            var e = p + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = r.u16(e)
                let size = Int(r.u16(e + 2))
                guard e + 4 + size <= extraEnd else { throw corrupt("entry \(name): extra field runs past its record") }
                if id == 1 {
                    var f = e + 4
                    func next() throws -> UInt64 {
                        guard f + 8 <= e + 4 + size else {
                            throw corrupt("entry \(name): zip64 extra field is too short")
                        }
                        defer { f += 8 }
                        return r.u64(f)
                    }
                    if uncompressed == 0xFFFF_FFFF { uncompressed = try next() }
                    if compressed == 0xFFFF_FFFF { compressed = try next() }
                    if localOffset == 0xFFFF_FFFF { localOffset = try next() }
                }
                e += 4 + size
            }
            guard compressed <= UInt64(r.count), uncompressed < (1 << 48), localOffset < UInt64(directoryOffset) else {
                throw corrupt(
                    "entry \(name): local header at \(localOffset) with \(compressed) bytes lies outside the archive's "
                        + "data (before offset \(directoryOffset))"
                )
            }
            // The local header repeats the name; its extra field may differ from the central one.
            let local = Int(localOffset)
            guard local + 30 <= directoryOffset, r.u32(local) == localSignature else {
                throw corrupt("entry \(name): no local header at offset \(local)")
            }
            let localNameLength = Int(r.u16(local + 26))
            let localExtraLength = Int(r.u16(local + 28))
            let dataOffset = local + 30 + localNameLength + localExtraLength
            guard localNameLength == nameLength, dataOffset <= directoryOffset,
                r.string(local + 30, localNameLength) == name
            else {
                throw corrupt("entry \(name): the local header at offset \(local) names another member")
            }
            guard Int(compressed) <= directoryOffset - dataOffset else {
                throw corrupt(
                    "entry \(name): \(compressed) bytes of data at \(dataOffset) overlap the central directory at "
                        + "\(directoryOffset)"
                )
            }
            entries.append(
                ZipEntry(
                    name: name, method: method, flags: flags, crc32: crc,
                    compressedSize: Int(compressed), uncompressedSize: Int(uncompressed),
                    localHeaderOffset: local, dataOffset: dataOffset))
            p = recordEnd
        }
        return entries
    }

    // MARK: - zlib

    /// Inflates the member's whole stream, keeping its first `keeping` bytes; checks the size and the
    /// CRC-32 of everything it inflated against the archive's.
    private func inflate(_ input: ByteRegion, entry: ZipEntry, keeping: Int) throws -> ByteRegion {
        let path = self.path
        func fail(_ detail: String) -> CheckpointError { .corruptEntry(path: path, entry: entry.name, detail: detail) }
        return try ByteRegion(allocatingCount: keeping) { kept in
            var stream = z_stream()
            // Raw deflate (negative window bits): zip members carry no zlib header.
            guard inflateInit2_(&stream, -MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                throw fail("zlib failed to initialise")
            }
            defer { inflateEnd(&stream) }
            let scratchSize = 1 << 16
            let scratch = UnsafeMutablePointer<Bytef>.allocate(capacity: scratchSize)
            defer { scratch.deallocate() }
            let keptBase = kept.baseAddress?.assumingMemoryBound(to: Bytef.self)
            let inBase = UnsafeMutableRawPointer(mutating: input.base).assumingMemoryBound(to: Bytef.self)
            let chunk = Int(UInt32.max)
            var inOffset = 0
            var produced = 0
            var crc = crc32_z(0, nil, 0)
            var status = Z_OK
            repeat {
                if stream.avail_in == 0 {
                    let n = min(chunk, input.count - inOffset)
                    stream.next_in = inBase + inOffset
                    stream.avail_in = uInt(n)
                    inOffset += n
                }
                // Kept bytes go to their place; the rest (and one byte past the declared size, which
                // would reveal a stream longer than declared) through the scratch buffer.
                let target: UnsafeMutablePointer<Bytef>
                let room: Int
                if produced < keeping, let keptBase {
                    target = keptBase + produced
                    room = min(chunk, keeping - produced)
                } else {
                    target = scratch
                    room = min(scratchSize, max(entry.uncompressedSize - produced, 1))
                }
                stream.next_out = target
                stream.avail_out = uInt(room)
                status = CZlib.inflate(&stream, Z_NO_FLUSH)
                let n = room - Int(stream.avail_out)
                crc = crc32_z(crc, target, z_size_t(n))
                produced += n
                if produced > entry.uncompressedSize {
                    throw fail("inflates to more than the declared \(entry.uncompressedSize) bytes")
                }
                if status == Z_BUF_ERROR && stream.avail_in == 0 && inOffset == input.count {
                    throw fail("deflate stream ends early")
                }
                guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                    throw fail("cannot inflate: " + (stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"))
                }
            } while status != Z_STREAM_END
            guard produced == entry.uncompressedSize else {
                throw fail("inflates to \(produced) bytes, the archive says \(entry.uncompressedSize)")
            }
            try check(UInt32(crc), of: entry)
        }
    }

    /// CRC-32 (the zip polynomial) of some bytes.
    public static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return 0 }
        return UInt32(crc32_z(0, base.assumingMemoryBound(to: Bytef.self), z_size_t(bytes.count)))
    }
}

private func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }
