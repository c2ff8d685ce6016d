// OverlappedPipeline: runs items through decode → process → write with the stages overlapping, so
// that a folder runs at the speed of its slowest stage (the image encoder): the next item is decoded on
// a background thread while the caller's thread processes the current one, and outputs are written in
// order on one serial background queue.

import Dispatch
import Foundation
import SAM2
import SAM2IO

public enum OverlappedPipeline {
    /// Calls `process` on the caller's thread for each item in order, with the item's `decode` made
    /// in the background one item ahead and its `write` queued behind (at most `pendingWrites` outputs
    /// waiting, to bound memory). The first error of any stage stops the run: every write queued before
    /// it has finished (or failed) when the error is rethrown, and nothing later is written.
    public static func run<Item: Sendable, Decoded: Sendable, Output: Sendable>(
        _ items: [Item], pendingWrites: Int = 2,
        decode: @escaping @Sendable (Item) throws -> Decoded,
        process: (Item, Decoded) throws -> Output,
        write: @escaping @Sendable (Item, Output) throws -> Void
    ) throws {
        let writer = DispatchQueue(label: "sam2.pipeline.writer")
        let slots = DispatchSemaphore(value: max(pendingWrites, 1))
        let writeFailure = FirstError()
        var next = items.first.map { item in Prefetch { try decode(item) } }
        do {
            for (index, item) in items.enumerated() {
                let current = next!
                next =
                    index + 1 < items.count
                    ? {
                        let following = items[index + 1]
                        return Prefetch { try decode(following) }
                    }() : nil
                let output = try process(item, try current.wait())
                if let error = writeFailure.error { throw error }
                slots.wait()
                writer.async {
                    defer { slots.signal() }
                    guard writeFailure.error == nil else { return }
                    do { try write(item, output) } catch { writeFailure.record(error) }
                }
            }
        } catch {
            writer.sync {}
            throw error
        }
        writer.sync {}
        if let error = writeFailure.error { throw error }
    }
}

/// A value computed on a background thread, waited for once.
private final class Prefetch<Value: Sendable>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<Value, Error>?

    init(_ work: @escaping @Sendable () throws -> Value) {
        DispatchQueue.global().async {
            self.result = Result { try work() }
            self.done.signal()
        }
    }

    func wait() throws -> Value {
        done.wait()
        return try result!.get()
    }
}

/// The first error recorded from any thread.
private final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private var first: Error?

    var error: Error? { lock.withLock { first } }

    func record(_ error: Error) {
        lock.withLock { if first == nil { first = error } }
    }
}
