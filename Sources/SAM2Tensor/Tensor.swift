// Tensor: a dense float32 array in row-major (C) order with an explicit shape.
// Storage is shared between copies and copied on write; it may also view memory owned by
// someone else (a memory-mapped checkpoint), which is then kept alive by the storage.

import Foundation

/// The memory behind a tensor: either allocated here (64-byte aligned, large blocks recycled by
/// BlockCache) or borrowed from an owner.
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    private let owner: AnyObject?

    /// Fresh, uninitialised storage for `count` floats.
    public init(uninitializedCount count: Int) {
        let raw = BlockCache.allocate(max(count, 1) * MemoryLayout<Float>.stride)
        self.pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
        self.owner = nil
    }

    /// Storage that views `count` floats at `pointer`, kept valid by `owner` (never freed here).
    public init(borrowing pointer: UnsafeMutablePointer<Float>, count: Int, owner: AnyObject) {
        self.pointer = pointer
        self.count = count
        self.owner = owner
    }

    /// True when the memory belongs to someone else (it is never written through a tensor).
    public var isBorrowed: Bool { owner != nil }

    /// The object that keeps borrowed memory valid (nil for memory allocated here).
    public var lender: AnyObject? { owner }

    deinit {
        if owner == nil {
            BlockCache.deallocate(UnsafeMutableRawPointer(pointer), max(count, 1) * MemoryLayout<Float>.stride)
        }
    }
}

public struct Tensor: Sendable {
    public private(set) var shape: [Int]
    public private(set) var storage: TensorStorage

    /// Number of elements of a shape.
    @inlinable public static func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// Uninitialised tensor; every element must be written before it is read.
    public init(uninitializedShape shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.storage = TensorStorage(uninitializedCount: Tensor.elementCount(shape))
    }

    public init(shape: [Int], repeating value: Float = 0) {
        self.init(uninitializedShape: shape)
        storage.pointer.update(repeating: value, count: storage.count)
    }

    public init(shape: [Int], scalars: [Float]) {
        precondition(
            Tensor.elementCount(shape) == scalars.count,
            "shape \(shape) needs \(Tensor.elementCount(shape)) values, got \(scalars.count)")
        self.init(uninitializedShape: shape)
        scalars.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: $0.count) }
    }

    /// A tensor over existing storage (no copy); the storage must hold exactly the shape's elements.
    public init(shape: [Int], storage: TensorStorage) {
        precondition(
            Tensor.elementCount(shape) == storage.count, "shape \(shape) does not match storage of \(storage.count)")
        self.shape = shape
        self.storage = storage
    }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }

    public var count: Int { storage.count }
    public var rank: Int { shape.count }
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }

    /// Size of dimension `axis`; negative axes count from the end.
    public func dim(_ axis: Int) -> Int { shape[axis < 0 ? axis + rank : axis] }

    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// Mutable access; copies the storage first if it is shared or borrowed.
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R)
        rethrows -> R
    {
        if !isKnownUniquelyReferenced(&storage) || storage.isBorrowed {
            let fresh = TensorStorage(uninitializedCount: count)
            fresh.pointer.update(from: storage.pointer, count: count)
            storage = fresh
        }
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// Same elements, another shape (no copy). One dimension may be -1.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != inferred }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)")
            resolved[inferred] = count / known
        }
        precondition(Tensor.elementCount(resolved) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor(shape: resolved, storage: storage)
    }

    /// Dimensions reordered: result dimension i is source dimension `order[i]` (a copy).
    public func permuted(_ order: [Int]) -> Tensor {
        precondition(order.sorted() == Array(0..<rank), "bad permutation \(order) for rank \(rank)")
        if order == Array(0..<rank) { return self }
        let outShape = order.map { shape[$0] }
        if let split = (0..<rank).first(where: { order[$0] != $0 }),
            let turn = order[split...].firstIndex(where: { $0 == split }),
            order[split..<turn].elementsEqual(order[split]..<rank), order[turn...].elementsEqual(split..<order[split])
        {
            // Leading axes kept and the trailing ones rotated: a batch of 2-D transposes.
            let batch = shape[..<split].reduce(1, *)
            let rows = shape[split..<order[split]].reduce(1, *)
            let cols = shape[order[split]...].reduce(1, *)
            let out = Tensor(uninitializedShape: outShape)
            transpose2D(storage.pointer, out.storage.pointer, batch: batch, rows: rows, cols: cols)
            return out
        }
        var srcStrides = [Int](repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) {
            srcStrides[axis] = srcStrides[axis + 1] * shape[axis + 1]
        }
        let strides = order.map { srcStrides[$0] }
        let out = Tensor(uninitializedShape: outShape)
        let src = storage.pointer
        let dst = out.storage.pointer
        // Copy whole runs of the innermost dimension; index the rest with a counter.
        let inner = outShape.last ?? 1
        let innerStride = strides.last ?? 1
        let outer = inner == 0 ? 0 : count / inner
        var index = [Int](repeating: 0, count: max(rank - 1, 0))
        var srcOffset = 0
        for row in 0..<outer {
            let base = dst + row * inner
            if innerStride == 1 {
                base.update(from: src + srcOffset, count: inner)
            } else {
                for i in 0..<inner { base[i] = src[srcOffset + i * innerStride] }
            }
            var axis = rank - 2
            while axis >= 0 {
                index[axis] += 1
                srcOffset += strides[axis]
                if index[axis] < outShape[axis] { break }
                srcOffset -= strides[axis] * outShape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return out
    }

    /// out[b, c, r] = x[b, r, c] for `batch` matrices of rows × cols, in 32×32 tiles over Parallel.
    private func transpose2D(
        _ x: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>, batch: Int, rows: Int, cols: Int
    ) {
        let tile = 32
        let (rowTiles, colTiles) = ((rows + tile - 1) / tile, (cols + tile - 1) / tile)
        nonisolated(unsafe) let (src, dst) = (x, out)
        Parallel.forEachChunk(batch * rowTiles, minimumChunk: max(1, 2048 / max(cols, 1))) { items in
            for item in items {
                let (b, r0) = (item / rowTiles, (item % rowTiles) * tile)
                let r1 = min(rows, r0 + tile)
                let input = src + b * rows * cols
                let output = dst + b * rows * cols
                for t in 0..<colTiles {
                    let c0 = t * tile
                    let c1 = min(cols, c0 + tile)
                    for c in c0..<c1 {
                        let o = output + c * rows
                        for r in r0..<r1 { o[r] = input[r * cols + c] }
                    }
                }
            }
        }
    }

    /// Elements `range` along `axis` (a copy, or this tensor when the range is the whole axis).
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let axis = axis < 0 ? axis + rank : axis
        precondition(
            range.lowerBound >= 0 && range.upperBound <= shape[axis], "slice \(range) out of \(shape) on axis \(axis)")
        if range.count == shape[axis] { return self }
        var outShape = shape
        outShape[axis] = range.count
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        let out = Tensor(uninitializedShape: outShape)
        let src = storage.pointer
        let dst = out.storage.pointer
        let run = range.count * inner
        for o in 0..<outer {
            (dst + o * run).update(from: src + (o * shape[axis] + range.lowerBound) * inner, count: run)
        }
        return out
    }

    /// Tensors joined along `axis`; all other dimensions must agree.
    public static func concatenate(_ parts: [Tensor], axis: Int) -> Tensor {
        precondition(!parts.isEmpty, "concatenate needs at least one tensor")
        let rank = parts[0].rank
        let axis = axis < 0 ? axis + rank : axis
        var outShape = parts[0].shape
        outShape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
        for p in parts {
            precondition(
                p.rank == rank && (0..<rank).allSatisfy { $0 == axis || p.shape[$0] == outShape[$0] },
                "cannot concatenate \(p.shape) with \(parts[0].shape) on axis \(axis)")
        }
        let outer = outShape[..<axis].reduce(1, *)
        let inner = outShape[(axis + 1)...].reduce(1, *)
        let out = Tensor(uninitializedShape: outShape)
        let dst = out.storage.pointer
        var offset = 0
        for o in 0..<outer {
            for p in parts {
                let run = p.shape[axis] * inner
                (dst + offset).update(from: p.storage.pointer + o * run, count: run)
                offset += run
            }
        }
        return out
    }
}

extension Tensor {
    /// Each slice along `axis` (which must have size 1) repeated `count` times (`repeat_interleave`
    /// of a size-1 axis, `expand` + `contiguous`).
    public func repeated(_ count: Int, axis: Int) -> Tensor {
        let axis = axis < 0 ? axis + rank : axis
        precondition(shape[axis] == 1, "repeated expects size 1 on axis \(axis) of \(shape)")
        return Tensor.concatenate(Array(repeating: self, count: count), axis: axis)
    }

    /// This tensor with `axis` of size `size`: itself when it has it already, else its size-1 axis
    /// repeated (a batch of one shared by a batch of `size`).
    public func expanded(to size: Int, axis: Int) -> Tensor {
        let axis = axis < 0 ? axis + rank : axis
        return shape[axis] == size ? self : repeated(size, axis: axis)
    }
}

/// Python's floor division `a // b` (rounds toward −∞, unlike Swift's `/`), which the reference's
/// index arithmetic uses.
public func floorDivide(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}
