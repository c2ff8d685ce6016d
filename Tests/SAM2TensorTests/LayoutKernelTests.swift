// Window partitioning and rotary encoding against plain index-by-index versions on fresh random inputs.

import Foundation
import Testing

@testable import SAM2Tensor

struct LayoutKernelTests {
    @Test(arguments: [(1, 9, 11, 3, 4), (2, 8, 8, 5, 4), (1, 16, 16, 2, 6), (1, 5, 3, 4, 7)])
    func windowPartitionRoundTrip(b: Int, h: Int, w: Int, c: Int, s: Int) {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        let x = randomTensor([b, h, w, c], &rng)
        let (windows, hp, wp) = windowPartition(x, windowSize: s)
        #expect(hp == (h + s - 1) / s * s && wp == (w + s - 1) / s * s)
        let (nh, nw) = (hp / s, wp / s)
        #expect(windows.shape == [b * nh * nw, s, s, c])
        // Plain: window (bi, wy, wx), pixel (r, q) is x[bi, wy·s + r, wx·s + q] or 0 in the padding.
        let xv = x.scalars
        let wv = windows.scalars
        var mismatches = 0
        for bi in 0..<b {
            for wy in 0..<nh {
                for wx in 0..<nw {
                    for r in 0..<s {
                        for q in 0..<s {
                            for ch in 0..<c {
                                let (y, xx) = (wy * s + r, wx * s + q)
                                let expected: Float = y < h && xx < w ? xv[((bi * h + y) * w + xx) * c + ch] : 0
                                if wv[((((bi * nh + wy) * nw + wx) * s + r) * s + q) * c + ch] != expected {
                                    mismatches += 1
                                }
                            }
                        }
                    }
                }
            }
        }
        #expect(mismatches == 0, "seed \(seed)")
        let back = windowUnpartition(windows, windowSize: s, paddedHeight: hp, paddedWidth: wp, height: h, width: w)
        #expect(back.shape == x.shape && back.scalars == xv, "seed \(seed)")

        // A range of windows at a time: the same windows; padding zeroed again after a change;
        // written back range by range, the whole map.
        let grid = WindowGrid(x, windowSize: s)
        let perWindow = s * s * c
        let rebuilt = Tensor(uninitializedShape: x.shape)
        for first in stride(from: 0, to: grid.count, by: 2) {
            let range = first..<min(grid.count, first + 2)
            let part = windowPartition(x, grid: grid, windows: range)
            #expect(
                part.scalars == Array(wv[(range.lowerBound * perWindow)..<(range.upperBound * perWindow)]),
                "seed \(seed) windows \(range)")
            let shifted = Tensor(shape: part.shape, scalars: part.scalars.map { $0 + 1 })
            zeroWindowPadding(shifted, grid: grid, first: first)
            var expected = [Float]()
            for window in range {
                let (wy, wx) = ((window / nw) % nh, window % nw)
                for r in 0..<s {
                    for q in 0..<s {
                        let inside = wy * s + r < h && wx * s + q < w
                        let values = wv[(((window * s + r) * s + q) * c)..<(((window * s + r) * s + q + 1) * c)]
                        expected += inside ? values.map { $0 + 1 } : Array(repeating: 0, count: c)
                    }
                }
            }
            #expect(shifted.scalars == expected, "seed \(seed) windows \(range): padding not zeroed")
            windowUnpartition(part, into: rebuilt, grid: grid, first: first)
        }
        #expect(rebuilt.scalars == xv, "seed \(seed)")
    }

    @Test(arguments: [(2, 3, 20, 8, 4, 16), (1, 1, 12, 6, 6, 12), (1, 2, 9, 4, 3, 6)])
    func rotaryMatchesComplexProduct(b: Int, h: Int, l: Int, d: Int, positions: Int, count: Int) {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        let x = randomTensor([b, h, l, d], &rng)
        let angles = randomTensor([positions, d / 2], &rng, low: -3, high: 3).scalars
        let cos = Tensor(shape: [positions, d / 2], scalars: angles.map { Foundation.cos($0) })
        let sin = Tensor(shape: [positions, d / 2], scalars: angles.map { Foundation.sin($0) })
        let out = applyRotary(x, cos: cos, sin: sin, count: count)
        var expected = x.scalars
        for seq in 0..<(b * h) {
            for t in 0..<count {
                for j in 0..<(d / 2) {
                    let i = (seq * l + t) * d + 2 * j
                    let (re, im) = (Double(expected[i]), Double(expected[i + 1]))
                    let a = Double(angles[(t % positions) * (d / 2) + j])
                    expected[i] = Float(re * Foundation.cos(a) - im * Foundation.sin(a))
                    expected[i + 1] = Float(re * Foundation.sin(a) + im * Foundation.cos(a))
                }
            }
        }
        #expect(maxAbsDifference(out.scalars, expected) <= 1e-5, "seed \(seed)")
    }
}
