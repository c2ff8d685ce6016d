// Sharding: K/N parsing, the fixed FNV-1a hash, and N shards covering every input exactly once,
// the same way on every run.

import Testing

@testable import SAM2
@testable import SAM2IO
@testable import SAM2Workflows

@Suite struct ShardTests {
    @Test func parsing() {
        #expect(Shard("0/3") == Shard(index: 0, count: 3))
        #expect(Shard("2/3")?.description == "2/3")
        for bad in ["3/3", "-1/3", "1/0", "a/b", "1", "1/2/3", ""] { #expect(Shard(bad) == nil, "\(bad)") }
    }

    @Test func fixedHash() {
        // Published FNV-1a 64 test vectors: the hash never depends on the process.
        #expect(Shard.fnv1a("") == 0xcbf2_9ce4_8422_2325)
        #expect(Shard.fnv1a("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(Shard.fnv1a("foobar") == 0x8594_4171_f739_67e8)
    }

    @Test func shardsCoverEveryInputOnce() {
        let names = (0..<10).map { String(format: "%012d.jpg", $0 * 7919) }
        for count in [1, 2, 3, 5] {
            let parts = (0..<count).map { k in names.filter { Shard(index: k, count: count)!.contains($0) } }
            #expect(parts.flatMap { $0 }.sorted() == names.sorted(), "N=\(count): union")
            #expect(parts.map(\.count).reduce(0, +) == names.count, "N=\(count): disjoint")
            let again = (0..<count).map { k in names.filter { Shard(index: k, count: count)!.contains($0) } }
            #expect(again == parts)
        }
        // With N=3 over these 10 names no shard is empty (the split depends only on the names).
        #expect((0..<3).allSatisfy { k in names.contains { Shard(index: k, count: 3)!.contains($0) } })
    }
}
