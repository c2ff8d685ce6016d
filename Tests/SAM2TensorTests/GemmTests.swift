// Tests for Parallel and Gemm: oneDNN sgemm against the plain triple loop, all transpose cases,
// leading dimensions larger than the matrix, beta handling and single-thread calls from workers.

import Foundation
import SAM2Tensor
import Testing

@Suite struct GemmTests {
    @Test func parallelVisitsEveryIndexOnce() {
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 1000)
        counts.initialize(repeating: 0, count: 1000)
        defer { counts.deallocate() }
        nonisolated(unsafe) let c = counts
        Parallel.forEach(1000) { i in c[i] += 1 }
        #expect((0..<1000).allSatisfy { counts[$0] == 1 })
        #expect(Parallel.threadCount >= 1)
    }

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func sgemmMatchesPlain(transA: Bool, transB: Bool) {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        let (m, n, k) = (37, 53, 71)
        let lda = (transA ? m : k) + 3
        let ldb = (transB ? k : n) + 5
        let ldc = n + 2
        let a = randomTensor([(transA ? k : m) * lda], &rng)
        let b = randomTensor([(transB ? n : k) * ldb], &rng)
        let c0 = randomTensor([m * ldc], &rng)
        for (alpha, beta) in [(Float(1), Float(0)), (Float(0.5), Float(1)), (Float(-2), Float(0.25))] {
            var fast = c0.scalars
            var plain = c0.scalars
            Gemm.sgemm(
                transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a.storage.pointer, lda: lda,
                b: b.storage.pointer, ldb: ldb, beta: beta, c: &fast, ldc: ldc)
            Gemm.sgemmPlain(
                transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a.storage.pointer, lda: lda,
                b: b.storage.pointer, ldb: ldb, beta: beta, c: &plain, ldc: ldc)
            #expect(relativeL2(fast, plain) <= 1e-5, "seed \(seed) alpha \(alpha) beta \(beta)")
            // Padding columns of C are untouched.
            for i in 0..<m { for j in n..<ldc { #expect(fast[i * ldc + j] == c0.scalars[i * ldc + j]) } }
        }
    }

    @Test func betaZeroIgnoresGarbageInC() {
        var rng = SeededGenerator(seed: freshSeed())
        let a = randomTensor([8, 9], &rng)
        let b = randomTensor([9, 10], &rng)
        var c = [Float](repeating: .nan, count: 80)
        Gemm.sgemm(
            transA: false, transB: false, m: 8, n: 10, k: 9, alpha: 1, a: a.storage.pointer, lda: 9,
            b: b.storage.pointer, ldb: 10, beta: 0, c: &c, ldc: 10)
        #expect(c.allSatisfy { $0.isFinite })
    }

    @Test func singleThreadCallsInsideWorkers() {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        let a = randomTensor([4, 64, 32], &rng)
        let b = randomTensor([32, 48], &rng)
        let out = Tensor(uninitializedShape: [4, 64, 48])
        nonisolated(unsafe) let (ap, bp, op) = (a.storage.pointer, b.storage.pointer, out.storage.pointer)
        Parallel.forEach(4) { i in
            Gemm.sgemm(
                transA: false, transB: false, m: 64, n: 48, k: 32, alpha: 1, a: ap + i * 64 * 32, lda: 32,
                b: bp, ldb: 48, beta: 0, c: op + i * 64 * 48, ldc: 48, threads: 1)
        }
        var plain = [Float](repeating: 0, count: 4 * 64 * 48)
        for i in 0..<4 {
            plain.withUnsafeMutableBufferPointer { p in
                Gemm.sgemmPlain(
                    transA: false, transB: false, m: 64, n: 48, k: 32, alpha: 1, a: ap + i * 64 * 32, lda: 32,
                    b: bp, ldb: 48, beta: 0, c: p.baseAddress! + i * 64 * 48, ldc: 48)
            }
        }
        #expect(relativeL2(out.scalars, plain) <= 1e-5, "seed \(seed)")
    }
}
