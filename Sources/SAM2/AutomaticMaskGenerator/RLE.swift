// Run-length encodings of binary masks (reference: sam2/utils/amg.py mask_to_rle_pytorch,
// rle_to_mask, area_from_rle, coco_encode_rle — the last one is pycocotools' rleToString / rleFrString).

/// A mask as uncompressed RLE in column-major (Fortran) order: `counts` alternate runs of 0 and 1,
/// starting with 0 (a mask whose first pixel is set starts with a zero-length run).
public struct UncompressedRLE: Sendable, Equatable {
    public var height: Int
    public var width: Int
    public var counts: [Int]

    public init(height: Int, width: Int, counts: [Int]) {
        self.height = height
        self.width = width
        self.counts = counts
    }

    /// The encoding of a row-major mask (`height·width` values, nonzero = inside).
    public init(mask: [UInt8], height: Int, width: Int) {
        precondition(mask.count == height * width, "RLE: \(mask.count) values for \(height)×\(width)")
        let counts = mask.withUnsafeBufferPointer { Self.columnRuns($0, height: height, width: width) { $0 != 0 } }
        self.init(height: height, width: width, counts: counts)
    }

    /// The encoding of a row-major plane of values (`height·width`), inside where a value exceeds `threshold`.
    public init(plane: UnsafeBufferPointer<Float>, height: Int, width: Int, threshold: Float) {
        precondition(plane.count == height * width, "RLE: \(plane.count) values for \(height)×\(width)")
        self.init(
            height: height, width: width,
            counts: Self.columnRuns(plane, height: height, width: width) { $0 > threshold })
    }

    /// Runs in column-major order of a row-major plane. Columns are taken 16 at a time: their rows
    /// are read contiguously into a column-major scratch block, which is then scanned in order.
    @inline(__always)
    private static func columnRuns<T>(
        _ values: UnsafeBufferPointer<T>, height: Int, width: Int,
        isInside: (T) -> Bool
    ) -> [Int] {
        let block = 16
        let scratch = UnsafeMutablePointer<Bool>.allocate(capacity: block * Swift.max(height, 1))
        defer { scratch.deallocate() }
        var counts: [Int] = []
        var runStart = 0  // column-major index where the current run began
        var inside = false
        for x0 in stride(from: 0, to: width, by: block) {
            let columns = Swift.min(block, width - x0)
            if columns == block {  // a fixed trip count the compiler unrolls
                for y in 0..<height {
                    let row = values.baseAddress! + y * width + x0
                    for j in 0..<block { scratch[j * height + y] = isInside(row[j]) }
                }
            } else {
                for y in 0..<height {
                    let row = values.baseAddress! + y * width + x0
                    for j in 0..<columns { scratch[j * height + y] = isInside(row[j]) }
                }
            }
            let base = x0 * height
            for i in 0..<(columns * height) where scratch[i] != inside {
                counts.append(base + i - runStart)
                runStart = base + i
                inside.toggle()
            }
        }
        counts.append(width * height - runStart)
        return counts
    }

    /// Number of pixels inside (the sum of the odd-indexed runs).
    public var area: Int { stride(from: 1, to: counts.count, by: 2).reduce(0) { $0 + counts[$1] } }

    /// x, y, width, height of the pixels inside, with width = last column − first column (as
    /// `MaskRendering.boundingBox`), found from the runs alone; nil when the mask is empty.
    public var boundingBox: (x: Int, y: Int, width: Int, height: Int)? {
        guard height > 0 else { return nil }
        var x0 = Int.max
        var y0 = Int.max
        var x1 = -1
        var y1 = -1
        var index = 0
        for (k, run) in counts.enumerated() {
            if k % 2 == 1 && run > 0 {
                let (first, last) = (index, index + run - 1)
                let (c0, c1) = (first / height, last / height)
                x0 = Swift.min(x0, c0)
                x1 = Swift.max(x1, c1)
                y0 = Swift.min(y0, c1 > c0 ? 0 : first % height)
                y1 = Swift.max(y1, c1 > c0 ? height - 1 : last % height)
            }
            index += run
        }
        return x1 < 0 ? nil : (x0, y0, x1 - x0, y1 - y0)
    }

    /// The row-major mask (1 inside, 0 outside).
    public func mask() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: height * width)
        var index = 0
        for (k, run) in counts.enumerated() {
            if k % 2 == 1 {
                for i in index..<(index + run) { out[(i % height) * width + i / height] = 1 }
            }
            index += run
        }
        return out
    }

    /// The COCO compressed string, byte for byte as pycocotools encodes these counts: each count (from
    /// the fourth on, its difference from the count two before) in 5-bit groups, least significant
    /// first, each group + 48 as a character, bit 0x20 set while more groups follow.
    public var cocoString: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(counts.count * 2)
        for i in counts.indices {
            var x = counts[i]
            if i > 2 { x -= counts[i - 2] }
            var more = true
            while more {
                var c = UInt8(truncatingIfNeeded: x & 0x1f)
                x >>= 5  // arithmetic shift: negative differences end at −1
                more = (c & 0x10) != 0 ? x != -1 : x != 0
                if more { c |= 0x20 }
                bytes.append(c + 48)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Decodes a COCO compressed string (pycocotools' rleFrString); nil when it is malformed.
    public init?(cocoString: String, height: Int, width: Int) {
        let bytes = Array(cocoString.utf8)
        var counts: [Int] = []
        var p = 0
        while p < bytes.count {
            var x = 0
            var k = 0
            var more = true
            while more {
                guard p < bytes.count, bytes[p] >= 48, k < 60 else { return nil }
                let c = Int(bytes[p]) - 48
                x |= (c & 0x1f) << (5 * k)
                more = c & 0x20 != 0
                p += 1
                k += 1
                if !more && c & 0x10 != 0 { x |= -1 << (5 * k) }
            }
            if counts.count > 2 { x += counts[counts.count - 2] }
            guard x >= 0 else { return nil }
            counts.append(x)
        }
        guard counts.reduce(0, +) == height * width else { return nil }
        self.init(height: height, width: width, counts: counts)
    }
}
