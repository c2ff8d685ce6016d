// VideoTrackingJob: a video's tracking in the background — a thread of its own running the work
// given, its progress (frames done of the total, frames per second), a cancel honoured after the
// frame in flight, and the end state (done, cancelled, failed with the error) for clients polling it.

import Foundation
import Synchronization

final class VideoTrackingJob: Sendable {
    private struct State {
        var status = TrackStatus()
        var cancel = false
        var started: UInt64 = 0
        /// A job's thread runs.
        var active = false
    }

    private struct Cancelled: Error {}

    private let state = Mutex(State())
    /// Signalled when a job's thread ends.
    private let ended = NSCondition()

    var status: TrackStatus { state.withLock { $0.status } }

    /// Starts `work` on a thread of its own (the caller has made sure no job runs); returns the status,
    /// whose frame count `work` sets with `planned` once it knows it.
    func start(start: Int?, reverse: Bool, work: @escaping @Sendable () throws -> Void) -> TrackStatus {
        let thread = Thread { [self] in
            var end = "done"
            var message: String?
            do {
                try work()
            } catch is Cancelled {
                end = "cancelled"
            } catch {
                end = "failed"
                message = APIError.from(error).message
            }
            state.withLock { s in
                s.status.status = end
                s.status.error = message
                s.active = false
            }
            ended.lock()
            ended.broadcast()
            ended.unlock()
        }
        thread.stackSize = 8 << 20
        let status = state.withLock { s in
            s.status = TrackStatus(status: "running", done: 0, total: 0, fps: 0, start: start, reverse: reverse)
            s.cancel = false
            s.started = DispatchTime.now().uptimeNanoseconds
            s.active = true
            return s.status
        }
        thread.start()
        return status
    }

    /// The frames the job tracks, from `start`: known once its prompts are applied.
    func planned(start: Int?, total: Int) {
        state.withLock { s in
            s.status.start = start
            s.status.total = total
            s.started = DispatchTime.now().uptimeNanoseconds
        }
    }

    /// Counts a finished frame; throws to end the job when it was cancelled or the server is stopping.
    func frameDone(stopping: () -> Bool) throws {
        let cancel = state.withLock { s in
            s.status.done += 1
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - s.started) / 1e9
            s.status.fps = seconds > 0 ? Double(s.status.done) / seconds : 0
            return s.cancel
        }
        if cancel || stopping() { throw Cancelled() }
    }

    /// Asks a running job to stop after its frame in flight; false when none runs.
    func cancel() -> Bool {
        state.withLock { s in
            guard s.active else { return false }
            s.cancel = true
            return true
        }
    }

    /// Returns when no job runs.
    func wait() {
        ended.lock()
        while state.withLock({ $0.active }) { ended.wait() }
        ended.unlock()
    }
}
