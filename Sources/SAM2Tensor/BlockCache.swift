// BlockCache: keeps large tensor allocations for reuse. A network's activations recur with the same
// sizes block after block, and a fresh large allocation is a new memory mapping that costs a page
// fault and a zeroed page per 4 KiB on first touch. Blocks of 1 MiB and more are rounded up to
// 64 KiB, kept by size after their tensor dies (at most `limit` bytes in all) and handed out again.

import Synchronization

enum BlockCache {
    /// Smaller allocations go straight to malloc, which recycles them well.
    static let minimumBytes = 1 << 20
    /// Bytes kept at most; a block that would exceed it is freed.
    static let limit = 192 << 20
    private static let granule = 1 << 16
    private static let alignment = 64

    private struct Free: ~Copyable {
        var blocks: [Int: [UInt]] = [:]  // capacity → addresses
        var bytes = 0
    }
    private static let free = Mutex(Free())

    /// Bytes actually reserved for a request of `bytes`.
    static func capacity(_ bytes: Int) -> Int {
        bytes < minimumBytes ? bytes : (bytes + granule - 1) / granule * granule
    }

    /// Whether glibc's malloc has been told to keep freed memory, done once before the first block.
    /// By default it returns freed blocks of 128 KiB and more to the system at once (munmap, heap
    /// trimming), and each reuse faults every page in again, zeroed: about 125,000 page faults
    /// (500 MB) per tiny `set_image`, a fifth of its CPU time. Below 256 MiB blocks come from the
    /// heap, and up to 512 MiB of free heap is kept (peak RSS grows by about 15%). It is
    /// process-wide, as GLIBC_TUNABLES would set it.
    private static let mallocKeepsFreedMemory: Bool = {
        mallopt(-3, 256 << 20)  // M_MMAP_THRESHOLD
        mallopt(-1, 512 << 20)  // M_TRIM_THRESHOLD
        return true
    }()

    /// 64-byte aligned memory for `bytes` (a cached block of the same capacity when there is one).
    static func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
        _ = mallocKeepsFreedMemory
        let size = capacity(bytes)
        if size >= minimumBytes,
            let address = free.withLock({ state -> UInt? in
                guard let address = state.blocks[size]?.popLast() else { return nil }
                state.bytes -= size
                return address
            })
        {
            return UnsafeMutableRawPointer(bitPattern: address)!
        }
        return UnsafeMutableRawPointer.allocate(byteCount: size, alignment: alignment)
    }

    /// Returns memory from `allocate(bytes)`.
    static func deallocate(_ block: UnsafeMutableRawPointer, _ bytes: Int) {
        let size = capacity(bytes)
        let address = UInt(bitPattern: block)
        let kept =
            size >= minimumBytes
            && free.withLock { state -> Bool in
                guard state.bytes + size <= limit else { return false }
                state.blocks[size, default: []].append(address)
                state.bytes += size
                return true
            }
        if !kept { block.deallocate() }
    }
}

/// glibc's mallopt(3), which the Glibc module does not import (it lives in malloc.h).
@_silgen_name("mallopt")
@discardableResult
private func mallopt(_ parameter: Int32, _ value: Int32) -> Int32
