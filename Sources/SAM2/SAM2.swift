// Module SAM2: the model — configuration, the modules of the reference file by file, the image, video
// and streaming predictors and the automatic mask generator. Pixels (`RGBImage`) and prompts go in,
// tensors and records come out; no codec, no file format beyond checkpoints. `Runtime` is its facade
// for the thread settings and the parallel loops that code above it may use.

import SAM2Tensor

@_exported import enum SAM2Tensor.Precision
@_exported import struct SAM2Tensor.Tensor

public enum Runtime {
    /// Threads used by the kernels (Dispatch workers, each calling oneDNN single-threaded); defaults to the cores.
    public static var threadCount: Int { Parallel.threadCount }

    public static func setThreadCount(_ count: Int) { Parallel.configure(threads: count) }

    /// `body(i)` for every i in 0..<count, spread over the kernels' workers; returns when all are done.
    public static func parallelForEach(_ count: Int, _ body: @Sendable (Int) -> Void) {
        Parallel.forEach(count, body)
    }
}
