// Shard: a deterministic K-th of N parts of a set of inputs, so that a batch engine (Kubernetes
// Indexed Jobs, Slurm job arrays) can spread a dataset over workers (SPEC §7).

/// Part `index` (0-based) of `count`: an input belongs to the part its 64-bit FNV-1a hash, taken
/// over the UTF-8 bytes of its path relative to the input folder, selects (hash mod count). The hash
/// is fixed (not Swift's per-process seeded `Hasher`), so every run on every machine agrees, and adding
/// files to the folder moves no other file to another part.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init?(index: Int, count: Int) {
        guard count >= 1, (0..<count).contains(index) else { return nil }
        self.index = index
        self.count = count
    }

    /// Parses "K/N" with 0 ≤ K < N.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else { return nil }
        self.init(index: k, count: n)
    }

    public var description: String { "\(index)/\(count)" }

    public func contains(_ relativePath: String) -> Bool {
        Int(Shard.fnv1a(relativePath) % UInt64(count)) == index
    }

    /// The 64-bit FNV-1a hash of a string's UTF-8 bytes.
    public static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }
}
