// VectorMath: reductions, the exponential, softmax rows, layer-norm rows and the conversions of
// reduced precision, from CSAM2Kernels — C compiled for AVX-512 beside a portable version, the one
// this CPU runs picked once (Swift code here is built for the baseline target: four lanes, no FMA).

import CSAM2Kernels

enum VectorMath {
    /// The kernels this process runs (`SAM2_KERNELS=generic` asks for the portable ones).
    nonisolated(unsafe) static let kernels = sam2_kernels()!.pointee

    /// Name of the instruction set the kernels use ("avx512" or "generic").
    static var instructionSet: String { String(cString: kernels.name) }

    /// Largest of x[0..<count] (−∞ when empty; NaNs are skipped).
    static func maximum(_ x: UnsafePointer<Float>, _ count: Int) -> Float { kernels.maximum(x, count) }

    /// y = e^(x − shift) (x and y may be the same run); returns Σ y. Arguments below −87.3
    /// (including −∞) give 0.
    static func expShifted(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int, shift: Float)
        -> Float
    {
        kernels.exp_shifted(x, y, count, shift)
    }

    /// x *= s.
    static func scale(_ x: UnsafeMutablePointer<Float>, _ count: Int, by s: Float) { kernels.scale(x, count, s) }

    /// y += x.
    static func add(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int) {
        kernels.add(y, x, count)
    }

    /// Softmax of each row of x [rows, columns] in place, as torch.softmax (a row whose largest value
    /// is NaN or ±∞ becomes NaN). With `rounded`, the probabilities go there as bfloat16 instead and
    /// x keeps e^(x − max).
    static func softmaxRows(
        _ x: UnsafeMutablePointer<Float>, rows: Int, columns: Int, rounded: UnsafeMutablePointer<UInt16>?
    ) {
        kernels.softmax_rows(x, rows, columns, rounded)
    }
}
