// VideoFrameSource: where the video predictor gets its frames (a folder of JPEGs, a video file, a
// live stream — all in SAM2IO or the caller's code), and the reference's per-frame preprocessing
// (`load_video_frames` in sam2/utils/misc.py: PIL bicubic resize on 8-bit data, /255 in double
// precision, ImageNet normalisation).

import SAM2Tensor

/// Where the tracker gets its frames: how many, their size, and each frame's pixels on demand.
public protocol VideoFrameSource: Sendable {
    var frameCount: Int { get }
    var width: Int { get }
    var height: Int { get }
    func frame(_ index: Int) throws -> RGBImage
    /// The video's length as the tracker's memory sees it (`num_frames`, which bounds the object
    /// pointers it looks back on); the frame count, unless the source is still growing.
    var trackedLength: Int { get }
}

extension VideoFrameSource {
    public var trackedLength: Int { frameCount }
}

/// The reference's video frame preprocessing: an 8-bit frame → normalised input [1, 3, S, S].
func videoFrameInput(_ image: RGBImage, size: Int, mean: [Float], std: [Float]) -> Tensor {
    let resized = resizeBicubicPIL(
        image.pixels, width: image.width, height: image.height, channels: 3, toWidth: size, toHeight: size)
    let plane = size * size
    var chw = [Float](repeating: 0, count: 3 * plane)
    for i in 0..<plane {
        for c in 0..<3 {
            // ref: numpy divides in double, the result is stored as float32, then normalised in float32
            let v = Float(Double(resized[i * 3 + c]) / 255.0)
            chw[c * plane + i] = (v - mean[c]) / std[c]
        }
    }
    return Tensor(shape: [1, 3, size, size], scalars: chw)
}
