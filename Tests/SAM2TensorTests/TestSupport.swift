// Test support for SAM2Tensor: seeded random tensors, error measures, and a tiny .npy reader for
// the committed PyTorch / Pillow fixtures (written by tools/reference/make_kernel_fixtures.py).

import Foundation
import SAM2Tensor
import Testing

/// SplitMix64: a small seeded generator so failures can be reproduced from the printed seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A fresh seed per call (printed by tests on failure).
func freshSeed() -> UInt64 { UInt64.random(in: 1...UInt64.max) }

/// Tensor with values uniform in [low, high).
func randomTensor(_ shape: [Int], _ rng: inout SeededGenerator, low: Float = -1, high: Float = 1) -> Tensor {
    let n = Tensor.elementCount(shape)
    var values = [Float](repeating: 0, count: n)
    for i in 0..<n { values[i] = Float.random(in: low..<high, using: &rng) }
    return Tensor(shape: shape, scalars: values)
}

/// ‖a − b‖ / ‖b‖ (0 when both are zero).
func relativeL2(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count, "relativeL2: \(a.count) vs \(b.count) values")
    var num = 0.0
    var den = 0.0
    for i in 0..<a.count {
        let d = Double(a[i]) - Double(b[i])
        num += d * d
        den += Double(b[i]) * Double(b[i])
    }
    if den == 0 { return num.squareRoot() }
    return (num / den).squareRoot()
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// A parsed .npy file (version 1/2, little-endian float32 or uint8, C order).
struct NpyArray {
    var shape: [Int]
    var floats: [Float] = []
    var bytes: [UInt8] = []

    enum Failure: Error, CustomStringConvertible {
        case missing(String)
        case malformed(String)
        var description: String {
            switch self {
            case .missing(let name): return "fixture \(name).npy not found; run tools/reference/make_kernel_fixtures.py"
            case .malformed(let why): return "bad .npy file: \(why)"
            }
        }
    }

    init(data: Data) throws {
        let raw = [UInt8](data)
        guard raw.count > 10, raw[0] == 0x93, String(bytes: raw[1..<6], encoding: .ascii) == "NUMPY" else {
            throw Failure.malformed("no magic")
        }
        let major = raw[6]
        let headerLength: Int
        let start: Int
        if major == 1 {
            headerLength = Int(raw[8]) | Int(raw[9]) << 8
            start = 10
        } else {
            headerLength = Int(raw[8]) | Int(raw[9]) << 8 | Int(raw[10]) << 16 | Int(raw[11]) << 24
            start = 12
        }
        guard let header = String(bytes: raw[start..<(start + headerLength)], encoding: .ascii) else {
            throw Failure.malformed("header")
        }
        guard !header.contains("'fortran_order': True") else { throw Failure.malformed("Fortran order") }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")")
        else {
            throw Failure.malformed("shape in \(header)")
        }
        shape = header[open.upperBound..<close].split(separator: ",").compactMap {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        let count = shape.reduce(1, *)
        let body = Array(raw[(start + headerLength)...])
        if header.contains("'descr': '<f4'") {
            guard body.count >= count * 4 else { throw Failure.malformed("short float data") }
            floats = body.withUnsafeBytes { buffer in
                (0..<count).map {
                    Float(
                        bitPattern: UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
                }
            }
        } else if header.contains("'descr': '|u1'") {
            guard body.count >= count else { throw Failure.malformed("short byte data") }
            bytes = Array(body[0..<count])
        } else {
            throw Failure.malformed("unsupported dtype in \(header)")
        }
    }

    static func fixture(_ name: String) throws -> NpyArray {
        guard
            let url = Bundle.module.url(forResource: name, withExtension: "npy", subdirectory: "Fixtures")
                ?? Bundle.module.url(forResource: name, withExtension: "npy")
        else {
            throw Failure.missing(name)
        }
        return try NpyArray(data: Data(contentsOf: url))
    }

    var tensor: Tensor { Tensor(shape: shape, scalars: floats) }
}

/// Expects equal shapes and a relative L2 error within `tolerance`.
func expectClose(
    _ got: Tensor, _ want: Tensor, _ tolerance: Double = 1e-5, _ note: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(got.shape == want.shape, "\(note): shape \(got.shape) vs \(want.shape)", sourceLocation: sourceLocation)
    guard got.shape == want.shape else { return }
    let err = relativeL2(got.scalars, want.scalars)
    #expect(err <= tolerance, "\(note): relative L2 \(err)", sourceLocation: sourceLocation)
}
