// The fuzz targets outside libFuzzer: every saved finding (Fixtures/fuzz-regressions/<target>/) and
// every seed replayed through the target's entry, with the target's checks — no crash, an accepted
// value that keeps its invariants, or an error message of one line.

import Foundation
import SAM2FuzzTargets
import Testing

@Suite(.serialized)
struct FuzzRegressionTests {
    static let regressions = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/fuzz-regressions")

    /// The saved inputs of `target`, by file name.
    static func findings(_ target: String) -> [URL] {
        let dir = regressions.appendingPathComponent(target)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.sorted().map { dir.appendingPathComponent($0) }
    }

    @Test func everyRegressionFolderNamesATarget() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.regressions.path)
            .filter { $0 != "README.md" }
        for folder in folders { #expect(FuzzTarget.named(folder) != nil, "no fuzz target \(folder)") }
    }

    @Test(arguments: FuzzTarget.all.map(\.name))
    func findingsReplayCleanly(_ name: String) throws {
        let target = try #require(FuzzTarget.named(name))
        let scratch = try FuzzScratch()
        defer { scratch.remove() }
        for url in Self.findings(name) {
            let result = target.run(try Data(contentsOf: url), scratch: scratch)
            #expect(result.problems.isEmpty, "\(name)/\(url.lastPathComponent): \(result.problems)")
        }
    }

    @Test(arguments: FuzzTarget.all.map(\.name))
    func seedsRunCleanly(_ name: String) throws {
        let target = try #require(FuzzTarget.named(name))
        let scratch = try FuzzScratch()
        defer { scratch.remove() }
        let seeds = try target.seedInputs()
        #expect(!seeds.isEmpty, "\(name) has no seeds")
        var accepted = 0
        for seed in seeds {
            let result = target.run(seed.data, scratch: scratch)
            #expect(result.problems.isEmpty, "\(name)/\(seed.name): \(result.problems)")
            if result.outcome.hasPrefix("accepted") { accepted += 1 }
        }
        // Every target's seeds include valid inputs: the fuzzer starts from files the library reads.
        #expect(accepted > 0, "no seed of \(name) is accepted")
    }
}
