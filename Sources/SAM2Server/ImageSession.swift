// ImageSession: one open image — its pixels, a SAM2ImagePredictor holding the image's features
// (encoded once), and the low-resolution logits of recent masks that clients may feed back as
// mask prompts. A predictor keeps per-image state and is not safe to share, so every use of it
// goes through the session's lock; the model itself is shared read-only by all sessions.

import Foundation
import SAM2
import SAM2IO
import SAM2Workflows

final class ImageSession: @unchecked Sendable {
    let id: String
    let name: String
    let image: RGBImage
    private let lock = NSLock()
    private let predictor: SAM2ImagePredictor
    private var encoded = false
    /// Recent masks' low-resolution logits by mask id, oldest first.
    private var logits: [(id: String, logits: Tensor)] = []
    static let keptLogits = 32

    init(id: String, name: String, image: RGBImage, model: SAM2Model) {
        self.id = id
        self.name = name
        self.image = image
        predictor = SAM2ImagePredictor(model: model)
    }

    /// Computes the image's features unless done already; returns the milliseconds spent (0 when cached).
    func encode() throws -> Double {
        try lock.withLock { try encodeLocked() }
    }

    private func encodeLocked() throws -> Double {
        guard !encoded else { return 0 }
        let ms = try milliseconds { try predictor.setImage(image) }
        encoded = true
        return ms
    }

    /// Bytes held: pixels, features, prepared decoder tokens and kept logits.
    var bytes: Int {
        lock.withLock {
            image.pixels.count + predictor.cachedBytes
                + logits.reduce(0) { $0 + $1.logits.count * MemoryLayout<Float>.stride }
        }
    }

    /// Masks for a prompt; `maskInput` names kept logits. Returns the prediction and its mask ids.
    func predict(
        points: [SIMD2<Float>], labels: [Int], box: SIMD4<Float>?, maskInput: String?,
        multimask: Bool, newID: () -> String
    ) throws -> (prediction: SAM2Prediction, ids: [String], milliseconds: Double) {
        try lock.withLock {
            let mask = try maskInput.map { name -> Tensor in
                guard let kept = logits.first(where: { $0.id == name }) else {
                    throw APIError.notFound(
                        "unknown mask_input '\(name)' for image \(id) (masks are kept for the last \(Self.keptLogits) "
                            + "predictions' masks)"
                    )
                }
                return kept.logits
            }
            _ = try encodeLocked()
            var prediction: SAM2Prediction!
            let ms = try milliseconds {
                prediction = try predictor.predict(
                    points: points, labels: labels, box: box, maskInput: mask, multimaskOutput: multimask)
            }
            let side = prediction.lowResLogits.dim(1)
            let ids = prediction.scores.indices.map { _ in newID() }
            for (k, maskID) in ids.enumerated() {
                logits.append((maskID, prediction.lowResLogits.slice(axis: 0, k..<(k + 1)).reshaped([1, side, side])))
            }
            logits.removeFirst(max(0, logits.count - Self.keptLogits))
            return (prediction, ids, ms)
        }
    }
}

/// Wall-clock milliseconds of `body`.
func milliseconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
}
