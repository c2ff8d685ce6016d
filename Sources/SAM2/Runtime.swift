// Runtime settings shared by everything in SAM2: the number of threads kernels use.

@_exported import struct SAM2Tensor.Tensor
import SAM2Tensor

public enum Runtime {
    /// Threads used by the kernels (our Dispatch workers and oneDNN's OpenMP); defaults to the cores.
    public static var threadCount: Int { Parallel.threadCount }

    public static func setThreadCount(_ count: Int) { Parallel.configure(threads: count) }
}
