// Window partitioning of channels-last maps: [B, H, W, C] → [B·nWindows, s, s, C] with zero
// padding of H and W up to multiples of s, and back (cropping the padding). Used by windowed
// attention (Hiera, Swin-style backbones). A range of windows may be taken on its own, so that a
// block can run a few windows at a time in cache.

/// The windows of a [B, H, W, C] map: s×s each, nh × nw per batch item over the padded map.
public struct WindowGrid: Sendable {
    public let batch, height, width, channels, size: Int
    public var rows: Int { (height + size - 1) / size }
    public var columns: Int { (width + size - 1) / size }
    public var count: Int { batch * rows * columns }

    public init(_ x: Tensor, windowSize s: Int) {
        precondition(
            x.rank == 4 && s > 0, "window partition expects [B, H, W, C] and a positive window, got \(x.shape), \(s)")
        self.init(batch: x.shape[0], height: x.shape[1], width: x.shape[2], channels: x.shape[3], size: s)
    }

    public init(batch: Int, height: Int, width: Int, channels: Int, size: Int) {
        precondition(size > 0, "window partition: a window of \(size)")
        (self.batch, self.height, self.width, self.channels, self.size) = (batch, height, width, channels, size)
    }

    /// Calls body(window, r, y, x0, valid): row r of a window is map row y from column x0, of which
    /// `valid` pixels lie inside the map (0 for padding rows).
    fileprivate func forEachRow(_ window: Int, _ body: (_ r: Int, _ mapRow: Int, _ x0: Int, _ valid: Int) -> Void) {
        let bi = window / (rows * columns)
        let (wy, wx) = ((window / columns) % rows, window % columns)
        for r in 0..<size {
            let y = wy * size + r
            body(r, bi * height + y, wx * size, y < height ? max(0, min(size, width - wx * size)) : 0)
        }
    }
}

/// Splits `x` [B, H, W, C] into s×s windows, padding with zeros; returns the windows
/// [B · (Hp/s) · (Wp/s), s, s, C] and the padded size (Hp, Wp).
public func windowPartition(_ x: Tensor, windowSize s: Int) -> (windows: Tensor, paddedHeight: Int, paddedWidth: Int) {
    let grid = WindowGrid(x, windowSize: s)
    return (windowPartition(x, grid: grid, windows: 0..<grid.count), grid.rows * s, grid.columns * s)
}

/// Windows `windows` of windowPartition(x) ([count, s, s, C], padding positions zero).
public func windowPartition(_ x: Tensor, grid: WindowGrid, windows: Range<Int>) -> Tensor {
    let (s, c) = (grid.size, grid.channels)
    let out = Tensor(uninitializedShape: [windows.count, s, s, c])
    nonisolated(unsafe) let src = x.storage.pointer
    nonisolated(unsafe) let dst = out.storage.pointer
    Parallel.forEach(windows.count) { i in
        grid.forEachRow(windows.lowerBound + i) { r, mapRow, x0, valid in
            let row = dst + ((i * s + r) * s) * c
            if valid > 0 { row.update(from: src + (mapRow * grid.width + x0) * c, count: valid * c) }
            if valid < s { (row + valid * c).update(repeating: 0, count: (s - valid) * c) }
        }
    }
    withExtendedLifetime(x) {}
    return out
}

/// Sets the padding positions of windows [count, s, s, C] (the windows from `first` on of a
/// partition into `grid`) back to zero, e.g. after a function of each position's values.
public func zeroWindowPadding(_ windows: Tensor, grid: WindowGrid, first: Int) {
    let (s, c) = (grid.size, grid.channels)
    precondition(
        windows.rank == 4 && windows.shape[1] == s && windows.shape[3] == c && first + windows.shape[0] <= grid.count,
        "zeroWindowPadding: \(windows.shape) from window \(first) are not windows of the grid")
    nonisolated(unsafe) let dst = windows.storage.pointer
    for i in 0..<windows.shape[0] {
        grid.forEachRow(first + i) { r, _, _, valid in
            if valid < s { (dst + ((i * s + r) * s + valid) * c).update(repeating: 0, count: (s - valid) * c) }
        }
    }
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
    windowUnpartition(windows, into: out, grid: WindowGrid(out, windowSize: s), first: 0)
    return out
}

/// Writes windows [count, s, s, C], the windows from `first` on of the partition of `out`
/// [B, H, W, C] into `grid`, back into `out`, dropping the padding.
public func windowUnpartition(_ windows: Tensor, into out: Tensor, grid: WindowGrid, first: Int) {
    let (s, c) = (grid.size, grid.channels)
    precondition(
        windows.rank == 4 && windows.shape[1] == s && windows.shape[2] == s && windows.shape[3] == c
            && first >= 0 && first + windows.shape[0] <= grid.count
            && out.shape == [grid.batch, grid.height, grid.width, c],
        "windowUnpartition: \(windows.shape) from window \(first) are not windows of \(out.shape) in \(s)×\(s)")
    nonisolated(unsafe) let src = windows.storage.pointer
    nonisolated(unsafe) let dst = out.storage.pointer
    Parallel.forEach(windows.shape[0]) { i in
        grid.forEachRow(first + i) { r, mapRow, x0, valid in
            if valid > 0 {
                (dst + (mapRow * grid.width + x0) * c).update(from: src + ((i * s + r) * s) * c, count: valid * c)
            }
        }
    }
    withExtendedLifetime((windows, out)) {}
}
