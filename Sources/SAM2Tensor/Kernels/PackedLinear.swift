// PackedLinear: a linear layer's weight held in a precision — float32 as loaded, bfloat16 or int8
// (symmetric s8 per output channel) packed once into oneDNN's preferred layout — and the product
// y = act(x · Wᵀ + b) + residual through cached oneDNN matmul primitives. bf16: rows of x rounded
// to bf16, f32 accumulation. int8: rows of x quantized to u8 with their own scale and zero point,
// s32 accumulation, then y = s_x · s_w · (acc − z_x · Σ_k q_w) in the output pass with bias and the rest.

/// A weight [out, in] ready for products in one precision.
public final class PackedLinear: @unchecked Sendable {
    public let precision: Precision
    public let outputs, inputs: Int
    /// The float32 weight (float32 precision only).
    let float: Tensor?
    /// bf16 or s8 weights in oneDNN's packed layout.
    private let packed: UnsafeMutableRawPointer?
    private let packedBytes: Int
    /// int8: the scale of each output channel and the sum of its quantized weights.
    let scales: [Float]
    let columnSums: [Int32]

    public init(_ weight: Tensor, precision: Precision) {
        precondition(weight.rank == 2, "packed linear expects a weight [out, in], got \(weight.shape)")
        (outputs, inputs) = (weight.shape[0], weight.shape[1])
        self.precision = precision
        let (n, k) = (outputs, inputs)
        let w = weight.storage.pointer
        switch precision {
        case .float32:
            (float, packed, packedBytes, scales, columnSums) = (weight, nil, 0, [], [])
        case .bfloat16:
            let plain = UnsafeMutablePointer<UInt16>.allocate(capacity: max(1, n * k))
            defer { plain.deallocate() }
            convertToBFloat16(w, rows: n, columns: k, stride: k, into: plain)
            packedBytes = MatmulPrimitive.packedSize(.bfloat16, n: n, k: k)
            packed = UnsafeMutableRawPointer.allocate(byteCount: packedBytes, alignment: 64)
            MatmulPrimitive.pack(.bfloat16, n: n, k: k, plain: plain, strides: [1, k], into: packed!)
            (float, scales, columnSums) = (nil, [], [])
        case .int8:
            let plain = UnsafeMutablePointer<Int8>.allocate(capacity: max(1, n * k))
            defer { plain.deallocate() }
            var scales = [Float](repeating: 1, count: n)
            var sums = [Int32](repeating: 0, count: n)
            for o in 0..<n {
                let row = w + o * k
                var largest: Float = 0
                for i in 0..<k { largest = max(largest, abs(row[i])) }
                let scale = largest > 0 ? largest / 127 : 1
                var sum: Int32 = 0
                for i in 0..<k {
                    let q = Int8(max(-127, min(127, (row[i] / scale).rounded(.toNearestOrEven))))
                    plain[o * k + i] = q
                    sum += Int32(q)
                }
                (scales[o], sums[o]) = (scale, sum)
            }
            packedBytes = MatmulPrimitive.packedSize(.int8, n: n, k: k)
            packed = UnsafeMutableRawPointer.allocate(byteCount: packedBytes, alignment: 64)
            MatmulPrimitive.pack(.int8, n: n, k: k, plain: plain, strides: [1, k], into: packed!)
            (float, self.scales, columnSums) = (nil, scales, sums)
        }
    }

    deinit { packed?.deallocate() }

    /// Bytes the weight occupies.
    public var byteCount: Int { float.map { $0.count * 4 } ?? packedBytes }

    /// The weight as float32 after its rounding or quantization ([out, in]; plain emulation for tests).
    public var dequantized: Tensor {
        if let float { return float }
        let (n, k) = (outputs, inputs)
        let kind: MatmulPrimitive.Kind = precision == .bfloat16 ? .bfloat16 : .int8
        let size = kind == .bfloat16 ? 2 : 1
        let plain = UnsafeMutableRawPointer.allocate(byteCount: max(1, n * k * size), alignment: 64)
        defer { plain.deallocate() }
        MatmulPrimitive.unpack(kind, n: n, k: k, packed: packed!, strides: [1, k], into: plain)
        let out = Tensor(uninitializedShape: [n, k])
        for o in 0..<n {
            for i in 0..<k {
                let index = o * k + i
                out.storage.pointer[index] =
                    kind == .bfloat16
                    ? Float(bitPattern: UInt32(plain.load(fromByteOffset: 2 * index, as: UInt16.self)) << 16)
                    : Float(plain.load(fromByteOffset: index, as: Int8.self)) * scales[o]
            }
        }
        return out
    }

    /// Runs rows of act(x · Wᵀ + b) + residual into y[rows] (f32) on the calling thread, buffers
    /// supplied by the caller. bf16 applies bias, activation and residual in oneDNN's output stage
    /// (unless oneDNN would fall back to its reference kernel for it), int8 in a pass of its own.
    fileprivate func product(
        _ x: UnsafePointer<Float>, rows: Range<Int>, y: UnsafeMutablePointer<Float>, scratch: UnsafeMutableRawPointer,
        bias: UnsafeMutablePointer<Float>?, activation: Activation, residual: UnsafeMutablePointer<Float>?
    ) {
        let (m, n, k) = (rows.count, outputs, inputs)
        let xr = x + rows.lowerBound * k
        let yr = y + rows.lowerBound * n
        switch precision {
        case .float32:
            preconditionFailure("float32 products go through linear(_:weight:)")
        case .bfloat16:
            let a = scratch.bindMemory(to: UInt16.self, capacity: m * k)
            convertToBFloat16(xr, rows: m, columns: k, stride: k, into: a)
            product(a, rows: rows, y: y, bias: bias, activation: activation, residual: residual)
        case .int8:
            let accumulators = scratch.bindMemory(to: Int32.self, capacity: m * n)
            let rowScales = UnsafeMutablePointer<Float>.allocate(capacity: m)
            let zeros = UnsafeMutablePointer<Int32>.allocate(capacity: m)
            let a = UnsafeMutablePointer<UInt8>.allocate(capacity: m * k)
            defer {
                rowScales.deallocate()
                zeros.deallocate()
                a.deallocate()
            }
            quantizeRowsU8(xr, rows: m, columns: k, stride: k, into: a, scales: rowScales, zeroPoints: zeros)
            MatmulPrimitive.cached(.init(kind: .int8, m: m, n: n, k: k, lda: k, ldc: n, bStrides: nil))
                .execute(a: a, b: packed!, c: accumulators)
            scales.withUnsafeBufferPointer { sw in
                columnSums.withUnsafeBufferPointer { sums in
                    VectorMath.kernels.dequantize_rows(
                        accumulators, m, n, rowScales, zeros, sw.baseAddress, sums.baseAddress, bias, yr)
                }
            }
            linearEpilogue(y, rows: rows, outputs: n, bias: nil, activation: activation, residual: residual)
        }
    }

    /// The bf16 product whose output stage adds b, applies the activation and rounds to bf16:
    /// y (dense [m, outputs], bf16) from x (dense [m, inputs], bf16).
    fileprivate func roundedShape(rows m: Int, bias: Bool, activation: Activation) -> MatmulPrimitive.Shape {
        var shape = MatmulPrimitive.Shape(
            kind: .bfloat16, m: m, n: outputs, k: inputs, lda: inputs, ldc: outputs, bStrides: nil)
        (shape.bias, shape.activation, shape.roundedOutput) = (bias, activation, true)
        return shape
    }

    /// Runs `roundedShape`'s product on the calling thread.
    fileprivate func roundedProduct(
        _ x: UnsafePointer<UInt16>, rows m: Int, y: UnsafeMutablePointer<UInt16>, bias: UnsafeMutablePointer<Float>?,
        activation: Activation
    ) {
        MatmulPrimitive.cached(roundedShape(rows: m, bias: bias != nil, activation: activation))
            .execute(a: x, b: packed!, c: y, bias: bias)
    }

    /// The bf16 product of rows already rounded to bf16 (x dense [rows.count, inputs]) into y[rows].
    fileprivate func product(
        _ x: UnsafePointer<UInt16>, rows: Range<Int>, y: UnsafeMutablePointer<Float>,
        bias: UnsafeMutablePointer<Float>?, activation: Activation, residual: UnsafeMutablePointer<Float>?
    ) {
        let (m, n, k) = (rows.count, outputs, inputs)
        let plain = MatmulPrimitive.Shape(kind: .bfloat16, m: m, n: n, k: k, lda: k, ldc: n, bStrides: nil)
        var shape = plain
        (shape.bias, shape.activation, shape.residual) = (bias != nil, activation, residual != nil)
        let fused = MatmulPrimitive.cached(shape)
        if !fused.isReference || MatmulPrimitive.cached(plain).isReference {
            fused.execute(
                a: x, b: packed!, c: y + rows.lowerBound * n, bias: bias,
                residual: residual.map { $0 + rows.lowerBound * n })
        } else {
            MatmulPrimitive.cached(plain).execute(a: x, b: packed!, c: y + rows.lowerBound * n)
            linearEpilogue(y, rows: rows, outputs: n, bias: bias, activation: activation, residual: residual)
        }
    }

    /// Scratch bytes `product` needs for m rows.
    fileprivate func scratchBytes(rows m: Int) -> Int {
        precision == .bfloat16 ? m * inputs * 2 : m * outputs * 4
    }
}

/// Output elements per row block of an int8 product (512 KiB of s32 accumulators, which the
/// output pass then reads from cache; at least 64 rows): u8 products ran 26% faster per call than
/// with linear's blocks of at least 512 rows (three interleaved runs, ONEDNN_VERBOSE's timings).
let int8BlockElements = 1 << 17

/// [..., in] → [..., out]: act(x · Wᵀ + b) + residual with the weight in its precision.
public func linear(
    _ x: Tensor, weight: PackedLinear, bias: Tensor?, activation: Activation = .identity, residual: Tensor? = nil
) -> Tensor {
    if let float = weight.float {
        return linear(x, weight: float, bias: bias, activation: activation, residual: residual)
    }
    let (n, k) = (weight.outputs, weight.inputs)
    precondition(
        x.rank >= 1 && x.shape[x.rank - 1] == k, "linear: x \(x.shape) does not end in \(k) (weight [\(n), \(k)])")
    if let bias { precondition(bias.count == n, "linear: bias \(bias.shape) does not match \(n) outputs") }
    let rows = x.count / max(k, 1)
    var outShape = x.shape
    outShape[outShape.count - 1] = n
    if let residual {
        precondition(residual.shape == outShape, "linear: residual \(residual.shape) does not match output \(outShape)")
    }
    let out = Tensor(uninitializedShape: outShape)
    if rows == 0 || n == 0 { return out }
    if k == 0 {
        out.storage.pointer.update(repeating: 0, count: out.count)
        linearEpilogue(
            out.storage.pointer, rows: 0..<rows, outputs: n, bias: bias?.storage.pointer, activation: activation,
            residual: residual?.storage.pointer)
        return out
    }
    nonisolated(unsafe) let (y, xp) = (out.storage.pointer, x.storage.pointer)
    nonisolated(unsafe) let (bp, rp) = (bias?.storage.pointer, residual?.storage.pointer)
    let blockRows = weight.precision == .int8 ? max(64, int8BlockElements / n) : max(512, linearBlockElements / n)
    // Contiguous chunks of rows per worker (at least 64 rows each), taken blockRows at a time.
    Parallel.forEachChunk(rows, minimumChunk: 64) { chunk in
        let scratch = UnsafeMutableRawPointer.allocate(
            byteCount: weight.scratchBytes(rows: min(blockRows, chunk.count)), alignment: 64)
        defer { scratch.deallocate() }
        for r0 in stride(from: chunk.lowerBound, to: chunk.upperBound, by: blockRows) {
            let block = r0..<min(chunk.upperBound, r0 + blockRows)
            weight.product(
                xp, rows: block, y: y, scratch: scratch, bias: bp, activation: activation, residual: rp)
        }
    }
    withExtendedLifetime((x, weight, bias, residual)) {}
    return out
}

/// Hidden values per block of rows of `linearPair` in bf16 (1 MiB of bf16), kept in cache between
/// the two products. Against 512 KiB, the MLPs' products ran 21% faster per call (341 rather than 170
/// rows of tiny's stage-3 MLP per product; six interleaved runs, ONEDNN_VERBOSE's timings).
let linearPairBlockElements = 1 << 19

/// [..., in] → [..., out]: second(act(x · W1ᵀ + b1)) + b2 + residual, two linear layers in a row (an
/// MLP). In bf16 the hidden rows never reach memory as f32: per block of rows, the first product's
/// output stage adds b1, applies the activation and rounds to bf16 — what `linear` followed by the
/// second layer's rounding of its input computes — and the second product reads them while they are
/// in cache. Other precisions (or no fast oneDNN kernel) run the two layers one after the other.
public func linearPair(
    _ x: Tensor, first: PackedLinear, firstBias: Tensor?, activation: Activation, second: PackedLinear,
    secondBias: Tensor?, residual: Tensor? = nil
) -> Tensor {
    let (k, hidden, n) = (first.inputs, first.outputs, second.outputs)
    precondition(
        second.inputs == hidden, "linear pair: \(hidden) hidden values, the second layer takes \(second.inputs)")
    let rows = x.count / max(k, 1)
    let blockRows = max(64, linearPairBlockElements / max(hidden, 1))
    guard first.precision == .bfloat16 && second.precision == .bfloat16, x.rank >= 1, x.shape[x.rank - 1] == k,
        rows > 0, k > 0, hidden > 0, n > 0,
        !MatmulPrimitive.cached(
            first.roundedShape(rows: min(rows, blockRows), bias: firstBias != nil, activation: activation)
        ).isReference
    else {
        let h = linear(x, weight: first, bias: firstBias, activation: activation)
        return linear(h, weight: second, bias: secondBias, residual: residual)
    }
    var outShape = x.shape
    outShape[outShape.count - 1] = n
    if let residual {
        precondition(residual.shape == outShape, "linear pair: residual \(residual.shape) does not match \(outShape)")
    }
    precondition(firstBias.map { $0.count == hidden } ?? true, "linear pair: first bias does not match \(hidden)")
    precondition(secondBias.map { $0.count == n } ?? true, "linear pair: second bias does not match \(n)")
    let out = Tensor(uninitializedShape: outShape)
    nonisolated(unsafe) let (y, xp) = (out.storage.pointer, x.storage.pointer)
    nonisolated(unsafe) let (b1, b2) = (firstBias?.storage.pointer, secondBias?.storage.pointer)
    nonisolated(unsafe) let rp = residual?.storage.pointer
    Parallel.forEachChunk(rows, minimumChunk: 64) { chunk in
        let most = min(blockRows, chunk.count)
        let input = UnsafeMutablePointer<UInt16>.allocate(capacity: most * k)
        let hiddenRows = UnsafeMutablePointer<UInt16>.allocate(capacity: most * hidden)
        defer {
            input.deallocate()
            hiddenRows.deallocate()
        }
        for r0 in stride(from: chunk.lowerBound, to: chunk.upperBound, by: blockRows) {
            let block = r0..<min(chunk.upperBound, r0 + blockRows)
            convertToBFloat16(xp + r0 * k, rows: block.count, columns: k, stride: k, into: input)
            first.roundedProduct(input, rows: block.count, y: hiddenRows, bias: b1, activation: activation)
            second.product(hiddenRows, rows: block, y: y, bias: b2, activation: .identity, residual: rp)
        }
    }
    withExtendedLifetime((x, first, second, firstBias, secondBias, residual)) {}
    return out
}
