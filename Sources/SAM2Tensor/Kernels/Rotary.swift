// Rotary position embedding: rotates adjacent channel pairs (2j, 2j+1) of each token as the
// complex number x[2j] + i·x[2j+1] multiplied by cos θ + i·sin θ, with θ from a per-position table.

/// x [B, H, L, D] with its first `count` tokens rotated (the rest, e.g. extra tokens appended to a
/// memory, left as they are). Token t uses row `t % positions` of `cos`/`sin` [positions, D/2], so a
/// sequence made of several frames of `positions` tokens reuses the table per frame.
public func applyRotary(_ x: Tensor, cos: Tensor, sin: Tensor, count: Int? = nil) -> Tensor {
    precondition(x.rank == 4 && x.shape[3] % 2 == 0, "applyRotary expects [B, H, L, D] with even D, got \(x.shape)")
    let (bh, l, d) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
    let positions = cos.shape[0]
    precondition(
        cos.shape == [positions, d / 2] && sin.shape == cos.shape, "rotation tables \(cos.shape) do not fit \(x.shape)")
    let rotated = min(count ?? l, l)
    precondition(
        rotated % positions == 0, "\(rotated) rotated tokens are not whole multiples of the \(positions) positions")
    let out = Tensor(uninitializedShape: x.shape)
    out.storage.pointer.update(from: x.storage.pointer, count: x.count)
    nonisolated(unsafe) let p = out.storage.pointer
    nonisolated(unsafe) let c = cos.storage.pointer
    nonisolated(unsafe) let s = sin.storage.pointer
    Parallel.forEachChunk(bh * rotated, minimumChunk: 256) { rows in
        for row in rows {
            let (seq, t) = (row / rotated, row % rotated)
            let v = p + (seq * l + t) * d
            let table = (t % positions) * (d / 2)
            for j in 0..<(d / 2) {
                let (re, im) = (v[2 * j], v[2 * j + 1])
                let (cj, sj) = (c[table + j], s[table + j])
                v[2 * j] = re * cj - im * sj
                v[2 * j + 1] = re * sj + im * cj
            }
        }
    }
    return out
}
