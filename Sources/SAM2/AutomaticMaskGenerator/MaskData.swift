// MaskData: the automatic mask generator's columns of mask records (reference: MaskData in
// sam2/utils/amg.py), kept as typed arrays instead of a string-keyed dictionary.

/// The generator's columns of mask records (the reference's MaskData): filtered, reordered and
/// concatenated together.
struct MaskData {
    var rles: [UncompressedRLE] = []
    /// x0, y0, x1, y1 (inclusive) in the crop's frame, then the image's.
    var boxes: [SIMD4<Int>] = []
    var iouPredictions: [Float] = []
    var points: [SIMD2<Float>] = []
    var stabilityScores: [Float] = []
    var cropBoxes: [CropBox] = []

    var isEmpty: Bool { rles.isEmpty }
    var indices: Range<Int> { rles.indices }
    var floatBoxes: [SIMD4<Float>] { boxes.map { SIMD4(Float($0.x), Float($0.y), Float($0.z), Float($0.w)) } }

    /// Keeps the records at `keep`, in that order.
    mutating func select(_ keep: [Int]) {
        rles = keep.map { rles[$0] }
        boxes = keep.map { boxes[$0] }
        iouPredictions = keep.map { iouPredictions[$0] }
        points = keep.map { points[$0] }
        stabilityScores = keep.map { stabilityScores[$0] }
        cropBoxes = keep.map { cropBoxes[$0] }
    }

    mutating func append(_ other: MaskData) {
        rles += other.rles
        boxes += other.boxes
        iouPredictions += other.iouPredictions
        points += other.points
        stabilityScores += other.stabilityScores
        cropBoxes += other.cropBoxes
    }
}
