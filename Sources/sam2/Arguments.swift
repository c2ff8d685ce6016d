// Command-line argument parsing for the `sam2` tool: options (`--name VALUE` or `--name=VALUE`),
// repeatable options, flags and positionals; anything unknown is a usage error.

import Foundation
import SAM2IO

/// A failure the tool reports on one line of stderr: usage errors exit with 2, runtime errors with 1.
enum ToolError: Error, CustomStringConvertible {
    case usage(String)
    case runtime(String)

    var description: String {
        switch self {
        case .usage(let m), .runtime(let m): return m
        }
    }
}

struct Arguments {
    private var remaining: [String]
    let command: String

    init(command: String, _ arguments: [String]) {
        self.command = command
        remaining = arguments
    }

    /// True when `--help` or `-h` was given.
    var wantsHelp: Bool { remaining.contains("--help") || remaining.contains("-h") }

    /// Every value of a repeatable option, in order.
    mutating func values(_ name: String) throws -> [String] {
        var found: [String] = []
        var i = 0
        while i < remaining.count {
            let arg = remaining[i]
            if arg == name {
                guard i + 1 < remaining.count else { throw ToolError.usage("\(command): \(name) needs a value") }
                found.append(remaining[i + 1])
                remaining.removeSubrange(i...(i + 1))
            } else if arg.hasPrefix(name + "=") {
                found.append(String(arg.dropFirst(name.count + 1)))
                remaining.remove(at: i)
            } else {
                i += 1
            }
        }
        return found
    }

    /// The value of an option given at most once.
    mutating func value(_ name: String) throws -> String? {
        let all = try values(name)
        guard all.count <= 1 else {
            throw ToolError.usage("\(command): \(name) given \(all.count) times; give it once")
        }
        return all.first
    }

    mutating func int(_ name: String, default fallback: Int? = nil, range: ClosedRange<Int>? = nil) throws -> Int? {
        guard let text = try value(name) else { return fallback }
        guard let v = Int(text), range.map({ $0.contains(v) }) ?? true else {
            let expected = range.map { "an integer in \($0.lowerBound)…\($0.upperBound)" } ?? "an integer"
            throw ToolError.usage("\(command): \(name) '\(text)' is not \(expected)")
        }
        return v
    }

    mutating func float(_ name: String, default fallback: Float? = nil, range: ClosedRange<Float>? = nil) throws
        -> Float?
    {
        guard let text = try value(name) else { return fallback }
        guard let v = Float(text), v.isFinite, range.map({ $0.contains(v) }) ?? true else {
            let expected = range.map { "a number in [\($0.lowerBound), \($0.upperBound)]" } ?? "a finite number"
            throw ToolError.usage("\(command): \(name) '\(text)' is not \(expected)")
        }
        return v
    }

    /// `--max-megapixels N`: the largest image read (default: ImageLimits' 50 megapixels).
    mutating func imageLimits() throws -> ImageLimits {
        try int("--max-megapixels", range: 1...2000).map { ImageLimits(megapixels: $0) } ?? ImageLimits()
    }

    /// True when the flag `name` is among the arguments (left for its owner to take).
    func contains(_ name: String) -> Bool { remaining.contains(name) }

    mutating func flag(_ name: String) -> Bool {
        let before = remaining.count
        remaining.removeAll { $0 == name }
        return remaining.count != before
    }

    /// The positional arguments; any remaining option is unknown.
    mutating func positionals() throws -> [String] {
        if let unknown = remaining.first(where: { $0.hasPrefix("-") && $0.count > 1 && Double($0) == nil }) {
            throw ToolError.usage("\(command): unknown option \(unknown) (see sam2 \(command) --help)")
        }
        defer { remaining = [] }
        return remaining
    }

    /// Parses "a,b,c" into exactly `count` finite numbers (`count` nil: any number of them).
    func numbers(_ text: String, option: String, counts: Set<Int>) throws -> [Float] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        let values = parts.map { Float($0) }
        guard counts.contains(parts.count), values.allSatisfy({ $0 != nil }) else {
            let shape = counts.sorted().map { String($0) }.joined(separator: " or ")
            throw ToolError.usage("\(command): \(option) '\(text)' is not \(shape) comma-separated numbers")
        }
        return values.map { $0! }
    }
}
