// FuzzTarget: one fuzz target — a name, the committed fixtures that seed its corpus, and an entry that
// hands the input to one library API. sam2-fuzz runs the targets under libFuzzer; SAM2FuzzTests replays
// the saved findings through the same entries.

import Foundation

/// What a target made of one input.
public struct FuzzResult: Sendable {
    /// "accepted: <summary>" or "refused: <the library's error message>".
    public var outcome: String
    /// Promises broken: an error message that is empty or spans lines, a Foundation error passed on
    /// untyped; an invariant of an accepted value that does not hold. Empty when all is well.
    public var problems: [String]
}

/// An invariant that an accepted value breaks (a bug), as opposed to the library refusing bad input.
struct FuzzViolation: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

public struct FuzzTarget: Sendable {
    public let name: String
    /// What the input is and what the entry does with it.
    public let summary: String
    /// The largest input worth generating (libFuzzer's -max_len).
    public let maxLength: Int
    /// Seconds after which one input counts as hanging (libFuzzer's -timeout).
    public let timeout: Int
    /// The seed inputs, from the committed fixtures (name, bytes).
    let seeds: @Sendable (FuzzFixtures) throws -> [(name: String, data: Data)]
    /// Hands the input to the library; returns a summary of what was accepted, or throws the library's error.
    let entry: @Sendable (Data, FuzzScratch) throws -> String

    init(
        name: String, summary: String, maxLength: Int = 4096, timeout: Int = 10,
        seeds: @escaping @Sendable (FuzzFixtures) throws -> [(name: String, data: Data)],
        entry: @escaping @Sendable (Data, FuzzScratch) throws -> String
    ) {
        self.name = name
        self.summary = summary
        self.maxLength = maxLength
        self.timeout = timeout
        self.seeds = seeds
        self.entry = entry
    }

    /// Runs the entry on `data` in a freshly emptied scratch folder and checks what came out.
    public func run(_ data: Data, scratch: FuzzScratch) -> FuzzResult {
        scratch.reset()
        do {
            return FuzzResult(outcome: "accepted: " + (try entry(data, scratch)), problems: [])
        } catch let violation as FuzzViolation {
            return FuzzResult(outcome: "violation", problems: [violation.description])
        } catch {
            let message = String(describing: error)
            var problems = Self.problems(ofMessage: message)
            if error is CocoaError || type(of: error) == NSError.self {
                problems.append("a raw Foundation error reached the caller: \(message)")
            }
            return FuzzResult(outcome: "refused: " + message, problems: problems)
        }
    }

    /// The seed inputs of this target.
    public func seedInputs(_ fixtures: FuzzFixtures = FuzzFixtures()) throws -> [(name: String, data: Data)] {
        try seeds(fixtures)
    }

    /// What is wrong with an error message shown to a user: it must be one non-empty line of text.
    static func problems(ofMessage message: String) -> [String] {
        var problems: [String] = []
        if message.trimmingCharacters(in: .whitespaces).isEmpty { problems.append("empty error message") }
        if message.contains("\n") || message.contains("\r") {
            problems.append("error message of several lines: \(message.debugDescription)")
        }
        return problems
    }

    /// Every target, by name.
    public static let all: [FuzzTarget] = [
        .pickle, .zip, .safetensors, .pt, .npy, .png, .jpeg, .exif, .video, .frameFolder,
        .trackingPrompts, .cocoDetections, .yoloLabels, .cocoMerge, .server,
    ]

    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}
