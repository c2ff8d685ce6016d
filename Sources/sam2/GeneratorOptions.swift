// The automatic mask generator's options on the command line, shared by `sam2 auto` and
// `sam2 track --auto`: their parsing (bounds as the generator's) and their help lines.

import SAM2

extension Arguments {
    /// The help lines of the generator's options.
    static let generatorOptionsHelp = """
          --points-per-side N                   grid points per side, 1…256 (default 32)
          --points-per-batch N                  points run together in one decoder pass, 1…1024 (default 64)
          --pred-iou-thresh T                   keep masks whose predicted IoU is above T, in [0, 1] (default 0.8)
          --stability-score-thresh T            keep masks whose stability score is at least T, in [0, 1] (default 0.95)
          --stability-score-offset D            logit offset of the stability score (default 1)
          --mask-threshold T                    logit threshold of the masks (default 0)
          --box-nms-thresh T                    box IoU above which duplicates are dropped, in [0, 1] (default 0.7)
          --crop-n-layers N                     layers of image crops run again, 0…4 (default 0; layer k has 4^k crops)
          --crop-nms-thresh T                   box NMS threshold between crops, in [0, 1] (default 0.7)
          --crop-overlap-ratio R                overlap of the first layer's crops, in [0, 1) (default 512/1500)
          --crop-n-points-downscale-factor N    points per side divided by N^layer in crop layers (default 1)
          --min-mask-region-area A              fill holes and drop specks of at most A low-resolution pixels
                                                (default 0)
          --use-m2m                             refine each mask once with its own logits as a mask prompt
          --no-multimask                        one mask per point instead of three
        """

    /// The automatic mask generator's options given on the command line (`sam2 auto`, `sam2 track
    /// --auto`); out-of-range values are usage errors.
    mutating func generatorOptions() throws -> SAM2AutomaticMaskGenerator.Options {
        var o = SAM2AutomaticMaskGenerator.Options()
        let counts = 1...Int(Int32.max)
        typealias Bounds = SAM2AutomaticMaskGenerator.Options
        o.pointsPerSide = try int("--points-per-side", default: 32, range: 1...Bounds.maxPointsPerSide)
        o.pointsPerBatch = try int(
            "--points-per-batch", default: o.pointsPerBatch, range: 1...Bounds.maxPointsPerBatch)!
        o.cropNLayers = try int("--crop-n-layers", default: o.cropNLayers, range: 0...Bounds.maxCropNLayers)!
        o.cropNPointsDownscaleFactor = try int(
            "--crop-n-points-downscale-factor", default: o.cropNPointsDownscaleFactor, range: counts)!
        o.minMaskRegionArea = try int(
            "--min-mask-region-area", default: o.minMaskRegionArea, range: 0...Int(Int32.max))!
        func finite(_ name: String, _ fallback: Double) throws -> Double {
            guard let text = try value(name) else { return fallback }
            guard let v = Double(text), v.isFinite else {
                throw ToolError.usage("\(command): \(name) '\(text)' is not a finite number")
            }
            return v
        }
        func probability(_ name: String, _ fallback: Double) throws -> Double {
            guard let text = try value(name) else { return fallback }
            guard let v = Double(text), v >= 0 && v <= 1 else {
                throw ToolError.usage("\(command): \(name) '\(text)' is not a number in [0, 1]")
            }
            return v
        }
        o.predIoUThresh = try probability("--pred-iou-thresh", o.predIoUThresh)
        o.stabilityScoreThresh = try probability("--stability-score-thresh", o.stabilityScoreThresh)
        o.boxNMSThresh = try probability("--box-nms-thresh", o.boxNMSThresh)
        o.cropNMSThresh = try probability("--crop-nms-thresh", o.cropNMSThresh)
        o.stabilityScoreOffset = try finite("--stability-score-offset", o.stabilityScoreOffset)
        o.maskThreshold = try finite("--mask-threshold", o.maskThreshold)
        if let text = try value("--crop-overlap-ratio") {
            guard let v = Double(text), v >= 0 && v < 1 else {
                throw ToolError.usage("\(command): --crop-overlap-ratio '\(text)' is not a number in [0, 1)")
            }
            o.cropOverlapRatio = v
        }
        o.useM2M = flag("--use-m2m")
        o.multimaskOutput = !flag("--no-multimask")
        return o
    }
}
