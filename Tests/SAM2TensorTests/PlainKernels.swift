// Plain reference implementations of the SAM2Tensor kernels: direct loops in Double, written for
// clarity rather than speed, used as oracles by the kernel tests.

import Foundation
import SAM2Tensor

enum Plain {
    static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        let (o, i) = (weight.shape[0], weight.shape[1])
        let rows = x.count / i
        let xs = x.scalars
        let ws = weight.scalars
        let bs = bias?.scalars
        var out = [Float](repeating: 0, count: rows * o)
        for r in 0..<rows {
            for j in 0..<o {
                var s = Double(bs?[j] ?? 0)
                for p in 0..<i { s += Double(xs[r * i + p]) * Double(ws[j * i + p]) }
                out[r * o + j] = Float(s)
            }
        }
        return Tensor(shape: Array(x.shape.dropLast()) + [o], scalars: out)
    }

    static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int, padding: Int, groups: Int) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, cg, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
        let oh = (h + 2 * padding - kh) / stride + 1
        let ow = (w + 2 * padding - kw) / stride + 1
        let og = o / groups
        let xs = x.scalars
        let ws = weight.scalars
        let bs = bias?.scalars
        var out = [Float](repeating: 0, count: n * o * oh * ow)
        for b in 0..<n {
            for oc in 0..<o {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var s = Double(bs?[oc] ?? 0)
                        let g = oc / og
                        for ic in 0..<cg {
                            for ky in 0..<kh {
                                for kx in 0..<kw {
                                    let iy = oy * stride - padding + ky
                                    let ix = ox * stride - padding + kx
                                    if iy < 0 || iy >= h || ix < 0 || ix >= w { continue }
                                    let xv = xs[((b * c + g * cg + ic) * h + iy) * w + ix]
                                    s += Double(xv) * Double(ws[((oc * cg + ic) * kh + ky) * kw + kx])
                                }
                            }
                        }
                        out[((b * o + oc) * oh + oy) * ow + ox] = Float(s)
                    }
                }
            }
        }
        return Tensor(shape: [n, o, oh, ow], scalars: out)
    }

    static func convTranspose2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride s: Int) -> Tensor {
        let (n, cin, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let cout = weight.shape[1]
        let xs = x.scalars
        let ws = weight.scalars
        let bs = bias?.scalars
        var out = [Float](repeating: 0, count: n * cout * h * s * w * s)
        for b in 0..<n {
            for co in 0..<cout {
                for y in 0..<(h * s) {
                    for xo in 0..<(w * s) {
                        let (i, a, j, bb) = (y / s, y % s, xo / s, xo % s)
                        var acc = Double(bs?[co] ?? 0)
                        for ci in 0..<cin {
                            acc +=
                                Double(xs[((b * cin + ci) * h + i) * w + j])
                                * Double(ws[((ci * cout + co) * s + a) * s + bb])
                        }
                        out[((b * cout + co) * h * s + y) * w * s + xo] = Float(acc)
                    }
                }
            }
        }
        return Tensor(shape: [n, cout, h * s, w * s], scalars: out)
    }

    static func layerNorm(_ x: Tensor, weight: Tensor, bias: Tensor, eps: Float) -> Tensor {
        let c = x.shape.last!
        let xs = x.scalars
        let g = weight.scalars
        let b = bias.scalars
        var out = xs
        for r in 0..<(x.count / c) {
            let row = (0..<c).map { Double(xs[r * c + $0]) }
            let mean = row.reduce(0, +) / Double(c)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(c)
            for i in 0..<c {
                out[r * c + i] = Float(
                    (row[i] - mean) / (variance + Double(eps)).squareRoot() * Double(g[i]) + Double(b[i]))
            }
        }
        return Tensor(shape: x.shape, scalars: out)
    }

    static func layerNorm2d(_ x: Tensor, weight: Tensor, bias: Tensor, eps: Float) -> Tensor {
        // Move channels last, normalise, move back.
        let nhwc = x.permuted([0, 2, 3, 1])
        return layerNorm(nhwc, weight: weight, bias: bias, eps: eps).permuted([0, 3, 1, 2])
    }

    static func map(_ x: Tensor, _ f: (Double) -> Double) -> Tensor {
        Tensor(shape: x.shape, scalars: x.scalars.map { Float(f(Double($0))) })
    }

    static func broadcast(_ a: Tensor, _ b: Tensor, _ f: (Double, Double) -> Double) -> Tensor {
        let bs = b.scalars
        return Tensor(
            shape: a.shape,
            scalars: a.scalars.enumerated().map { Float(f(Double($0.element), Double(bs[$0.offset % bs.count]))) })
    }

    static func softmax(_ x: Tensor) -> Tensor {
        let c = x.shape.last!
        var out = x.scalars
        for r in 0..<(x.count / c) {
            let row = (0..<c).map { Double(out[r * c + $0]) }
            let m = row.max()!
            let e = row.map { Foundation.exp($0 - m) }
            let s = e.reduce(0, +)
            for i in 0..<c { out[r * c + i] = Float(e[i] / s) }
        }
        return Tensor(shape: x.shape, scalars: out)
    }

    /// The full-matrix definition: softmax(q kᵀ · scale) v, per head.
    static func attention(query: Tensor, key: Tensor, value: Tensor, scale: Float?) -> Tensor {
        let (b, h, lq, d) = (query.shape[0], query.shape[1], query.shape[2], query.shape[3])
        let lk = key.shape[2]
        let dv = value.shape[3]
        let s = Double(scale ?? 1 / Float(d).squareRoot())
        let q = query.scalars
        let k = key.scalars
        let v = value.scalars
        var out = [Float](repeating: 0, count: b * h * lq * dv)
        for head in 0..<(b * h) {
            for i in 0..<lq {
                var logits = [Double](repeating: 0, count: lk)
                for j in 0..<lk {
                    var dot = 0.0
                    for p in 0..<d { dot += Double(q[(head * lq + i) * d + p]) * Double(k[(head * lk + j) * d + p]) }
                    logits[j] = dot * s
                }
                let m = logits.max()!
                let e = logits.map { Foundation.exp($0 - m) }
                let total = e.reduce(0, +)
                for c in 0..<dv {
                    var acc = 0.0
                    for j in 0..<lk { acc += e[j] * Double(v[(head * lk + j) * dv + c]) }
                    out[(head * lq + i) * dv + c] = Float(acc / total)
                }
            }
        }
        return Tensor(shape: [b, h, lq, dv], scalars: out)
    }

    static func maxPool2d(_ x: Tensor, kernel: Int, stride: Int) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let oh = (h - kernel) / stride + 1
        let ow = (w - kernel) / stride + 1
        let xs = x.scalars
        var out = [Float]()
        for p in 0..<(n * c) {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var m = -Float.infinity
                    for ky in 0..<kernel {
                        for kx in 0..<kernel { m = max(m, xs[(p * h + oy * stride + ky) * w + ox * stride + kx]) }
                    }
                    out.append(m)
                }
            }
        }
        return Tensor(shape: [n, c, oh, ow], scalars: out)
    }

    // Interpolation, straight from the formulas (align_corners=False), in Double.

    static func bilinear(_ x: Tensor, height: Int, width: Int) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        func tap(_ o: Int, _ inSize: Int, _ outSize: Int) -> (Int, Int, Double) {
            let src = max(Double(inSize) / Double(outSize) * (Double(o) + 0.5) - 0.5, 0)
            let i0 = min(Int(src), inSize - 1)
            return (i0, min(i0 + 1, inSize - 1), src - Double(i0))
        }
        let xs = x.scalars
        var out = [Float]()
        for p in 0..<(n * c) {
            for oy in 0..<height {
                for ox in 0..<width {
                    let (y0, y1, ly) = tap(oy, h, height)
                    let (x0, x1, lx) = tap(ox, w, width)
                    func at(_ y: Int, _ xx: Int) -> Double { Double(xs[(p * h + y) * w + xx]) }
                    let v =
                        (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) + ly
                        * ((1 - lx) * at(y1, x0) + lx * at(y1, x1))
                    out.append(Float(v))
                }
            }
        }
        return Tensor(shape: [n, c, height, width], scalars: out)
    }

    /// Triangle filter of half-width max(1, in/out), normalised over pixels inside the image.
    static func bilinearAntialiased(_ x: Tensor, height: Int, width: Int) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        func weights(_ o: Int, _ inSize: Int, _ outSize: Int) -> [Double] {
            let scale = Double(inSize) / Double(outSize)
            let support = max(scale, 1)
            let center = scale * (Double(o) + 0.5)
            var ws = (0..<inSize).map { i -> Double in
                let d = abs((Double(i) + 0.5 - center) / support)
                return (abs(Double(i) + 0.5 - center) < support) ? max(0, 1 - d) : 0
            }
            let total = ws.reduce(0, +)
            ws = ws.map { $0 / total }
            return ws
        }
        let wy = (0..<height).map { weights($0, h, height) }
        let wx = (0..<width).map { weights($0, w, width) }
        let xs = x.scalars
        var out = [Float]()
        for p in 0..<(n * c) {
            for oy in 0..<height {
                for ox in 0..<width {
                    var acc = 0.0
                    for i in 0..<h where wy[oy][i] != 0 {
                        for j in 0..<w where wx[ox][j] != 0 {
                            acc += wy[oy][i] * wx[ox][j] * Double(xs[(p * h + i) * w + j])
                        }
                    }
                    out.append(Float(acc))
                }
            }
        }
        return Tensor(shape: [n, c, height, width], scalars: out)
    }

    static func nearest(_ x: Tensor, height: Int, width: Int) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let xs = x.scalars
        var out = [Float]()
        for p in 0..<(n * c) {
            for oy in 0..<height {
                for ox in 0..<width {
                    // PyTorch computes the scale in Float: floor(o · Float(in/out)).
                    let iy = min(Int(Float(oy) * (Float(h) / Float(height))), h - 1)
                    let ix = min(Int(Float(ox) * (Float(w) / Float(width))), w - 1)
                    out.append(xs[(p * h + iy) * w + ix])
                }
            }
        }
        return Tensor(shape: [n, c, height, width], scalars: out)
    }

    static func bicubic(_ x: Tensor, height: Int, width: Int) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        func kernel(_ t: Double) -> Double {
            let a = -0.75
            let x = abs(t)
            if x <= 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
            return 0
        }
        func taps(_ o: Int, _ inSize: Int, _ outSize: Int) -> [(Int, Double)] {
            let src = Double(inSize) / Double(outSize) * (Double(o) + 0.5) - 0.5
            let i0 = Int(src.rounded(.down))
            return (-1...2).map { k in (min(max(i0 + k, 0), inSize - 1), kernel(src - Double(i0 + k))) }
        }
        let xs = x.scalars
        var out = [Float]()
        for p in 0..<(n * c) {
            for oy in 0..<height {
                for ox in 0..<width {
                    var acc = 0.0
                    for (iy, wy) in taps(oy, h, height) {
                        for (ix, wx) in taps(ox, w, width) { acc += wy * wx * Double(xs[(p * h + iy) * w + ix]) }
                    }
                    out.append(Float(acc))
                }
            }
        }
        return Tensor(shape: [n, c, height, width], scalars: out)
    }
}
