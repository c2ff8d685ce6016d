// sam2-kernel-bench: measures SAM2Tensor's hot kernels against raw oneDNN sgemm in one run —
// dnnl_sgemm on 4096³, `linear` on [4096, 4096] × [4096, 4096]ᵀ, and blocked attention at 4096 tokens, and the
// memory attention of video tracking (4096 queries against 28,736 keys) in f32 and bf16, and the mask decoder's
// products for one prompt (its folded attention's three shapes, the output upscaling's two per-tile products).
// FLOPs: 2·M·N·K for products, 2·Lq·Lk·(D + Dv) per attention head. The best of R interleaved rounds counts.
// With --peak, instead: the CPU's arithmetic peak on N threads — f32 FMA, bf16 and u8×s8 dot products,
// each thread running independent chains of the instruction — the floor no product can beat
// (tools/reference/floors.py turns it into each precision's floor as a ratio to the reference).
// Usage: swift run -c release sam2-kernel-bench [--threads N] [--repeat R] [--filter TEXT] [--peak]

import CDNNL
import CInstructionPeak
import Foundation
import SAM2Tensor

struct Options {
    var threads = ProcessInfo.processInfo.activeProcessorCount
    var repeats = 5
    var filter: String?
    var peak = false

    init(_ arguments: [String]) {
        var it = arguments.dropFirst().makeIterator()
        while let a = it.next() {
            switch a {
            case "--threads": threads = Int(it.next() ?? "") ?? threads
            case "--repeat": repeats = Int(it.next() ?? "") ?? repeats
            case "--filter": filter = it.next()
            case "--peak": peak = true
            case "-h", "--help":
                print(
                    "usage: sam2-kernel-bench [--threads N] [--repeat R] [--filter TEXT (jobs whose names hold it)]"
                        + " [--peak (the instructions' arithmetic peak instead)]")
                exit(0)
            default:
                FileHandle.standardError.write(Data("unknown argument \(a)\n".utf8))
                exit(2)
            }
        }
    }
}

func filled(_ shape: [Int], seed: UInt32) -> Tensor {
    var state = seed
    let n = Tensor.elementCount(shape)
    var values = [Float](repeating: 0, count: n)
    for i in 0..<n {
        state = state &* 1_664_525 &+ 1_013_904_223
        values[i] = Float(state >> 8) / Float(1 << 24) - 0.5
    }
    return Tensor(shape: shape, scalars: values)
}

let options = Options(CommandLine.arguments)
Parallel.configure(threads: options.threads)
print("sam2-kernel-bench: \(Parallel.threadCount) thread(s), best of \(options.repeats) interleaved rounds")

/// Prints each multiply-add instruction's peak: every worker runs its chains at once (240 million
/// instructions each, a few hundredths of a second); the best of the rounds counts.
func printPeaks() {
    let kinds: [(instruction_peak_kind, String, String)] = [
        (instruction_peak_f32_fma, "f32 FMA", "GFLOP/s"), (instruction_peak_bf16_dot, "bf16 dot product", "GFLOP/s"),
        (instruction_peak_u8s8_dot, "u8×s8 dot product", "GOP/s"),
    ]
    for (kind, name, unit) in kinds {
        let width = Int(instruction_peak_width(kind))
        guard width > 0 else {
            print("peak \(name): not on this CPU")
            continue
        }
        let rounds = 20_000_000
        var best = Double.infinity
        var operations = 0.0
        nonisolated(unsafe) let done = UnsafeMutableBufferPointer<Double>.allocate(capacity: Parallel.threadCount)
        defer { done.deallocate() }
        for _ in 0..<max(1, options.repeats) {
            let start = DispatchTime.now().uptimeNanoseconds
            Parallel.forEach(Parallel.threadCount) { done[$0] = instruction_peak_run(kind, rounds) }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            operations = done.reduce(0, +)
        }
        print(
            String(
                format: "peak %@ (%d-bit): %.1f %@ on %d thread(s)", name, width * 8, operations / best / 1e9, unit,
                Parallel.threadCount))
    }
}
if options.peak {
    printPeaks()
    exit(0)
}

let n = 4096
let a = filled([n, n], seed: 1)
let b = filled([n, n], seed: 2)
let bias = filled([n], seed: 3)
let c = Tensor(uninitializedShape: [n, n])
let gemmFlops = 2.0 * Double(n) * Double(n) * Double(n)
let tokens = 4096
let attentionShapes = [(1, 64), (2, 64), (1, 128), (1, 192)]  // (heads, D), B = 1
let attentionInputs = attentionShapes.map { heads, d in
    (
        filled([1, heads, tokens, d], seed: 4), filled([1, heads, tokens, d], seed: 5),
        filled([1, heads, tokens, d], seed: 6)
    )
}

func rawSgemm(_ transB: CChar) {
    omp_set_num_threads(Int32(options.threads))
    let status = dnnl_sgemm(
        78, transB, Int64(n), Int64(n), Int64(n), 1, a.storage.pointer, Int64(n),
        b.storage.pointer, Int64(n), 0, c.storage.pointer, Int64(n))
    precondition(status == dnnl_success)
}

// Every round runs each kernel once; the machine may be shared, so the best round counts.
var jobs: [(String, Double, () -> Void)] = [
    ("raw dnnl_sgemm 4096³ A·B", gemmFlops, { rawSgemm(78) }),
    ("raw dnnl_sgemm 4096³ A·Bᵀ", gemmFlops, { rawSgemm(84) }),
    ("linear [4096,4096]·[4096,4096]ᵀ + bias", gemmFlops, { _ = linear(a, weight: b, bias: bias) }),
]
for ((heads, d), (q, k, v)) in zip(attentionShapes, attentionInputs) {
    jobs.append(
        (
            "attention B=1 H=\(heads) L=4096 D=\(d)", 4.0 * Double(tokens * tokens * d * heads),
            { _ = scaledDotProductAttention(query: q, key: k, value: v) }
        ))
}
// The global attention of Hiera's third stage at 1024² (tiny: 4 heads of 96 channels over 64×64
// tokens), in float32 and with bf16 products.
let globalInputs = (4...6).map { filled([1, 4, tokens, 96], seed: UInt32($0)) }
for precision in [Precision.float32, .bfloat16] {
    jobs.append(
        (
            "global attention H=4 L=4096 D=96 \(precision == .float32 ? "f32" : "bf16")",
            4.0 * Double(tokens * tokens * 96 * 4),
            {
                _ = scaledDotProductAttention(
                    query: globalInputs[0], key: globalInputs[1], value: globalInputs[2], precision: precision)
            }
        ))
}
// The memory attention of video tracking: a frame's 64×64 tokens against 7 memory frames and 64
// pointer tokens, one head: queries and keys of 256 channels, values the 64-channel memory itself
// (RoPEAttention projects the result), in float32 and with bf16 products.
let (memoryKeys, memoryQuery) = (7 * 4096 + 64, filled([1, 1, tokens, 256], seed: 7))
let (memoryKey, memoryValue) = (filled([1, 1, memoryKeys, 256], seed: 8), filled([1, 1, memoryKeys, 64], seed: 9))
for precision in [Precision.float32, .bfloat16] {
    jobs.append(
        (
            "memory attention Lk=\(memoryKeys) D=256 Dv=64 \(precision == .float32 ? "f32" : "bf16")",
            2.0 * Double(tokens * memoryKeys * (256 + 64)),
            {
                _ = scaledDotProductAttention(
                    query: memoryQuery, key: memoryKey, value: memoryValue, precision: precision)
            }
        ))
}
// The mask decoder's products for one prompt (8 tokens, 8 heads: 64 folded rows) over 64×64 image
// tokens of 256 channels, and the output upscaling's two per-tile products (two token rows a tile,
// one tile a worker at a time).
let (decoderRows, imageTokens, channels) = (64, 4096, 256)
let folded = filled([decoderRows, channels], seed: 10)
let image = filled([imageTokens, channels], seed: 11)
let (probabilities, decoderOut) = (
    filled([decoderRows, imageTokens], seed: 12), Tensor(uninitializedShape: [imageTokens, channels])
)
let decoderFlops = 2.0 * Double(decoderRows * imageTokens * channels)
func decoderProduct(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: Tensor, lda: Int, b: Tensor, ldb: Int) {
    Gemm.sgemm(
        transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, a: a.storage.pointer, lda: lda,
        b: b.storage.pointer, ldb: ldb, beta: 0, c: decoderOut.storage.pointer, ldc: n)
}
jobs += [
    (
        "decoder scores [64,256]·[4096,256]ᵀ", decoderFlops,
        {
            decoderProduct(
                transA: false, transB: true, m: 64, n: imageTokens, k: channels, a: folded, lda: channels, b: image,
                ldb: channels)
        }
    ),
    (
        "decoder mix [64,4096]·[4096,256]", decoderFlops,
        {
            decoderProduct(
                transA: false, transB: false, m: 64, n: channels, k: imageTokens, a: probabilities, lda: imageTokens,
                b: image, ldb: channels)
        }
    ),
    (
        "decoder out [64,4096]ᵀ·[64,256]", decoderFlops,
        {
            decoderProduct(
                transA: true, transB: false, m: imageTokens, n: channels, k: 64, a: probabilities, lda: imageTokens,
                b: folded, ldb: channels)
        }
    ),
]
let upscaleFirst = (filled([256, 256], seed: 13), filled([128, 256], seed: 14))
let upscaleSecond = (filled([64, 128], seed: 15), filled([64, 512], seed: 16))
/// 32 tiles' products C [m, n] = Aᵀ·B (Bᵀ with `transB`), one tile a worker at a time, single-threaded.
func tileProducts(transB: Bool, m: Int, n: Int, k: Int, _ a: Tensor, _ b: Tensor) {
    Parallel.forEachChunk(32) { tiles in
        let out = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
        defer { out.deallocate() }
        for _ in tiles {
            Gemm.sgemm(
                transA: true, transB: transB, m: m, n: n, k: k, alpha: 1, a: a.storage.pointer, lda: m,
                b: b.storage.pointer, ldb: transB ? k : n, beta: 0, c: out, ldc: n, threads: 1)
        }
    }
}
jobs += [
    (
        "upscale convT1 32 × [256,256]ᵀ·[128,256]ᵀ", 32 * 2.0 * 256 * 128 * 256,
        { tileProducts(transB: true, m: 256, n: 128, k: 256, upscaleFirst.0, upscaleFirst.1) }
    ),
    (
        "upscale convT2 32 × [64,128]ᵀ·[64,512]", 32 * 2.0 * 128 * 512 * 64,
        { tileProducts(transB: false, m: 128, n: 512, k: 64, upscaleSecond.0, upscaleSecond.1) }
    ),
]
if let filter = options.filter { jobs = [jobs[0]] + jobs.dropFirst().filter { $0.0.contains(filter) } }
var best = [Double](repeating: .infinity, count: jobs.count)
for (i, job) in jobs.enumerated() {
    _ = i
    job.2()
}  // warm-up
for _ in 0..<max(1, options.repeats) {
    for (i, job) in jobs.enumerated() {
        let start = DispatchTime.now().uptimeNanoseconds
        job.2()
        best[i] = min(best[i], Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        // The raw jobs run OpenMP teams, whose threads spin for a while after the call and would take
        // the cores from the next job's workers (the library itself runs OpenMP one thread wide).
        if job.0.hasPrefix("raw") { Thread.sleep(forTimeInterval: 0.3) }
    }
}
let raw = jobs[0].1 / best[0] / 1e9
for (i, job) in jobs.enumerated() {
    let rate = job.1 / best[i] / 1e9
    let name = job.0.padding(toLength: 46, withPad: " ", startingAt: 0)
    print(
        String(format: "%@ %7.1f GFLOP/s  %6.1f ms  %5.1f%% of raw sgemm", name, rate, best[i] * 1e3, 100 * rate / raw))
}
