// Mask post-processing of sam2/utils/misc.py: connected components of binary masks with
// 8-connectivity, on the CPU (`get_connected_components`, which needs the reference's CUDA extension;
// without it the reference skips hole filling — we always run it), and `fill_holes_in_mask_scores`.

/// For each pixel of an H×W binary mask: the area of the 8-connected component it belongs to,
/// 0 for background pixels.
func connectedComponentAreas(_ mask: [Bool], height: Int, width: Int) -> [Int32] {
    var parent = [Int32](repeating: -1, count: mask.count)
    func find(_ i: Int32) -> Int32 {
        var root = i
        while parent[Int(root)] != root { root = parent[Int(root)] }
        var node = i
        while parent[Int(node)] != root {
            let next = parent[Int(node)]
            parent[Int(node)] = root
            node = next
        }
        return root
    }
    func union(_ a: Int32, _ b: Int32) {
        let (ra, rb) = (find(a), find(b))
        if ra != rb { parent[Int(max(ra, rb))] = min(ra, rb) }
    }
    for y in 0..<height {
        for x in 0..<width {
            let i = y * width + x
            guard mask[i] else { continue }
            parent[i] = Int32(i)
            // Neighbours already visited: left, and the three above.
            if x > 0 && mask[i - 1] { union(Int32(i), Int32(i - 1)) }
            if y > 0 {
                let up = i - width
                if mask[up] { union(Int32(i), Int32(up)) }
                if x > 0 && mask[up - 1] { union(Int32(i), Int32(up - 1)) }
                if x + 1 < width && mask[up + 1] { union(Int32(i), Int32(up + 1)) }
            }
        }
    }
    var areas = [Int32](repeating: 0, count: mask.count)
    var roots = [Int32](repeating: -1, count: mask.count)
    for i in 0..<mask.count where mask[i] {
        let r = find(Int32(i))
        roots[i] = r
        areas[Int(r)] += 1
    }
    var out = [Int32](repeating: 0, count: mask.count)
    for i in 0..<mask.count where mask[i] { out[i] = areas[Int(roots[i])] }
    return out
}

/// `fill_holes_in_mask_scores`: background components (score ≤ 0) of at most `maxArea` pixels get
/// the score 0.1. [N, 1, h, w].
func fillHoles(_ masks: Tensor, maxArea: Int) -> Tensor {
    let (h, w) = (masks.dim(2), masks.dim(3))
    var v = masks.scalars
    for start in stride(from: 0, to: v.count, by: h * w) {
        let areas = connectedComponentAreas(v[start..<(start + h * w)].map { $0 <= 0 }, height: h, width: w)
        for i in 0..<(h * w) where areas[i] > 0 && Int(areas[i]) <= maxArea { v[start + i] = 0.1 }
    }
    return Tensor(shape: masks.shape, scalars: v)
}
