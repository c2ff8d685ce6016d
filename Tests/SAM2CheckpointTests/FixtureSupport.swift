// Test support: locating the committed checkpoint fixtures and their expected values
// (written by tools/reference/make_checkpoint_fixtures.py into Fixtures/expected.json).

import Foundation
import SAM2Checkpoint
import SAM2Tensor

enum Fixtures {
    static func url(_ name: String) -> URL {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(name)
    }

    struct ExpectedTensor {
        let dtype: String
        let shape: [Int]
        let values: [Float]
    }

    /// expected.json: file name → key → dtype, shape, values (as float32).
    static let expected: [String: [String: ExpectedTensor]] = {
        let data = try! Data(contentsOf: url("expected.json"))
        let json = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        var out: [String: [String: ExpectedTensor]] = [:]
        for (file, value) in json {
            guard let tensors = value as? [String: Any] else { continue }
            var entries: [String: ExpectedTensor] = [:]
            for (key, t) in tensors {
                let t = t as! [String: Any]
                entries[key] = ExpectedTensor(
                    dtype: t["dtype"] as! String, shape: t["shape"] as! [Int],
                    values: (t["values"] as! [Double]).map { Float($0) })
            }
            out[file] = entries
        }
        return out
    }()

    static let pwnedMarker: String = {
        let data = try! Data(contentsOf: url("expected.json"))
        let json = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        return json["_pwned_marker"] as! String
    }()
}

/// The error a closure throws, as a CheckpointError (nil when it throws nothing or something else).
func checkpointError(_ body: () throws -> Void) -> CheckpointError? {
    do {
        try body()
        return nil
    } catch let error as CheckpointError {
        return error
    } catch {
        return nil
    }
}
