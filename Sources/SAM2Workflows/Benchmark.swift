// Benchmark: median wall-clock times of set_image and predict, as `sam2 bench` reports them.

import Foundation
import SAM2
import SAM2IO

/// `sam2 bench --json`'s object: config, threads, and the medians in milliseconds (two decimals).
public struct BenchmarkReport: Encodable, Sendable {
    public var config: String
    public var threads: Int
    /// fp32, bf16 or int8.
    public var precision: String
    public var setImageMs: Double
    public var predictMs: Double
    /// The model's weights as held in memory (float32, or packed bf16/int8 for the products), MB.
    public var weightsMB: Double

    public init(config: String, threads: Int, precision: Precision, weightBytes: Int, result: Benchmark.Result) {
        self.config = config
        self.threads = threads
        self.precision = precision.shortName
        setImageMs = (result.setImageMilliseconds * 100).rounded() / 100
        predictMs = (result.predictMilliseconds * 100).rounded() / 100
        weightsMB = (Double(weightBytes) / 1e4).rounded() / 100
    }

    enum CodingKeys: String, CodingKey {
        case config, threads, precision
        case setImageMs = "set_image_ms"
        case predictMs = "predict_ms"
        case weightsMB = "weights_mb"
    }
}

public enum Benchmark {
    public struct Result: Sendable {
        public var setImageMilliseconds: Double
        public var predictMilliseconds: Double
    }

    /// One warm-up run, then `repeats` timed runs of each; predict is one foreground point at the
    /// image centre with three masks, upsampled to the image size.
    /// `step` is called after each timed run (2 · repeats calls).
    public static func run(model: SAM2Model, image: RGBImage, repeats: Int, step: () -> Void = {}) throws -> Result {
        let predictor = SAM2ImagePredictor(model: model)
        let centre = SIMD2(Float(image.width) / 2, Float(image.height) / 2)
        func predict() throws { _ = try predictor.predict(points: [centre], labels: [1], multimaskOutput: true) }
        try predictor.setImage(image)
        try predict()
        var setTimes: [Double] = []
        var predictTimes: [Double] = []
        for _ in 0..<repeats {
            setTimes.append(try milliseconds { try predictor.setImage(image) })
            step()
        }
        for _ in 0..<repeats {
            predictTimes.append(try milliseconds(predict))
            step()
        }
        return Result(setImageMilliseconds: median(setTimes), predictMilliseconds: median(predictTimes))
    }

    /// A deterministic test image: smooth colour gradients with a few discs.
    public static func syntheticImage(side: Int) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: side * side * 3)
        for y in 0..<side {
            for x in 0..<side {
                let i = (y * side + x) * 3
                let dx = Float(x - side / 2)
                let dy = Float(y - side / 2)
                let inDisc = dx * dx + dy * dy < Float(side * side) / 16
                pixels[i] = UInt8((x * 255) / max(side - 1, 1))
                pixels[i + 1] = UInt8((y * 255) / max(side - 1, 1))
                pixels[i + 2] = inDisc ? 230 : 40
            }
        }
        return RGBImage(width: side, height: side, pixels: pixels)
    }

    static func milliseconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
    }

    static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
