// Gemm: the one matrix-product entry point of SAM2Tensor (row-major, BLAS-like arguments) on top of
// oneDNN's dnnl_sgemm, and `sgemmPlain`, a straightforward triple loop that tests use as the oracle.

import CDNNL

public enum Gemm {
    /// C = alpha · op(A) · op(B) + beta · C, all row-major. op(A) is m×k, op(B) is k×n, C is m×n.
    /// With beta == 0, C is not read. `threads` is the number of workers (default:
    /// Parallel.threadCount, or 1 for products too small to pay for waking other threads); pass 1
    /// inside Parallel workers. Several workers split the rows of C (or its columns when it has few
    /// rows) over Parallel and run oneDNN single-threaded, so OpenMP's threads never compete with ours.
    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int? = nil
    ) {
        checkArguments(transA: transA, transB: transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
        if m == 0 || n == 0 { return }
        if k == 0 || alpha == 0 {
            scaleOutput(m: m, n: n, beta: beta, c: c, ldc: ldc)
            return
        }
        let workers = max(1, threads ?? defaultThreads(m * n * k))
        if workers == 1 {
            serial(
                transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                beta: beta, c: c, ldc: ldc)
            return
        }
        nonisolated(unsafe) let (ap, bp, cp) = (a, b, c)
        if m >= n || m >= 64 * workers {
            Parallel.forEachChunk(m, minimumChunk: 16, workers: workers) { rows in
                serial(
                    transA: transA, transB: transB, m: rows.count, n: n, k: k, alpha: alpha,
                    a: ap + (transA ? rows.lowerBound : rows.lowerBound * lda), lda: lda, b: bp, ldb: ldb,
                    beta: beta, c: cp + rows.lowerBound * ldc, ldc: ldc)
            }
        } else {
            Parallel.forEachChunk(n, minimumChunk: 16, workers: workers) { cols in
                serial(
                    transA: transA, transB: transB, m: m, n: cols.count, k: k, alpha: alpha, a: ap, lda: lda,
                    b: bp + (transB ? cols.lowerBound * ldb : cols.lowerBound), ldb: ldb,
                    beta: beta, c: cp + cols.lowerBound, ldc: ldc)
            }
        }
    }

    /// One oneDNN call on the calling thread (OpenMP width 1).
    private static func serial(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        omp_set_num_threads(1)
        let status = dnnl_sgemm(
            transA ? 84 : 78, transB ? 84 : 78, Int64(m), Int64(n), Int64(k), alpha,
            a, Int64(lda), b, Int64(ldb), beta, c, Int64(ldc))
        precondition(status == dnnl_success, "dnnl_sgemm failed (status \(status.rawValue)) for m=\(m) n=\(n) k=\(k)")
    }

    /// Plain reference: the same contract as `sgemm`, a triple loop with Double accumulation.
    public static func sgemmPlain(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int? = nil
    ) {
        checkArguments(transA: transA, transB: transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    sum += Double(av) * Double(bv)
                }
                let old = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
                c[i * ldc + j] = Float(Double(alpha) * sum + old)
            }
        }
    }

    /// Products below about 128³ multiply-adds stay on the calling thread.
    static let smallProduct = 1 << 21

    /// Default number of workers for a product of `work` multiply-adds.
    static func defaultThreads(_ work: Int) -> Int {
        work < smallProduct ? 1 : Parallel.threadCount
    }

    private static func checkArguments(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        lda: Int, ldb: Int, ldc: Int
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "negative GEMM size m=\(m) n=\(n) k=\(k)")
        precondition(lda >= max(1, transA ? m : k), "lda \(lda) too small")
        precondition(ldb >= max(1, transB ? k : n), "ldb \(ldb) too small")
        precondition(ldc >= max(1, n), "ldc \(ldc) too small")
    }

    private static func scaleOutput(m: Int, n: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        for i in 0..<m {
            let row = c + i * ldc
            if beta == 0 {
                row.update(repeating: 0, count: n)
            } else if beta != 1 {
                for j in 0..<n { row[j] *= beta }
            }
        }
    }
}
