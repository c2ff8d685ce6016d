// MatmulPrimitive: oneDNN's matmul primitive for reduced-precision products (bf16 × bf16 → f32,
// u8 × s8 → s32), created once per shape and kept in a cache, with weights packed once into the
// layout the primitive prefers. Primitives are created and run on the calling thread (OpenMP width
// 1), as everything oneDNN does here; a created primitive may run on several threads at once, each
// execution with its own scratchpad (oneDNN's library scratchpad belongs to the creating thread).

import CDNNL
import Synchronization

final class MatmulPrimitive: @unchecked Sendable {
    /// What a product multiplies: bf16 × bf16 with f32 results, or u8 × s8 with s32 results.
    enum Kind: Hashable, Sendable {
        case bfloat16, int8

        var source: dnnl_data_type_t { self == .bfloat16 ? dnnl_bf16 : dnnl_u8 }
        var weights: dnnl_data_type_t { self == .bfloat16 ? dnnl_bf16 : dnnl_s8 }
        var destination: dnnl_data_type_t { self == .bfloat16 ? dnnl_f32 : dnnl_s32 }
    }

    /// A product's shape and its operands' row strides (elements); the weights are either packed
    /// (the layout chosen by oneDNN for [k, n]) or a strided plain matrix. C = scale · A·B, added to
    /// C's previous values when `accumulate`.
    struct Shape: Hashable, Sendable {
        var kind: Kind
        var m, n, k: Int
        var lda, ldc: Int
        /// Element strides of B's [k, n] dimensions, nil for packed weights.
        var bStrides: [Int]?
        var scale: Float = 1
        var accumulate = false
        /// Rows the packed weights' layout was chosen for.
        var layoutRows = MatmulPrimitive.defaultLayoutRows
        /// bf16 output stage: a bias [n] added, then the activation, then a residual [m, n] (row
        /// stride ldc) added — `linearEpilogue` in oneDNN's post-ops.
        var bias = false
        var activation = Activation.identity
        var residual = false
        /// bf16 results instead of f32 (bf16 kind only): the output stage's values rounded to
        /// nearest even, as a separate f32 → bf16 conversion would round them.
        var roundedOutput = false
    }

    /// The created primitive, run with a scratchpad of its own per execution.
    let created: OneDNN.Primitive
    let source, weights, destination: dnnl_memory_desc_t
    /// The output stage's operands (Shape.bias, Shape.residual), and the residual's argument index.
    let bias, residual: dnnl_memory_desc_t?
    let residualArgument: Int32
    /// True when oneDNN fell back to its reference implementation (slow: callers that can pass the
    /// weights another way should).
    let isReference: Bool

    private init(_ shape: Shape, packedWeights: dnnl_memory_desc_t?) {
        let (m, n, k) = (Int64(shape.m), Int64(shape.n), Int64(shape.k))
        source = OneDNN.stridedDesc([m, k], [Int64(shape.lda), 1], shape.kind.source)
        precondition(!shape.roundedOutput || shape.kind == .bfloat16, "matmul: rounded output needs the bf16 kind")
        destination = OneDNN.stridedDesc(
            [m, n], [Int64(shape.ldc), 1], shape.roundedOutput ? dnnl_bf16 : shape.kind.destination)
        if let strides = shape.bStrides {
            weights = OneDNN.stridedDesc([k, n], strides.map { Int64($0) }, shape.kind.weights)
        } else {
            weights = packedWeights ?? Self.anyLayout([k, n], shape.kind.weights)
        }
        var (src, wei, dst) = (source, weights, destination)
        bias = shape.bias ? OneDNN.stridedDesc([1, n], [n, 1], dnnl_f32) : nil
        residual = shape.residual ? OneDNN.stridedDesc([m, n], [Int64(shape.ldc), 1], dnnl_f32) : nil
        var desc = dnnl_matmul_desc_t()
        if var biasDesc = bias {
            OneDNN.check(dnnl_matmul_desc_init(&desc, &src, &wei, &biasDesc, &dst), "matmul descriptor \(shape)")
        } else {
            OneDNN.check(dnnl_matmul_desc_init(&desc, &src, &wei, nil, &dst), "matmul descriptor \(shape)")
        }
        var attr: dnnl_primitive_attr_t?
        OneDNN.check(dnnl_primitive_attr_create(&attr), "matmul attributes")
        defer { dnnl_primitive_attr_destroy(attr) }
        OneDNN.check(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "matmul scratchpad")
        if shape.scale != 1 {
            var scale = shape.scale
            OneDNN.check(dnnl_primitive_attr_set_output_scales(attr, 1, 0, &scale), "matmul output scale")
        }
        var postOps: dnnl_post_ops_t?
        OneDNN.check(dnnl_post_ops_create(&postOps), "matmul post-ops")
        defer { dnnl_post_ops_destroy(postOps) }
        if shape.accumulate { OneDNN.check(dnnl_post_ops_append_sum(postOps, 1), "matmul sum post-op") }
        switch shape.activation {
        case .identity: break
        case .relu: OneDNN.check(dnnl_post_ops_append_eltwise(postOps, 1, dnnl_eltwise_relu, 0, 0), "ReLU post-op")
        case .gelu: OneDNN.check(dnnl_post_ops_append_eltwise(postOps, 1, dnnl_eltwise_gelu_erf, 0, 0), "GELU post-op")
        }
        residualArgument = Int32(16384 * (dnnl_post_ops_len(postOps) + 1) | 2)  // MULTIPLE_POST_OP(idx) | SRC_1
        if var residualDesc = residual {
            OneDNN.check(dnnl_post_ops_append_binary(postOps, dnnl_binary_add, &residualDesc), "residual post-op")
        }
        OneDNN.check(dnnl_primitive_attr_set_post_ops(attr, postOps), "matmul post-ops")
        var pd: dnnl_primitive_desc_t?
        OneDNN.check(
            dnnl_primitive_desc_create(&pd, &desc, attr, OneDNN.engine.handle, nil),
            "matmul primitive descriptor \(shape)")
        defer { dnnl_primitive_desc_destroy(pd) }
        var name: UnsafePointer<CChar>?
        OneDNN.check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name), "matmul implementation")
        isReference = name.map { String(cString: $0).hasPrefix("ref") } ?? false
        created = OneDNN.Primitive(pd)
    }

    private static let cache = Mutex<[Shape: MatmulPrimitive]>([:])

    /// The primitive of a shape, created on first use. Packed weights must be laid out as
    /// `packedLayout(kind:n:k:)` says.
    static func cached(_ shape: Shape) -> MatmulPrimitive {
        if let found = cache.withLock({ $0[shape] }) { return found }
        omp_set_num_threads(1)
        let layout =
            shape.bStrides == nil ? packedLayout(shape.kind, n: shape.n, k: shape.k, rows: shape.layoutRows) : nil
        let made = MatmulPrimitive(shape, packedWeights: layout)
        return cache.withLock { cache in
            if let found = cache[shape] { return found }
            cache[shape] = made
            return made
        }
    }

    /// Runs C = A · B on the calling thread. For packed weights, `b` is the buffer that `pack` filled;
    /// `bias` and `residual` are the output stage's operands when the shape has them.
    func execute(
        a: UnsafeRawPointer, b: UnsafeRawPointer, c: UnsafeMutableRawPointer, bias biasValues: UnsafeRawPointer? = nil,
        residual residualValues: UnsafeRawPointer? = nil
    ) {
        precondition(
            (bias == nil) == (biasValues == nil) && (residual == nil) == (residualValues == nil),
            "matmul: bias or residual operand missing or unexpected")
        var operands = [
            (Int32(1), source, UnsafeMutableRawPointer(mutating: a)),  // DNNL_ARG_SRC
            (Int32(33), weights, UnsafeMutableRawPointer(mutating: b)),  // DNNL_ARG_WEIGHTS
            (Int32(17), destination, c),  // DNNL_ARG_DST
        ]
        if let bias, let biasValues { operands.append((41, bias, UnsafeMutableRawPointer(mutating: biasValues))) }
        if let residual, let residualValues {
            operands.append((residualArgument, residual, UnsafeMutableRawPointer(mutating: residualValues)))
        }
        created.execute("matmul", operands)
    }

    /// Rows of the products a layout is chosen for, unless told (the linear layers' row blocks).
    static let defaultLayoutRows = 512

    private static let layouts = Mutex<[[Int]: dnnl_memory_desc_t]>([:])

    /// The layout oneDNN prefers for [k, n] weights of a kind, as its matmul primitive reports it.
    static func packedLayout(_ kind: Kind, n: Int, k: Int, rows: Int = defaultLayoutRows) -> dnnl_memory_desc_t {
        let key = [kind == .bfloat16 ? 0 : 1, n, k, rows]
        let layoutRows = Int64(rows)
        if let found = layouts.withLock({ $0[key] }) { return found }
        omp_set_num_threads(1)
        var src = OneDNN.stridedDesc([layoutRows, Int64(k)], [Int64(k), 1], kind.source)
        var wei = anyLayout([Int64(k), Int64(n)], kind.weights)
        var dst = OneDNN.stridedDesc([layoutRows, Int64(n)], [Int64(n), 1], kind.destination)
        var desc = dnnl_matmul_desc_t()
        OneDNN.check(dnnl_matmul_desc_init(&desc, &src, &wei, nil, &dst), "matmul descriptor k=\(k) n=\(n)")
        var pd: dnnl_primitive_desc_t?
        OneDNN.check(
            dnnl_primitive_desc_create(&pd, &desc, nil, OneDNN.engine.handle, nil), "matmul layout k=\(k) n=\(n)")
        defer { dnnl_primitive_desc_destroy(pd) }
        let layout = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0)!.pointee
        layouts.withLock { $0[key] = layout }
        return layout
    }

    /// Bytes of packed [k, n] weights.
    static func packedSize(_ kind: Kind, n: Int, k: Int, rows: Int = defaultLayoutRows) -> Int {
        var layout = packedLayout(kind, n: n, k: k, rows: rows)
        return dnnl_memory_desc_get_size(&layout)
    }

    /// Reorders plain [k, n] weights (of the kind's weight type, element strides `strides`) into the
    /// packed layout at `packed` (packedSize bytes).
    static func pack(
        _ kind: Kind, n: Int, k: Int, plain: UnsafeRawPointer, strides: [Int], into packed: UnsafeMutableRawPointer,
        rows: Int = defaultLayoutRows
    ) {
        let from = OneDNN.stridedDesc([Int64(k), Int64(n)], strides.map { Int64($0) }, kind.weights)
        OneDNN.reorder(from, plain, packedLayout(kind, n: n, k: k, rows: rows), packed)
    }

    /// The inverse of `pack`: packed weights back to a plain [k, n] matrix with element strides `strides`.
    static func unpack(
        _ kind: Kind, n: Int, k: Int, packed: UnsafeRawPointer, strides: [Int], into plain: UnsafeMutableRawPointer
    ) {
        let to = OneDNN.stridedDesc([Int64(k), Int64(n)], strides.map { Int64($0) }, kind.weights)
        OneDNN.reorder(packedLayout(kind, n: n, k: k), packed, to, plain)
    }

    private static func anyLayout(_ dims: [Int64], _ type: dnnl_data_type_t) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        OneDNN.check(
            dnnl_memory_desc_init_by_tag(&md, Int32(dims.count), dims, type, dnnl_format_tag_any),
            "memory descriptor \(dims)")
        return md
    }
}
