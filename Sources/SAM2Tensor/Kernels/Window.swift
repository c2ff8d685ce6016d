// Window partitioning of channels-last maps: [B, H, W, C] → [B·nWindows, s, s, C] with zero
// padding of H and W up to multiples of s, and back (cropping the padding). Used by windowed
// attention (Hiera, Swin-style backbones).

/// Splits `x` [B, H, W, C] into s×s windows, padding with zeros; returns the windows
/// [B · (Hp/s) · (Wp/s), s, s, C] and the padded size (Hp, Wp).
public func windowPartition(_ x: Tensor, windowSize s: Int) -> (windows: Tensor, paddedHeight: Int, paddedWidth: Int) {
    precondition(
        x.rank == 4 && s > 0, "windowPartition expects [B, H, W, C] and a positive window, got \(x.shape), \(s)")
    let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let hp = (h + s - 1) / s * s
    let wp = (w + s - 1) / s * s
    let (nh, nw) = (hp / s, wp / s)
    let out = Tensor(uninitializedShape: [b * nh * nw, s, s, c])
    nonisolated(unsafe) let src = x.storage.pointer
    nonisolated(unsafe) let dst = out.storage.pointer
    Parallel.forEach(b * nh * nw) { window in
        let bi = window / (nh * nw)
        let wy = (window / nw) % nh
        let wx = window % nw
        for r in 0..<s {
            let y = wy * s + r
            let row = dst + ((window * s + r) * s) * c
            let validX = y < h ? max(0, min(s, w - wx * s)) : 0
            if validX > 0 {
                row.update(from: src + ((bi * h + y) * w + wx * s) * c, count: validX * c)
            }
            if validX < s { (row + validX * c).update(repeating: 0, count: (s - validX) * c) }
        }
    }
    return (out, hp, wp)
}

/// Inverse of `windowPartition`: windows [B · (Hp/s) · (Wp/s), s, s, C] → [B, H, W, C].
public func windowUnpartition(
    _ windows: Tensor, windowSize s: Int, paddedHeight hp: Int, paddedWidth wp: Int,
    height h: Int, width w: Int
) -> Tensor {
    let (nh, nw) = (hp / s, wp / s)
    let c = windows.shape[3]
    let b = windows.shape[0] / (nh * nw)
    precondition(
        windows.rank == 4 && windows.shape[1] == s && windows.shape[2] == s && b * nh * nw == windows.shape[0],
        "windowUnpartition: \(windows.shape) is not a set of \(s)×\(s) windows of \(hp)×\(wp)")
    let out = Tensor(uninitializedShape: [b, h, w, c])
    nonisolated(unsafe) let src = windows.storage.pointer
    nonisolated(unsafe) let dst = out.storage.pointer
    Parallel.forEach(b * h) { row in
        let bi = row / h
        let y = row % h
        let wy = y / s
        let r = y % s
        for wx in 0..<nw {
            let validX = max(0, min(s, w - wx * s))
            if validX == 0 { break }
            let window = (bi * nh + wy) * nw + wx
            (dst + ((bi * h + y) * w + wx * s) * c).update(from: src + ((window * s + r) * s) * c, count: validX * c)
        }
    }
    return out
}
