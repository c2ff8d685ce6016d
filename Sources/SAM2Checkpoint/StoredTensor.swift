// StoredTensor: one tensor as a checkpoint stores it (element type, shape, strides, offset into a
// byte region) and its conversion to a contiguous float32 `Tensor`. Shared by the torch reader
// (storages + _rebuild_tensor_v2 strides) and the safetensors reader (always contiguous).

import Foundation
import SAM2Tensor

/// Element types a checkpoint may store; all convert to float32.
public enum StoredDType: String, Sendable, CaseIterable, Comparable {
    case float32, float16, bfloat16, float64, int64, int32, int16, int8, uint8, bool

    public var byteSize: Int {
        switch self {
        case .float64, .int64: 8
        case .float32, .int32: 4
        case .float16, .bfloat16, .int16: 2
        case .int8, .uint8, .bool: 1
        }
    }

    /// The dtype of a torch storage class (`torch.FloatStorage`, …).
    public init?(torchStorage name: String) {
        switch name {
        case "FloatStorage": self = .float32
        case "HalfStorage": self = .float16
        case "BFloat16Storage": self = .bfloat16
        case "DoubleStorage": self = .float64
        case "LongStorage": self = .int64
        case "IntStorage": self = .int32
        case "ShortStorage": self = .int16
        case "CharStorage": self = .int8
        case "ByteStorage": self = .uint8
        case "BoolStorage": self = .bool
        default: return nil
        }
    }

    /// The dtype of a safetensors header string (`F32`, …).
    public init?(safetensors name: String) {
        switch name {
        case "F32": self = .float32
        case "F16": self = .float16
        case "BF16": self = .bfloat16
        case "F64": self = .float64
        case "I64": self = .int64
        case "I32": self = .int32
        case "I16": self = .int16
        case "I8": self = .int8
        case "U8": self = .uint8
        case "BOOL": self = .bool
        default: return nil
        }
    }

    public static func < (a: StoredDType, b: StoredDType) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// What a checkpoint says about one tensor, without reading its values.
public struct TensorInfo: Sendable, Equatable {
    public let dtype: StoredDType
    public let shape: [Int]
    /// Number of elements (the readers refuse shapes whose product overflows).
    public var count: Int { shape.reduce(1, *) }

    public init(dtype: StoredDType, shape: [Int]) {
        self.dtype = dtype
        self.shape = shape
    }
}

/// A tensor inside a byte region: `shape` elements of `dtype`, element (i, j, …) at element offset
/// `offset + i*strides[0] + j*strides[1] + …` from the region's start.
struct StoredTensor: Sendable {
    let info: TensorInfo
    let strides: [Int]
    let offset: Int

    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var step = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = step
            step *= shape[axis]
        }
        return strides
    }

    var isContiguous: Bool {
        var step = 1
        for axis in stride(from: info.shape.count - 1, through: 0, by: -1) where info.shape[axis] != 1 {
            if strides[axis] != step { return false }
            step *= info.shape[axis]
        }
        return true
    }

    /// Elements of storage the tensor reaches (0 when it has no elements); nil when the sizes, strides
    /// and offset (read from a file) overflow.
    var extent: Int? {
        if info.shape.contains(0) { return 0 }
        var last = offset
        for (size, stride) in zip(info.shape, strides) {
            let (step, overflow) = (size - 1).multipliedReportingOverflow(by: stride)
            guard !overflow, size > 0, stride >= 0 else { return nil }
            let (sum, carry) = last.addingReportingOverflow(step)
            guard !carry else { return nil }
            last = sum
        }
        let (extent, overflow) = last.addingReportingOverflow(1)
        return overflow ? nil : extent
    }

    /// A contiguous float32 tensor with the values. Float32 contiguous data that is 4-byte aligned
    /// is viewed in place (no copy); everything else is converted into fresh storage.
    func materialize(from region: ByteRegion) -> Tensor {
        let shape = info.shape
        let count = info.count
        let size = info.dtype.byteSize
        precondition(
            extent.map { $0 <= region.count / size } ?? false,
            "stored tensor reaches past its region (checked by the readers)")
        let start = region.base + offset * size
        if count == 0 { return Tensor(uninitializedShape: shape) }
        if info.dtype == .float32 && isContiguous && Int(bitPattern: start) % MemoryLayout<Float>.alignment == 0 {
            let pointer = UnsafeMutablePointer(mutating: start.assumingMemoryBound(to: Float.self))
            return Tensor(shape: shape, storage: TensorStorage(borrowing: pointer, count: count, owner: region))
        }
        let out = Tensor(uninitializedShape: shape)
        let dst = out.storage.pointer
        switch info.dtype {
        case .float32: gather(start, Float.self, into: dst) { $0 }
        case .float16: gather(start, UInt16.self, into: dst) { Float(Float16(bitPattern: $0)) }
        case .bfloat16: gather(start, UInt16.self, into: dst) { Float(bitPattern: UInt32($0) << 16) }
        case .float64: gather(start, Double.self, into: dst) { Float($0) }
        case .int64: gather(start, Int64.self, into: dst) { Float($0) }
        case .int32: gather(start, Int32.self, into: dst) { Float($0) }
        case .int16: gather(start, Int16.self, into: dst) { Float($0) }
        case .int8: gather(start, Int8.self, into: dst) { Float($0) }
        case .uint8: gather(start, UInt8.self, into: dst) { Float($0) }
        case .bool: gather(start, UInt8.self, into: dst) { $0 != 0 ? 1 : 0 }
        }
        return out
    }

    /// Converts every element in row-major order of `shape`, reading through `strides`
    /// (unaligned loads: deflated or zip64-padded data need not be aligned).
    private func gather<T: BitwiseCopyable>(
        _ start: UnsafeRawPointer, _: T.Type, into dst: UnsafeMutablePointer<Float>,
        _ convert: (T) -> Float
    ) {
        let size = MemoryLayout<T>.size
        let shape = info.shape
        let count = info.count
        if isContiguous {
            for i in 0..<count { dst[i] = convert(start.loadUnaligned(fromByteOffset: i * size, as: T.self)) }
            return
        }
        let rank = shape.count
        let inner = shape[rank - 1]
        let innerStride = strides[rank - 1]
        var index = [Int](repeating: 0, count: rank)
        var source = 0
        var written = 0
        while written < count {
            for i in 0..<inner {
                dst[written + i] = convert(
                    start.loadUnaligned(fromByteOffset: (source + i * innerStride) * size, as: T.self))
            }
            written += inner
            var axis = rank - 2
            while axis >= 0 {
                index[axis] += 1
                source += strides[axis]
                if index[axis] < shape[axis] { break }
                source -= strides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }
}
