// MappedFile: a checkpoint file memory-mapped read-only-by-intent (private, copy-on-write pages),
// and ByteRegion, a bounds-checked window of bytes that keeps its memory (mapped or allocated) alive.
// The zip and safetensors readers hand out regions of the mapping, so stored data is never copied.

import Foundation
import SAM2Tensor

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A whole file mapped into memory. Pages are mapped private and writable so that a tensor viewing
/// them can never crash on a stray write; such a write stays in this process and never reaches the file.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let base: UnsafeRawPointer
    public let count: Int
    private let mapping: UnsafeMutableRawPointer?
    private let placeholder: UnsafeMutableRawPointer?

    public init(url: URL) throws {
        path = url.path
        // Non-blocking, so that a FIFO (which would wait for a writer) is refused below instead of hanging.
        let fd = open(path, O_RDONLY | O_NONBLOCK)
        if fd < 0 {
            throw CheckpointError.missingFile(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw CheckpointError.missingFile(path: path, reason: String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw CheckpointError.missingFile(path: path, reason: "not a regular file")
        }
        count = Int(info.st_size)
        if count == 0 {
            // mmap refuses empty lengths; an empty file is still a valid (useless) input.
            mapping = nil
            placeholder = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 64)
            base = UnsafeRawPointer(placeholder!)
            return
        }
        let address = mmap(nil, count, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
        guard let address, address != MAP_FAILED else {
            throw CheckpointError.missingFile(
                path: path, reason: "cannot memory-map: \(String(cString: strerror(errno)))")
        }
        mapping = address
        placeholder = nil
        base = UnsafeRawPointer(address)
    }

    deinit {
        if let mapping { munmap(mapping, count) }
        placeholder?.deallocate()
    }

    /// The whole file as a region.
    public var region: ByteRegion { ByteRegion(base: base, count: count, owner: self) }

    /// Hands the resident pages lying wholly inside `start ..< start + length` back to the kernel.
    /// The mapping stays valid: a later read faults the file's bytes in again (a page written
    /// through the private mapping would lose that write, but nothing writes a checkpoint's tensors).
    func releasePages(_ start: UnsafeRawPointer, _ length: Int) {
        guard let mapping, length > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let (first, end) = (Int(bitPattern: mapping), Int(bitPattern: mapping) + count)
        let lower = max(first, (Int(bitPattern: start) + page - 1) / page * page)
        let upper = min(end, (Int(bitPattern: start) + length) / page * page)
        guard upper > lower else { return }
        _ = madvise(UnsafeMutableRawPointer(bitPattern: lower), upper - lower, Int32(MADV_DONTNEED))
    }

    /// Releases the file pages of a tensor that views this process's checkpoint mapping (one whose
    /// values have been converted and are no longer read); any other tensor is left alone.
    public static func releasePages(of tensor: Tensor) {
        guard let region = tensor.storage.lender as? ByteRegion, let file = region.keeper as? MappedFile else {
            return
        }
        file.releasePages(UnsafeRawPointer(tensor.storage.pointer), tensor.storage.count * MemoryLayout<Float>.stride)
    }
}

/// A range of bytes kept valid by `owner` (a MappedFile) or by itself (an allocation it frees).
public final class ByteRegion: @unchecked Sendable {
    public let base: UnsafeRawPointer
    public let count: Int
    private let owner: AnyObject?
    private let allocated: UnsafeMutableRawPointer?

    /// A view of memory owned by `owner`.
    public init(base: UnsafeRawPointer, count: Int, owner: AnyObject) {
        self.base = base
        self.count = count
        self.owner = owner
        self.allocated = nil
    }

    /// Fresh memory of `count` bytes (64-byte aligned) that `fill` initialises.
    public init(allocatingCount count: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
        do {
            try fill(UnsafeMutableRawBufferPointer(start: memory, count: count))
        } catch {
            memory.deallocate()
            throw error
        }
        self.base = UnsafeRawPointer(memory)
        self.count = count
        self.owner = nil
        self.allocated = memory
    }

    deinit { allocated?.deallocate() }

    /// The object that keeps `base` valid (for zero-copy tensors viewing this region).
    var keeper: AnyObject { owner ?? self }

    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Bytes `offset ..< offset + length`, or nil when that range is not inside the region.
    public func subregion(_ offset: Int, _ length: Int) -> ByteRegion? {
        guard offset >= 0, length >= 0, offset <= count, length <= count - offset else { return nil }
        return ByteRegion(base: base + offset, count: length, owner: keeper)
    }

    public func contains(_ offset: Int, _ length: Int) -> Bool {
        offset >= 0 && length >= 0 && offset <= count && length <= count - offset
    }

    // Little-endian readers; callers check the range first with `contains`.
    @inline(__always) func u8(_ at: Int) -> UInt8 { base.load(fromByteOffset: at, as: UInt8.self) }
    @inline(__always) func u16(_ at: Int) -> UInt16 {
        UInt16(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt16.self))
    }
    @inline(__always) func u32(_ at: Int) -> UInt32 {
        UInt32(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt32.self))
    }
    @inline(__always) func u64(_ at: Int) -> UInt64 {
        UInt64(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt64.self))
    }

    /// UTF-8 text of a range (lossy on invalid bytes); the range must be inside the region.
    func string(_ offset: Int, _ length: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(start: base + offset, count: length), as: UTF8.self)
    }
}
