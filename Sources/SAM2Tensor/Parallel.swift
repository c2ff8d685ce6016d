// Parallel: the only threading code of SAM2Tensor. Splits index ranges over the WorkerPool's
// threads (or Dispatch's, when the pool is busy). Rules against oversubscription: oneDNN never starts
// OpenMP threads; a kernel splits its work with Parallel and calls oneDNN single-threaded inside each
// worker (an OpenMP team would spin-wait between calls and take the cores from Parallel's workers);
// and a Parallel call made from inside a worker runs on that worker alone (so a loop over pieces of
// work may call the tensor functions, each of which splits its own work, on one piece per worker).

import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

public enum Parallel {
    private static let width = Atomic<Int>(max(1, ProcessInfo.processInfo.activeProcessorCount))
    private static let pool = WorkerPool()

    /// Number of workers kernels use; defaults to the number of cores.
    public static var threadCount: Int { width.load(ordering: .relaxed) }

    /// Sets the number of workers. oneDNN always runs single-threaded on the calling worker (every
    /// oneDNN entry point sets OpenMP's count, kept per calling thread, to 1 before its call).
    public static func configure(threads: Int) {
        width.store(max(1, threads), ordering: .relaxed)
    }

    /// Calls `body(i)` for every i in 0..<count, in contiguous chunks over at most threadCount workers.
    public static func forEach(_ count: Int, _ body: @Sendable (Int) -> Void) {
        forEachChunk(count) { range in
            for i in range { body(i) }
        }
    }

    /// Splits 0..<count into at most `workers` (default threadCount) contiguous ranges of at least
    /// `minimumChunk` indices and calls `body` once per range, concurrently — or once for all of
    /// 0..<count when called from inside a worker.
    public static func forEachChunk(
        _ count: Int, minimumChunk: Int = 1, workers: Int? = nil,
        _ body: @Sendable (Range<Int>) -> Void
    ) {
        guard count > 0 else { return }
        let byGrain = (count + max(1, minimumChunk) - 1) / max(1, minimumChunk)
        let n = max(1, min(workers ?? threadCount, count, byGrain))
        if n == 1 || pthread_getspecific(insideWorker) != nil {
            body(0..<count)
            return
        }
        // Only a thread outside every worker gets here, so the flag is cleared again afterwards.
        let chunk: @Sendable (Int) -> Void = { w in
            pthread_setspecific(insideWorker, UnsafeRawPointer(bitPattern: 1))
            defer { pthread_setspecific(insideWorker, nil) }
            body((w * count / n)..<((w + 1) * count / n))
        }
        if !pool.run(n, chunk) {
            DispatchQueue.concurrentPerform(iterations: n, execute: chunk)
        }
    }

    /// Set (to a non-nil marker) on a thread while it runs a worker's range.
    private static let insideWorker: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "Parallel: no thread-specific key")
        return key
    }()
}
