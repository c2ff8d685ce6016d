// BFloat16Tensor: a tensor stored as bfloat16 (the top 16 bits of float32, rounded to nearest
// even), for state that a reference implementation keeps in that precision; half the memory.

public struct BFloat16Tensor: Sendable {
    public let shape: [Int]
    public let bits: [UInt16]

    /// Rounds every element to the nearest bfloat16 (ties to even; NaN stays NaN), as PyTorch's
    /// `.to(torch.bfloat16)` does.
    public init(rounding x: Tensor) {
        shape = x.shape
        bits = x.withUnsafeBufferPointer { p in
            p.map { value in
                let u = value.bitPattern
                if value.isNaN { return UInt16(truncatingIfNeeded: (u >> 16) | 0x40) }
                let rounded = u &+ 0x7FFF &+ ((u >> 16) & 1)
                return UInt16(truncatingIfNeeded: rounded >> 16)
            }
        }
    }

    /// The values widened back to float32 (exact).
    public var tensor: Tensor {
        Tensor(shape: shape, scalars: bits.map { Float(bitPattern: UInt32($0) << 16) })
    }
}
