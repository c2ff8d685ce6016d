// WorkerPool: the threads behind Parallel. Persistent helper threads take the items of a task
// alongside the calling thread; after a task they keep polling for the next one for a short while
// (`spinNanoseconds`) before they sleep. A kernel's parallel sections follow one another within
// microseconds, and a thread woken from sleep on a virtual CPU arrives late: with Dispatch's
// concurrentPerform, a two-thread `predict` issued after 60–500 ms of idle ran nearly as slowly
// as on one thread. A call that finds the pool busy (another thread's kernel) returns false, and
// Parallel hands it to Dispatch instead; calls from inside a task never reach the pool.

import Foundation
import Synchronization

final class WorkerPool: @unchecked Sendable {
    /// How long an idle helper polls for the next task before it sleeps.
    static let spinNanoseconds: UInt64 = 2_000_000

    /// The task word: generation in the high 32 bits, the next item index in the low 32 bits.
    /// Helpers claim items by compare-and-exchange, so an item of an old generation is never taken.
    private let ticket = Atomic<UInt64>(0)
    private let itemCount = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let sleeping = NSCondition()
    /// The current task; written only while no item of any task is running or claimable.
    private nonisolated(unsafe) var task: ((Int) -> Void)?
    private nonisolated(unsafe) var helpers = 0

    /// Runs `body(i)` for i in 0..<count on the calling thread and up to count − 1 helpers, and
    /// returns true when all are done; returns false at once (nothing run) if the pool is busy.
    func run(_ count: Int, _ body: (Int) -> Void) -> Bool {
        guard count < 1 << 31, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else { return false }
        defer { busy.store(false, ordering: .releasing) }
        startHelpers(count - 1)
        withoutActuallyEscaping(body) { body in
            task = body
            itemCount.store(count, ordering: .relaxed)
            pending.store(count, ordering: .relaxed)
            let generation = (ticket.load(ordering: .relaxed) >> 32) &+ 1
            ticket.store(generation << 32, ordering: .releasing)
            sleeping.lock()
            sleeping.broadcast()
            sleeping.unlock()
            work(generation: generation)
            var polls = 0
            while pending.load(ordering: .acquiring) > 0 {
                polls += 1
                if polls > 1000 { sched_yield() }
            }
            task = nil
        }
        return true
    }

    /// Claims and runs items of task `generation` until none is left.
    private func work(generation: UInt64) {
        while true {
            let word = ticket.load(ordering: .acquiring)
            guard word >> 32 == generation, Int(word & 0xFFFF_FFFF) < itemCount.load(ordering: .relaxed) else { return }
            if ticket.compareExchange(expected: word, desired: word + 1, ordering: .acquiringAndReleasing).exchanged {
                task!(Int(word & 0xFFFF_FFFF))
                pending.subtract(1, ordering: .releasing)
            }
        }
    }

    private func startHelpers(_ wanted: Int) {
        while helpers < wanted {
            let thread = Thread { [self] in helperLoop() }
            thread.stackSize = 8 << 20
            thread.start()
            helpers += 1
        }
    }

    private func helperLoop() {
        var seen = ticket.load(ordering: .acquiring) >> 32
        while true {
            let idleSince = DispatchTime.now().uptimeNanoseconds
            var polls: UInt32 = 0
            while ticket.load(ordering: .acquiring) >> 32 == seen {
                // The clock is read every 256 polls: reading it is what the spin would spend its time on.
                polls &+= 1
                if polls & 255 == 0 && DispatchTime.now().uptimeNanoseconds - idleSince > Self.spinNanoseconds {
                    sleeping.lock()
                    while ticket.load(ordering: .acquiring) >> 32 == seen { sleeping.wait() }
                    sleeping.unlock()
                }
            }
            seen = ticket.load(ordering: .acquiring) >> 32
            work(generation: seen)
        }
    }
}
