// Parallel: the only threading code of SAM2Tensor. Splits index ranges over Dispatch workers
// (concurrentPerform) and keeps oneDNN's OpenMP thread count in step with our own width.
// Rule against oversubscription: a kernel either calls oneDNN from the calling thread (OpenMP then
// uses threadCount threads) or splits its work with Parallel and calls oneDNN with 1 thread inside.

import CDNNL
import Dispatch
import Foundation
import Synchronization

public enum Parallel {
    private static let width = Atomic<Int>(max(1, ProcessInfo.processInfo.activeProcessorCount))

    /// Number of workers kernels use; defaults to the number of cores.
    public static var threadCount: Int { width.load(ordering: .relaxed) }

    /// Sets the Dispatch width and the OpenMP thread count of the calling thread. oneDNN entry points
    /// (Gemm.sgemm, convolutions) set the OpenMP count again before each call, because OpenMP keeps
    /// it per calling thread.
    public static func configure(threads: Int) {
        let count = max(1, threads)
        width.store(count, ordering: .relaxed)
        omp_set_num_threads(Int32(count))
    }

    /// Calls `body(i)` for every i in 0..<count, in contiguous chunks over at most threadCount workers.
    public static func forEach(_ count: Int, _ body: @Sendable (Int) -> Void) {
        forEachChunk(count) { range in
            for i in range { body(i) }
        }
    }

    /// Splits 0..<count into at most `workers` (default threadCount) contiguous ranges of at least
    /// `minimumChunk` indices and calls `body` once per range, concurrently.
    public static func forEachChunk(_ count: Int, minimumChunk: Int = 1, workers: Int? = nil,
                                    _ body: @Sendable (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let byGrain = (count + max(1, minimumChunk) - 1) / max(1, minimumChunk)
        let n = max(1, min(workers ?? threadCount, count, byGrain))
        if n == 1 {
            body(0..<count)
            return
        }
        DispatchQueue.concurrentPerform(iterations: n) { w in
            body((w * count / n)..<((w + 1) * count / n))
        }
    }
}
