// Runtime settings shared by everything in SAM2: the number of threads kernels use.

import SAM2Tensor

@_exported import struct SAM2Tensor.Tensor

public enum Runtime {
    /// Threads used by the kernels (Dispatch workers, each calling oneDNN single-threaded); defaults to the cores.
    public static var threadCount: Int { Parallel.threadCount }

    public static func setThreadCount(_ count: Int) { Parallel.configure(threads: count) }
}
