// Per-mask statistics of the automatic mask generator on logits at a crop's size, computed on the
// CPU over planes in parallel (reference: sam2/utils/amg.py calculate_stability_score,
// batched_mask_to_box, uncrop_masks + mask_to_rle_pytorch).

import SAM2Tensor

enum MaskPlanes {
    /// For each plane of [N, H, W] logits: count(> high) / count(> low) in float32 (NaN when none
    /// is above `low`), the reference's stability score.
    static func stabilityScores(_ logits: Tensor, high: Float, low: Float) -> [Float] {
        let (n, plane) = (logits.shape[0], logits.shape[1] * logits.shape[2])
        return withExtendedLifetime(logits) {
            nonisolated(unsafe) let base = logits.storage.pointer
            return parallelMap(n) { i in
                let p = base + i * plane
                var above = 0
                var union = 0
                for k in 0..<plane {
                    above += p[k] > high ? 1 : 0
                    union += p[k] > low ? 1 : 0
                }
                return Float(above) / Float(union)
            }
        }
    }

    /// The boxes (x0, y0, x1, y1; last inside column and row) of `logits > threshold` on the planes
    /// `indices` of [N, H, W] logits; (0, 0, 0, 0) for an empty mask.
    static func boxes(_ logits: Tensor, indices: [Int], threshold: Float) -> [SIMD4<Int>] {
        let (h, w) = (logits.shape[1], logits.shape[2])
        return withExtendedLifetime(logits) {
            nonisolated(unsafe) let base = logits.storage.pointer
            return parallelMap(indices.count) { k in
                let p = base + indices[k] * h * w
                var x0 = w
                var y0 = h
                var x1 = -1
                var y1 = -1
                for y in 0..<h {
                    let row = p + y * w
                    var first = -1
                    var last = -1
                    for x in 0..<w where row[x] > threshold {
                        if first < 0 { first = x }
                        last = x
                    }
                    if first >= 0 {
                        x0 = min(x0, first)
                        x1 = max(x1, last)
                        y0 = min(y0, y)
                        y1 = y
                    }
                }
                return x1 < 0 ? SIMD4(0, 0, 0, 0) : SIMD4(x0, y0, x1, y1)
            }
        }
    }

    /// Column-major RLEs of `logits > threshold` on the planes `indices`, each placed at `crop` in an
    /// image of imageHeight × imageWidth (zeros outside the crop).
    static func rles(
        _ logits: Tensor, indices: [Int], threshold: Float, crop: CropBox,
        imageHeight: Int, imageWidth: Int
    ) -> [UncompressedRLE] {
        let (h, w) = (logits.shape[1], logits.shape[2])
        return withExtendedLifetime(logits) {
            nonisolated(unsafe) let base = logits.storage.pointer
            return parallelMap(indices.count) { k in
                let p = base + indices[k] * h * w
                var counts: [Int] = []
                var run = 0
                var inside = false
                func outside(_ length: Int) {
                    if inside {
                        counts.append(run)
                        run = 0
                        inside = false
                    }
                    run += length
                }
                for x in 0..<imageWidth {
                    guard x >= crop.x0 && x < crop.x0 + w else {
                        outside(imageHeight)
                        continue
                    }
                    outside(crop.y0)
                    let column = p + (x - crop.x0)
                    for y in 0..<h {
                        let value = column[y * w] > threshold
                        if value != inside {
                            counts.append(run)
                            run = 0
                            inside = value
                        }
                        run += 1
                    }
                    outside(imageHeight - crop.y0 - h)
                }
                counts.append(run)
                return UncompressedRLE(height: imageHeight, width: imageWidth, counts: counts)
            }
        }
    }

    /// `body(i)` for i in 0..<count, in parallel, collected in order.
    private static func parallelMap<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
        [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            nonisolated(unsafe) let results = buffer.baseAddress
            Parallel.forEach(count) { i in (results! + i).initialize(to: body(i)) }
            initialized = count
        }
    }
}
