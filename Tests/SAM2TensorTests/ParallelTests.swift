// Tests for Parallel and its WorkerPool: every index runs exactly once, also with tasks issued back
// to back (helpers spinning between them), after the helpers went to sleep, from several threads
// at once (the pool busy: Dispatch takes over) and nested inside a task (on the worker's thread).

import Foundation
import Synchronization
import Testing

@testable import SAM2Tensor

/// Per-index hit counts, safe to bump from any thread.
final class Hits: Sendable {
    private let counts: Mutex<[Int]>
    init(_ n: Int) { counts = Mutex([Int](repeating: 0, count: n)) }
    func hit(_ i: Int) { counts.withLock { $0[i] += 1 } }
    var values: [Int] { counts.withLock { $0 } }
}

@Suite struct ParallelTests {
    /// Runs forEachChunk over `count` indices with `workers` and checks each index ran once.
    func expectEachIndexOnce(count: Int, workers: Int, nested: Bool = false) {
        let hits = Hits(count)
        Parallel.forEachChunk(count, workers: workers) { range in
            for i in range {
                if nested {
                    Parallel.forEachChunk(3, workers: 2) { inner in
                        for _ in inner { hits.hit(i) }
                    }
                } else {
                    hits.hit(i)
                }
            }
        }
        let expected = nested ? 3 : 1
        let values = hits.values
        let wrong = values.indices.filter { values[$0] != expected }
        #expect(
            wrong.isEmpty, "count \(count) workers \(workers): indices \(wrong.prefix(5)) ran a wrong number of times")
    }

    @Test func everyIndexRunsOnceBackToBack() {
        for round in 0..<2_000 {
            expectEachIndexOnce(count: 1 + round % 37, workers: 1 + round % 4)
        }
    }

    @Test func aNestedCallRunsWholeOnItsWorker() {
        let ranges = Mutex<[[Int]]>([])
        Parallel.forEachChunk(4, workers: 2) { outer in
            let thread = pthread_self()
            Parallel.forEachChunk(100, workers: 2) { inner in
                ranges.withLock { $0.append([outer.lowerBound, inner.lowerBound, inner.count]) }
                #expect(pthread_equal(pthread_self(), thread) != 0, "a nested range ran on another thread")
            }
        }
        #expect(ranges.withLock { $0.sorted { $0[0] < $1[0] } } == [[0, 0, 100], [2, 0, 100]])
    }

    @Test func tasksAfterTheHelpersSleptAndNestedTasks() {
        expectEachIndexOnce(count: 100, workers: 2)
        Thread.sleep(forTimeInterval: 0.05)  // longer than the helpers' polling
        expectEachIndexOnce(count: 100, workers: 2)
        expectEachIndexOnce(count: 40, workers: 2, nested: true)
    }

    @Test func severalThreadsAtOnce() {
        DispatchQueue.concurrentPerform(iterations: 6) { t in
            for round in 0..<300 { expectEachIndexOnce(count: 5 + (round + t) % 50, workers: 2 + t % 3) }
        }
    }

    @Test func aPoolRunsEachItemOnceOrRefusesWhenBusy() {
        let pool = WorkerPool()
        let hits = Hits(64)
        let refused = Hits(1)
        let ran = pool.run(64) { i in
            hits.hit(i)
            // Busy: a nested run is refused and runs nothing.
            if !pool.run(2, { _ in Issue.record("a busy pool ran an item") }) { refused.hit(0) }
        }
        #expect(ran)
        #expect(hits.values.allSatisfy { $0 == 1 })
        #expect(refused.values == [64])
    }
}
