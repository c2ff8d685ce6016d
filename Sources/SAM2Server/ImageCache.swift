// ImageCache: the open images by id, least recently used first out when their bytes (pixels and
// features) exceed the memory budget. An evicted image is only forgotten by the cache: requests
// still using it finish, and the next request for its id opens it again from the project folder.

import Foundation
import Synchronization

final class ImageCache: Sendable {
    private struct State {
        var sessions: [String: ImageSession] = [:]
        /// Ids, least recently used first.
        var order: [String] = []
        var bytes: [String: Int] = [:]
        /// Every id handed out → its image's name, kept after eviction.
        var names: [String: String] = [:]
    }

    private let state = Mutex(State())
    let budgetBytes: Int

    init(budgetBytes: Int) {
        self.budgetBytes = budgetBytes
    }

    /// The session of `id` (now most recently used), or nil when it is not in memory.
    func session(_ id: String) -> ImageSession? {
        state.withLock { s in
            guard let session = s.sessions[id] else { return nil }
            s.order.removeAll { $0 == id }
            s.order.append(id)
            return session
        }
    }

    /// The name of the image an id was handed out for, in memory or not.
    func name(of id: String) -> String? { state.withLock { $0.names[id] } }

    /// The session already held for `session.id`, else `session`, now held and most recently used.
    func insert(_ session: ImageSession) -> ImageSession {
        state.withLock { s in
            s.names[session.id] = session.name
            if let held = s.sessions[session.id] {
                s.order.removeAll { $0 == session.id }
                s.order.append(session.id)
                return held
            }
            s.sessions[session.id] = session
            s.order.append(session.id)
            s.bytes[session.id] = 0
            return session
        }
    }

    /// Records what a session holds now and evicts the least recently used others over the budget.
    func account(_ session: ImageSession) {
        let bytes = session.bytes
        state.withLock { s in
            guard s.sessions[session.id] != nil else { return }
            s.bytes[session.id] = bytes
            var total = s.bytes.values.reduce(0, +)
            var i = 0
            while total > budgetBytes && i < s.order.count {
                let victim = s.order[i]
                if victim == session.id {
                    i += 1
                    continue
                }
                total -= s.bytes[victim] ?? 0
                s.sessions[victim] = nil
                s.bytes[victim] = nil
                s.order.remove(at: i)
            }
        }
    }

    /// Images in memory and their bytes.
    var usage: (images: Int, bytes: Int) {
        state.withLock { ($0.sessions.count, $0.bytes.values.reduce(0, +)) }
    }
}
