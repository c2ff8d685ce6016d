// Box operations of the automatic mask generator: non-maximum suppression as torchvision's
// batched_nms (one category, its CPU nms kernel) and is_box_near_crop_edge of sam2/utils/amg.py.

public enum BoxOperations {
    /// Indices of the boxes (x0, y0, x1, y1) kept by greedy non-maximum suppression, best score first.
    /// As torchvision: a stable sort by descending score, areas (x1 − x0)·(y1 − y0) without +1, and a
    /// box is suppressed by a kept one when inter / (areaA + areaB − inter) > `iouThreshold`
    /// (float32 ratio compared in double; a 0/0 ratio of empty boxes suppresses nothing).
    public static func nms(boxes: [SIMD4<Float>], scores: [Float], iouThreshold: Double) -> [Int] {
        precondition(boxes.count == scores.count, "nms: \(boxes.count) boxes, \(scores.count) scores")
        let order = boxes.indices.sorted { a, b in scores[a] > scores[b] || (scores[a] == scores[b] && a < b) }
        let areas = boxes.map { ($0.z - $0.x) * ($0.w - $0.y) }
        var suppressed = [Bool](repeating: false, count: boxes.count)
        var keep: [Int] = []
        for (position, i) in order.enumerated() where !suppressed[i] {
            keep.append(i)
            let a = boxes[i]
            for j in order[(position + 1)...] where !suppressed[j] {
                let b = boxes[j]
                let w = max(0, min(a.z, b.z) - max(a.x, b.x))
                let h = max(0, min(a.w, b.w) - max(a.y, b.y))
                let inter = w * h
                let ratio = inter / (areas[i] + areas[j] - inter)
                if Double(ratio) > iouThreshold { suppressed[j] = true }
            }
        }
        return keep
    }

    /// True when a box (x0, y0, x1, y1 in the crop's frame) lies within 20 pixels of an edge of its
    /// crop that is not also an edge of the image (the reference compares each coordinate with the
    /// crop's and the image's, x1 and y1 inclusive against exclusive edges, as it does).
    public static func isNearCropEdge(_ box: SIMD4<Int>, crop: CropBox, imageWidth: Int, imageHeight: Int) -> Bool {
        let shifted = box &+ SIMD4(crop.x0, crop.y0, crop.x0, crop.y0)
        let cropEdges = SIMD4(crop.x0, crop.y0, crop.x1, crop.y1)
        let imageEdges = SIMD4(0, 0, imageWidth, imageHeight)
        for k in 0..<4 where abs(shifted[k] - cropEdges[k]) <= 20 && abs(shifted[k] - imageEdges[k]) > 20 {
            return true
        }
        return false
    }
}
