// RequestWorkers: the threads that run HTTPServer's handler off libmicrohttpd's polling threads.
// Threads start on demand up to a maximum and then stay; requests beyond wait their turn in order.

import Foundation

final class RequestWorkers: @unchecked Sendable {
    private let maximum: Int
    /// Everything below is guarded by `condition`'s lock.
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var next = 0
    private var threads = 0
    private var idle = 0
    /// Jobs queued or running.
    private var unfinished = 0
    private var closed = false

    init(maximum: Int) {
        self.maximum = maximum
    }

    /// Calls `before` and queues `job`, both under the lock (so that the job cannot start before
    /// `before` has returned); returns false, calling neither, once closed.
    func submit(_ job: @escaping @Sendable () -> Void, before: () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return false }
        before()
        jobs.append(job)
        unfinished += 1
        if idle == 0 && threads < maximum {
            threads += 1
            let thread = Thread { [self] in loop() }
            thread.stackSize = 8 << 20
            thread.start()
        } else {
            condition.signal()
        }
        return true
    }

    /// Refuses new jobs and returns when every queued one has run; the threads then end.
    func close() {
        condition.lock()
        closed = true
        while unfinished > 0 { condition.wait() }
        condition.broadcast()
        condition.unlock()
    }

    private func loop() {
        condition.lock()
        while true {
            while next == jobs.count && !closed {
                idle += 1
                condition.wait()
                idle -= 1
            }
            if next == jobs.count {
                threads -= 1
                condition.unlock()
                return
            }
            let job = jobs[next]
            next += 1
            if next == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                next = 0
            }
            condition.unlock()
            job()
            condition.lock()
            unfinished -= 1
            if unfinished == 0 { condition.broadcast() }
        }
    }
}
