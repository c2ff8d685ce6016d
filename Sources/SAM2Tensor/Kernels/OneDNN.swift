// OneDNN: thin wrappers over oneDNN's C API — the shared CPU engine, plain memory descriptors, a
// create-and-execute helper for any primitive, in-place GELU, and reorders (layout and
// data-type conversions), run on the calling thread (OpenMP width 1, so callers split work with
// Parallel). Created primitives are kept per operation descriptor (creating a primitive descriptor
// costs more than running a small primitive), each run with its own scratchpad.

import CDNNL
import Synchronization

enum OneDNN {
    final class Engine: @unchecked Sendable {
        let handle: dnnl_engine_t
        init() {
            var engine: dnnl_engine_t?
            OneDNN.check(dnnl_engine_create(&engine, dnnl_cpu, 0), "dnnl_engine_create")
            handle = engine!
        }
    }

    /// The CPU engine, created once (Swift initialises globals thread-safely).
    static let engine = Engine()

    static func check(_ status: dnnl_status_t, _ what: @autoclosure () -> String) {
        precondition(status == dnnl_success, "oneDNN: \(what()) failed with status \(status.rawValue)")
    }

    static func plainDesc(_ dims: [Int], _ tag: dnnl_format_tag_t) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        let d = dims.map { Int64($0) }
        check(dnnl_memory_desc_init_by_tag(&md, Int32(d.count), d, dnnl_f32, tag), "memory descriptor \(dims)")
        return md
    }

    /// GELU, exact erf form, on count floats in place.
    static func geluInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) {
        guard count > 0 else { return }
        var md = plainDesc([count], dnnl_a)
        var desc = dnnl_eltwise_desc_t()
        check(
            dnnl_eltwise_forward_desc_init(&desc, dnnl_forward_inference, dnnl_eltwise_gelu_erf, &md, 0, 0),
            "GELU descriptor")
        runInPlace(&desc, md, x, "GELU")
    }

    /// A strided memory descriptor of any data type.
    static func stridedDesc<I: BinaryInteger>(_ dims: [I], _ strides: [I], _ type: dnnl_data_type_t)
        -> dnnl_memory_desc_t
    {
        var md = dnnl_memory_desc_t()
        check(
            dnnl_memory_desc_init_by_strides(
                &md, Int32(dims.count), dims.map { Int64($0) }, type, strides.map { Int64($0) }),
            "memory descriptor \(dims)")
        return md
    }

    /// Copies memory of one layout (and data type) into another with oneDNN's reorder primitive, on
    /// the calling thread: f32 → bf16 rounds to nearest even, as PyTorch does.
    static func reorder(
        _ from: dnnl_memory_desc_t, _ source: UnsafeRawPointer, _ to: dnnl_memory_desc_t,
        _ destination: UnsafeMutableRawPointer
    ) {
        var (fromDesc, toDesc) = (from, to)
        let primitive = Primitive.cached(key: Key("reorder", from, to)) { attr in
            let engine = Self.engine.handle
            var pd: dnnl_primitive_desc_t?
            check(dnnl_reorder_primitive_desc_create(&pd, &fromDesc, engine, &toDesc, engine, attr), "reorder")
            return pd
        }
        primitive.execute("reorder", [(1, from, UnsafeMutableRawPointer(mutating: source)), (17, to, destination)])
    }

    /// Runs the primitive of an operation descriptor with src = dst = x, single-threaded.
    private static func runInPlace<Desc>(
        _ desc: inout Desc, _ md: dnnl_memory_desc_t, _ x: UnsafeMutablePointer<Float>, _ what: String
    ) {
        run(&desc, what, [(1, md, x), (17, md, x)])  // DNNL_ARG_SRC, DNNL_ARG_DST
    }

    /// Creates the primitive of an operation descriptor (or finds it created) and executes it on the
    /// given (argument, descriptor, memory) triples on the calling thread (OpenMP width 1), waiting
    /// for the result.
    static func run<Desc>(
        _ desc: inout Desc, _ what: String,
        _ arguments: [(arg: Int32, md: dnnl_memory_desc_t, pointer: UnsafeMutablePointer<Float>)]
    ) {
        let primitive = Primitive.cached(key: Key(what, desc)) { attr in
            var pd: dnnl_primitive_desc_t?
            check(
                withUnsafePointer(to: &desc) {
                    dnnl_primitive_desc_create(&pd, UnsafeRawPointer($0), attr, Self.engine.handle, nil)
                },
                "\(what) primitive descriptor")
            return pd
        }
        primitive.execute(what, arguments.map { ($0.arg, $0.md, UnsafeMutableRawPointer($0.pointer)) })
    }

    /// A cache key: the operation's name and the bytes of its descriptors (oneDNN fills every byte of
    /// them, padding included, from zero-initialised values), hashed once (FNV-1a over 8-byte words;
    /// Hasher would take the few kilobytes a byte at a time on every call).
    struct Key: Hashable {
        let bytes: [UInt8]
        let hash: Int

        init<each D>(_ what: String, _ descriptors: repeat each D) {
            var bytes = Array(what.utf8)
            for var d in repeat each descriptors { withUnsafeBytes(of: &d) { bytes += $0 } }
            while bytes.count % 8 != 0 { bytes.append(0) }
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            bytes.withUnsafeBytes { raw in
                for i in stride(from: 0, to: raw.count, by: 8) {
                    h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x100_0000_01b3
                }
            }
            (self.bytes, hash) = (bytes, Int(truncatingIfNeeded: h))
        }

        static func == (a: Key, b: Key) -> Bool { a.hash == b.hash && a.bytes == b.bytes }
        func hash(into hasher: inout Hasher) { hasher.combine(hash) }
    }

    /// A created primitive that runs on any thread, each run with a scratchpad of its own.
    final class Primitive: @unchecked Sendable {
        let primitive: dnnl_primitive_t
        let scratchpad: dnnl_memory_desc_t
        let scratchpadBytes: Int

        /// Primitives kept at most; past it the cache starts again (running ones stay alive).
        static let limit = 4096
        private static let cache = Mutex<[Key: Primitive]>([:])

        /// The primitive of `key`, made from the primitive descriptor that `describe` creates (with
        /// the attributes given to it) on first use.
        static func cached(key: Key, _ describe: (dnnl_primitive_attr_t?) -> dnnl_primitive_desc_t?) -> Primitive {
            if let found = cache.withLock({ $0[key] }) { return found }
            omp_set_num_threads(1)
            var attr: dnnl_primitive_attr_t?
            check(dnnl_primitive_attr_create(&attr), "primitive attributes")
            defer { dnnl_primitive_attr_destroy(attr) }
            check(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "primitive scratchpad")
            let pd = describe(attr)
            defer { dnnl_primitive_desc_destroy(pd) }
            let made = Primitive(pd)
            return cache.withLock { cache in
                if let found = cache[key] { return found }
                if cache.count >= limit { cache.removeAll() }
                cache[key] = made
                return made
            }
        }

        /// The primitive of a descriptor created with a user scratchpad.
        init(_ pd: dnnl_primitive_desc_t?) {
            scratchpad = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0)!.pointee
            var md = scratchpad
            scratchpadBytes = dnnl_memory_desc_get_size(&md)
            var created: dnnl_primitive_t?
            check(dnnl_primitive_create(&created, pd), "primitive")
            primitive = created!
        }

        deinit { dnnl_primitive_destroy(primitive) }

        /// Runs the primitive on the given (argument, descriptor, memory) triples on the calling
        /// thread, with a scratchpad of its own (recycled blocks: a fresh large allocation per run
        /// would fault its pages in every time).
        func execute(
            _ what: String, _ arguments: [(arg: Int32, md: dnnl_memory_desc_t, pointer: UnsafeMutableRawPointer)]
        ) {
            let scratch = scratchpadBytes > 0 ? BlockCache.allocate(scratchpadBytes) : nil
            defer { if let scratch { BlockCache.deallocate(scratch, scratchpadBytes) } }
            var all = arguments
            if let scratch { all.append((80, scratchpad, scratch)) }  // DNNL_ARG_SCRATCHPAD
            OneDNN.execute(primitive, what, all)
        }
    }

    /// Executes a primitive on the given (argument, descriptor, memory) triples on the calling thread
    /// (OpenMP width 1), waiting for the result.
    private static func execute(
        _ primitive: dnnl_primitive_t, _ what: String,
        _ arguments: [(arg: Int32, md: dnnl_memory_desc_t, pointer: UnsafeMutableRawPointer)]
    ) {
        let engine = Self.engine.handle
        var memories: [dnnl_memory_t?] = []
        defer { for m in memories { dnnl_memory_destroy(m) } }
        let args = arguments.map { argument in
            var md = argument.md
            var memory: dnnl_memory_t?
            check(dnnl_memory_create(&memory, &md, engine, argument.pointer), "\(what) memory")
            memories.append(memory)
            return dnnl_exec_arg_t(arg: argument.arg, memory: memory)
        }
        var stream: dnnl_stream_t?
        check(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue), "stream")
        defer { dnnl_stream_destroy(stream) }
        omp_set_num_threads(1)
        check(dnnl_primitive_execute(primitive, stream, Int32(args.count), args), "\(what) execute")
        check(dnnl_stream_wait(stream), "\(what) stream wait")
    }
}
