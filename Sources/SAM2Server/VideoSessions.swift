// VideoSessions: the open videos by id, least recently used first out when their bytes (decoded
// frames, tracking memory) exceed the memory budget — never one being tracked. An evicted video is
// only forgotten here: its kept state is on disk, and the next request for its id opens it again.

import Foundation
import Synchronization

final class VideoSessions: Sendable {
    private struct State {
        var sessions: [String: VideoSession] = [:]
        /// Ids, least recently used first.
        var order: [String] = []
        /// Every id handed out → its video's name, kept after eviction.
        var names: [String: String] = [:]
    }

    private let state = Mutex(State())
    let budgetBytes: Int

    init(budgetBytes: Int) {
        self.budgetBytes = budgetBytes
    }

    /// The session of `id` (now most recently used), or nil when it is not in memory.
    func session(_ id: String) -> VideoSession? {
        state.withLock { s in
            guard let session = s.sessions[id] else { return nil }
            s.order.removeAll { $0 == id }
            s.order.append(id)
            return session
        }
    }

    func name(of id: String) -> String? { state.withLock { $0.names[id] } }

    /// The session already held for `id`, else the one `make` opens, now most recently used; then
    /// evicts idle others over the budget. `make` runs outside the lock (it decodes the video).
    func session(_ id: String, name: String, make: () throws -> VideoSession) throws -> VideoSession {
        if let held = session(id) { return held }
        let made = try make()
        let session = state.withLock { s -> VideoSession in
            s.names[id] = name
            if let held = s.sessions[id] { return held }
            s.sessions[id] = made
            s.order.append(id)
            return made
        }
        account()
        return session
    }

    /// Evicts the least recently used idle videos while the open ones hold more than the budget.
    func account() {
        let sessions = state.withLock { s in s.order.compactMap { s.sessions[$0] } }
        var total = sessions.reduce(0) { $0 + $1.bytes }
        for victim in sessions.dropLast() where total > budgetBytes && !victim.isRunning {
            total -= victim.bytes
            state.withLock { s in
                s.sessions[victim.id] = nil
                s.order.removeAll { $0 == victim.id }
            }
        }
    }

    /// Every open video (to stop their jobs).
    var all: [VideoSession] { state.withLock { Array($0.sessions.values) } }

    var usage: (videos: Int, bytes: Int) {
        let sessions = all
        return (sessions.count, sessions.reduce(0) { $0 + $1.bytes })
    }
}
