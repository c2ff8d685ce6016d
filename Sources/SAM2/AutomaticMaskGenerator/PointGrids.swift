// Point grids and crop boxes of the automatic mask generator (reference: sam2/utils/amg.py
// build_point_grid, build_all_layer_point_grids, generate_crop_boxes), in the reference's float64.

/// A crop of the image in pixels, x0, y0 inclusive and x1, y1 exclusive, with its crop layer.
public struct CropBox: Sendable, Equatable {
    public var x0: Int
    public var y0: Int
    public var x1: Int
    public var y1: Int
    public var layer: Int

    public var width: Int { x1 - x0 }
    public var height: Int { y1 - y0 }
    /// [x, y, width, height], as the records' `crop_box`.
    public var xywh: [Int] { [x0, y0, x1 - x0, y1 - y0] }
}

public enum PointGrids {
    /// n×n points evenly spaced in [0, 1]², rows (y) outer and columns (x) inner, at the centres of
    /// n equal cells: numpy's linspace(1/2n, 1 − 1/2n, n) on each axis.
    public static func grid(pointsPerSide n: Int) -> [SIMD2<Double>] {
        guard n > 0 else { return [] }
        let offset = 1 / (2 * Double(n))
        let stop = 1 - offset
        // ref: numpy linspace — i·step + start, the last value set to stop exactly.
        let step = n > 1 ? (stop - offset) / Double(n - 1) : 0
        let axis = (0..<n).map { i in n > 1 && i == n - 1 ? stop : Double(i) * step + offset }
        return axis.flatMap { y in axis.map { x in SIMD2(x, y) } }
    }

    /// One grid per crop layer: layer i has ⌊n / factor^i⌋ points per side.
    public static func layerGrids(pointsPerSide n: Int, cropLayers: Int, downscaleFactor: Int) -> [[SIMD2<Double>]] {
        (0...max(cropLayers, 0)).map { i in
            var divisor = 1.0
            for _ in 0..<i { divisor *= Double(downscaleFactor) }
            return grid(pointsPerSide: Int(Double(n) / divisor))
        }
    }

    /// The whole image, then for each layer i ≥ 1 a 2^i × 2^i set of overlapping crops, x outer and y inner.
    public static func cropBoxes(width imW: Int, height imH: Int, layers: Int, overlapRatio: Double) -> [CropBox] {
        var boxes = [CropBox(x0: 0, y0: 0, x1: imW, y1: imH, layer: 0)]
        let shortSide = Double(min(imH, imW))
        func cropLength(_ original: Int, _ crops: Int, _ overlap: Int) -> Int {
            Int((Double(overlap * (crops - 1) + original) / Double(crops)).rounded(.up))
        }
        for layer in 0..<max(layers, 0) {
            let perSide = 1 << (layer + 1)
            let overlap = Int(overlapRatio * shortSide * (2 / Double(perSide)))
            let cropW = cropLength(imW, perSide, overlap)
            let cropH = cropLength(imH, perSide, overlap)
            for i in 0..<perSide {
                for j in 0..<perSide {
                    let x0 = (cropW - overlap) * i
                    let y0 = (cropH - overlap) * j
                    let box = CropBox(
                        x0: x0, y0: y0, x1: min(x0 + cropW, imW), y1: min(y0 + cropH, imH), layer: layer + 1)
                    // An image of a few pixels gives crops that lie wholly past its edge: they hold
                    // nothing (the reference would fail on the empty crop).
                    if box.x1 > box.x0 && box.y1 > box.y0 { boxes.append(box) }
                }
            }
        }
        return boxes
    }
}
