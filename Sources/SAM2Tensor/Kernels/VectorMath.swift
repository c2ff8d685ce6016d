// VectorMath: small loops over float runs that LLVM's loop vectoriser turns into SIMD code —
// reductions and a polynomial exponential (Cody–Waite range reduction, degree 6, relative error
// below 1e-6).

/// Small loops over float runs, written so LLVM's loop vectoriser handles them: plain scalar bodies
/// (selects and bit casts, no calls), and eight independent accumulators for reductions.
enum VectorMath {
    /// Largest of x[0..<count] (−∞ when empty; NaNs are skipped).
    static func maximum(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
        var a0 = -Float.infinity
        var a1 = a0
        var a2 = a0
        var a3 = a0
        var a4 = a0
        var a5 = a0
        var a6 = a0
        var a7 = a0
        var i = 0
        while i + 8 <= count {
            a0 = x[i] > a0 ? x[i] : a0
            a1 = x[i + 1] > a1 ? x[i + 1] : a1
            a2 = x[i + 2] > a2 ? x[i + 2] : a2
            a3 = x[i + 3] > a3 ? x[i + 3] : a3
            a4 = x[i + 4] > a4 ? x[i + 4] : a4
            a5 = x[i + 5] > a5 ? x[i + 5] : a5
            a6 = x[i + 6] > a6 ? x[i + 6] : a6
            a7 = x[i + 7] > a7 ? x[i + 7] : a7
            i += 8
        }
        var best = max(max(max(a0, a1), max(a2, a3)), max(max(a4, a5), max(a6, a7)))
        while i < count {
            if x[i] > best { best = x[i] }
            i += 1
        }
        return best
    }

    /// Σ x[0..<count] with eight partial sums.
    static func sum(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
        var a0: Float = 0
        var a1: Float = 0
        var a2: Float = 0
        var a3: Float = 0
        var a4: Float = 0
        var a5: Float = 0
        var a6: Float = 0
        var a7: Float = 0
        var i = 0
        while i + 8 <= count {
            a0 += x[i]
            a1 += x[i + 1]
            a2 += x[i + 2]
            a3 += x[i + 3]
            a4 += x[i + 4]
            a5 += x[i + 5]
            a6 += x[i + 6]
            a7 += x[i + 7]
            i += 8
        }
        var total = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
        while i < count {
            total += x[i]
            i += 1
        }
        return total
    }

    /// Σ (x − mean)² with eight partial sums.
    static func squaredDeviation(_ x: UnsafePointer<Float>, _ count: Int, from mean: Float) -> Float {
        var a0: Float = 0
        var a1: Float = 0
        var a2: Float = 0
        var a3: Float = 0
        var a4: Float = 0
        var a5: Float = 0
        var a6: Float = 0
        var a7: Float = 0
        var i = 0
        while i + 8 <= count {
            let d0 = x[i] - mean
            let d1 = x[i + 1] - mean
            let d2 = x[i + 2] - mean
            let d3 = x[i + 3] - mean
            let d4 = x[i + 4] - mean
            let d5 = x[i + 5] - mean
            let d6 = x[i + 6] - mean
            let d7 = x[i + 7] - mean
            a0 += d0 * d0
            a1 += d1 * d1
            a2 += d2 * d2
            a3 += d3 * d3
            a4 += d4 * d4
            a5 += d5 * d5
            a6 += d6 * d6
            a7 += d7 * d7
            i += 8
        }
        var total = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
        while i < count {
            let d = x[i] - mean
            total += d * d
            i += 1
        }
        return total
    }

    /// y = e^(x − shift) (x and y may be the same run); returns Σ y. Uses 2^k · p(r) with
    /// r = x − k·ln2 (Cody–Waite) and a degree-6 polynomial: relative error below 1e-6.
    /// Arguments below −87.3 (including −∞) give 0.
    static func expShifted(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int, shift: Float)
        -> Float
    {
        let magic: Float = 12_582_912  // 1.5 · 2^23: rounds to an integer in the low bits
        for i in 0..<count {
            let v0 = x[i] - shift
            let underflow = v0 < -87.3
            let v = underflow ? -87.3 : v0
            let t = v * 1.442_695_04 + magic
            let k = t - magic
            let r = v - k * 0.693_145_751_953_125 - k * 1.428_606_765_330_187e-6
            var p: Float = 1.0 / 720
            p = p * r + 1.0 / 120
            p = p * r + 1.0 / 24
            p = p * r + 1.0 / 6
            p = p * r + 0.5
            p = p * r + 1
            p = p * r + 1
            let twoToK = Float(bitPattern: (t.bitPattern &- magic.bitPattern &+ 127) &<< 23)
            y[i] = underflow ? 0 : p * twoToK
        }
        return sum(UnsafePointer(y), count)
    }

    /// x *= s.
    static func scale(_ x: UnsafeMutablePointer<Float>, _ count: Int, by s: Float) {
        for i in 0..<count { x[i] *= s }
    }
}
