// Unpickler: a small, strict reader of the pickle stream in a torch checkpoint's data.pkl
// (pickle protocols 2-5, the opcodes a tensor state dict needs). It never calls anything: globals
// must be on an allowlist, and REDUCE on an allowlisted constructor builds a plain value here.

import Foundation

/// What lists and dicts share: how deep they nest, and whether they sit inside another container
/// (after which they may not change: Python's pickler fills a container before nesting it, and
/// refusing later changes rules out cycles and keeps the recorded depth exact).
package class PickleContainer {
    var depth = 1
    var nested = false
}

/// A mutable list (pickle lists are shared by reference through the memo).
package final class PickleList: PickleContainer {
    var items: [PickleValue] = []
    init(_ items: [PickleValue] = []) { self.items = items }
}

/// A mutable dict keeping insertion order (the shape of an OrderedDict state dict).
package final class PickleDict: PickleContainer {
    private(set) var items: [(key: PickleValue, value: PickleValue)] = []
    private var stringIndex: [String: Int] = [:]

    func set(_ key: PickleValue, _ value: PickleValue) {
        if case .string(let s) = key {
            if let i = stringIndex[s] {
                items[i].value = value
                return
            }
            stringIndex[s] = items.count
        }
        items.append((key, value))
    }

    subscript(key: String) -> PickleValue? { stringIndex[key].map { items[$0].value } }
}

/// A globally named object the reader knows how to interpret (the allowlist).
package enum PickleGlobal: Equatable {
    case orderedDict
    case set
    case codecsEncode
    case rebuildTensorV2
    case rebuildParameter
    case rebuildParameterWithState
    case rebuildFromTypeV2
    case tensorType
    case parameterType
    case storageType(StoredDType)

    /// The allowlist; everything else is refused by name.
    init?(module: String, name: String) {
        switch (module, name) {
        case ("collections", "OrderedDict"): self = .orderedDict
        case ("builtins", "set"), ("builtins", "frozenset"), ("__builtin__", "set"), ("__builtin__", "frozenset"):
            self = .set
        case ("_codecs", "encode"): self = .codecsEncode
        case ("torch._utils", "_rebuild_tensor_v2"): self = .rebuildTensorV2
        case ("torch._utils", "_rebuild_parameter"): self = .rebuildParameter
        case ("torch._utils", "_rebuild_parameter_with_state"): self = .rebuildParameterWithState
        case ("torch._tensor", "_rebuild_from_type_v2"): self = .rebuildFromTypeV2
        case ("torch", "Tensor"): self = .tensorType
        case ("torch.nn.parameter", "Parameter"): self = .parameterType
        case ("torch", _):
            guard let dtype = StoredDType(torchStorage: name) else { return nil }
            self = .storageType(dtype)
        default: return nil
        }
    }
}

/// A storage named by a persistent id: `<archive>/data/<key>` holding `count` elements of `dtype`.
package struct PickledStorage: Equatable {
    let key: String
    let dtype: StoredDType
    let count: Int
}

/// What `_rebuild_tensor_v2` was asked to build.
package struct PickledTensor {
    let storage: PickledStorage
    let offset: Int
    let shape: [Int]
    let strides: [Int]
}

package indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue], depth: Int)
    case list(PickleList)
    case dict(PickleDict)
    case global(PickleGlobal)
    case storage(PickledStorage)
    case tensor(PickledTensor)

    /// Container nesting depth (0 for scalars, tensors and storages).
    var depth: Int {
        switch self {
        case .tuple(_, let depth): depth
        case .list(let list): list.depth
        case .dict(let dict): dict.depth
        default: 0
        }
    }

    package var kind: String {
        switch self {
        case .none: "None"
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .string: "str"
        case .bytes: "bytes"
        case .tuple: "tuple"
        case .list: "list"
        case .dict: "dict"
        case .global: "global"
        case .storage: "storage"
        case .tensor: "tensor"
        }
    }
}

package struct Unpickler {
    /// Names the file in errors.
    let source: String
    let bytes: UnsafeRawBufferPointer
    /// Resolves BINPERSID ids (torch: storages); nil refuses persistent ids.
    let persistentLoad: ((PickleValue) throws -> PickleValue)?

    private var position = 0
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]

    init(source: String, bytes: UnsafeRawBufferPointer, persistentLoad: ((PickleValue) throws -> PickleValue)? = nil) {
        self.source = source
        self.bytes = bytes
        self.persistentLoad = persistentLoad
    }

    /// Reads the pickle up to STOP and returns its value.
    package static func load(
        source: String, bytes: UnsafeRawBufferPointer,
        persistentLoad: ((PickleValue) throws -> PickleValue)? = nil
    ) throws -> PickleValue {
        var reader = Unpickler(source: source, bytes: bytes, persistentLoad: persistentLoad)
        return try reader.run()
    }

    // MARK: - Reading primitives

    private func malformed(_ detail: String) -> CheckpointError {
        .malformedPickle(path: source, detail: detail)
    }

    private mutating func take(_ n: Int) throws -> UnsafeRawBufferPointer {
        guard n >= 0, n <= bytes.count - position else {
            throw malformed("the pickle ends early (wanted \(n) bytes at byte \(position) of \(bytes.count))")
        }
        defer { position += n }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)])
    }

    private mutating func u8() throws -> UInt8 { try take(1)[0] }

    private mutating func uint(_ n: Int) throws -> UInt64 {
        let b = try take(n)
        var v: UInt64 = 0
        for i in stride(from: n - 1, through: 0, by: -1) { v = v << 8 | UInt64(b[i]) }
        return v
    }

    private mutating func length(_ n: Int) throws -> Int {
        let v = try uint(n)
        guard v <= UInt64(bytes.count - position) else {
            throw malformed("a length of \(v) at byte \(position - n) runs past the end of the pickle")
        }
        return Int(v)
    }

    private mutating func utf8(_ n: Int) throws -> String {
        let b = try take(n)
        guard let s = String(validating: b, as: UTF8.self) else {
            throw malformed("invalid UTF-8 in a string at byte \(position - n)")
        }
        return s
    }

    private mutating func line() throws -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else {
            throw malformed("unterminated GLOBAL at byte \(position)")
        }
        let s = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[position..<end]), as: UTF8.self)
        position = end + 1
        return s
    }

    private mutating func pop() throws -> PickleValue {
        guard let v = stack.popLast(), stack.count >= (marks.last ?? 0) else {
            throw malformed("stack underflow at byte \(position - 1)")
        }
        return v
    }

    private func top() throws -> PickleValue {
        guard let v = stack.last, stack.count > (marks.last ?? 0) else {
            throw malformed("stack underflow at byte \(position - 1)")
        }
        return v
    }

    private mutating func popMark() throws -> [PickleValue] {
        guard let mark = marks.popLast() else { throw malformed("no MARK before byte \(position - 1)") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    private mutating func global(module: String, name: String) throws -> PickleValue {
        guard let known = PickleGlobal(module: module, name: name) else {
            throw CheckpointError.foreignGlobal(path: source, global: "\(module).\(name)")
        }
        return .global(known)
    }

    // MARK: - The machine

    private mutating func run() throws -> PickleValue {
        while true {
            let opcodeOffset = position
            let op = try u8()
            switch op {
            case 0x80:  // PROTO
                let version = try u8()
                guard (2...5).contains(version) else {
                    throw malformed("pickle protocol \(version) is not supported (2-5 are)")
                }
            case 0x95:  // FRAME: a length prefix only; the opcodes follow inline
                _ = try uint(8)
            case 0x2E:  // STOP
                guard stack.count == 1, marks.isEmpty else {
                    throw malformed("STOP with \(stack.count) values on the stack")
                }
                return stack[0]
            case 0x28: marks.append(stack.count)  // MARK
            case 0x7D: stack.append(.dict(PickleDict()))  // EMPTY_DICT
            case 0x5D: stack.append(.list(PickleList()))  // EMPTY_LIST
            case 0x29: stack.append(.tuple([], depth: 1))  // EMPTY_TUPLE
            case 0x8F: stack.append(.list(PickleList()))  // EMPTY_SET (kept as a list)
            case 0x4E: stack.append(.none)  // NONE
            case 0x88: stack.append(.bool(true))  // NEWTRUE
            case 0x89: stack.append(.bool(false))  // NEWFALSE
            case 0x4A: stack.append(.int(Int(Int32(truncatingIfNeeded: try uint(4)))))  // BININT
            case 0x4B: stack.append(.int(Int(try u8())))  // BININT1
            case 0x4D: stack.append(.int(Int(try uint(2))))  // BININT2
            case 0x8A, 0x8B:  // LONG1, LONG4: little-endian two's complement
                let n = try length(op == 0x8A ? 1 : 4)
                let b = try take(n)
                guard n <= 8 else { throw malformed("an integer of \(n) bytes at byte \(opcodeOffset) is too large") }
                var v: UInt64 = 0
                for i in stride(from: n - 1, through: 0, by: -1) { v = v << 8 | UInt64(b[i]) }
                if n > 0 && n < 8 && b[n - 1] & 0x80 != 0 { v |= ~0 << UInt64(8 * n) }
                stack.append(.int(Int(Int64(bitPattern: v))))
            case 0x47:  // BINFLOAT: big-endian IEEE double
                let b = try take(8)
                var v: UInt64 = 0
                for i in 0..<8 { v = v << 8 | UInt64(b[i]) }
                stack.append(.float(Double(bitPattern: v)))
            case 0x58: stack.append(.string(try utf8(try length(4))))  // BINUNICODE
            case 0x8C: stack.append(.string(try utf8(try length(1))))  // SHORT_BINUNICODE
            case 0x8D: stack.append(.string(try utf8(try length(8))))  // BINUNICODE8
            case 0x54, 0x55:  // BINSTRING, SHORT_BINSTRING (protocol-2 byte strings, read as Latin-1)
                let b = try take(try length(op == 0x54 ? 4 : 1))
                stack.append(.string(String(b.map { Character(Unicode.Scalar($0)) })))
            case 0x42: stack.append(.bytes(Array(try take(try length(4)))))  // BINBYTES
            case 0x43: stack.append(.bytes(Array(try take(try length(1)))))  // SHORT_BINBYTES
            case 0x8E: stack.append(.bytes(Array(try take(try length(8)))))  // BINBYTES8
            case 0x74: stack.append(try tuple(try popMark()))  // TUPLE
            case 0x85: stack.append(try tuple([try pop()]))  // TUPLE1
            case 0x86:  // TUPLE2
                let b = try pop()
                let a = try pop()
                stack.append(try tuple([a, b]))
            case 0x87:  // TUPLE3
                let c = try pop()
                let b = try pop()
                let a = try pop()
                stack.append(try tuple([a, b, c]))
            case 0x6C, 0x91:  // LIST, FROZENSET (kept as a list)
                let items = try popMark()
                let list = PickleList()
                try adopt(items, into: list)
                list.items = items
                stack.append(.list(list))
            case 0x64:  // DICT
                let items = try popMark()
                guard items.count % 2 == 0 else {
                    throw malformed("DICT with an odd number of items at byte \(opcodeOffset)")
                }
                let dict = PickleDict()
                try adopt(items, into: dict)
                for i in stride(from: 0, to: items.count, by: 2) { dict.set(items[i], items[i + 1]) }
                stack.append(.dict(dict))
            case 0x73:  // SETITEM
                let value = try pop()
                let key = try pop()
                guard case .dict(let dict) = try top() else {
                    throw malformed("SETITEM on a \(try top().kind) at byte \(opcodeOffset)")
                }
                try adopt([key, value], into: dict)
                dict.set(key, value)
            case 0x75:  // SETITEMS
                let items = try popMark()
                guard items.count % 2 == 0 else {
                    throw malformed("SETITEMS with an odd number of items at byte \(opcodeOffset)")
                }
                guard case .dict(let dict) = try top() else {
                    throw malformed("SETITEMS on a \(try top().kind) at byte \(opcodeOffset)")
                }
                try adopt(items, into: dict)
                for i in stride(from: 0, to: items.count, by: 2) { dict.set(items[i], items[i + 1]) }
            case 0x61:  // APPEND
                let value = try pop()
                guard case .list(let list) = try top() else {
                    throw malformed("APPEND on a \(try top().kind) at byte \(opcodeOffset)")
                }
                try adopt([value], into: list)
                list.items.append(value)
            case 0x65, 0x90:  // APPENDS, ADDITEMS
                let items = try popMark()
                guard case .list(let list) = try top() else {
                    throw malformed("APPENDS on a \(try top().kind) at byte \(opcodeOffset)")
                }
                try adopt(items, into: list)
                list.items.append(contentsOf: items)
            case 0x71: memo[Int(try u8())] = try top()  // BINPUT
            case 0x72: memo[Int(try uint(4))] = try top()  // LONG_BINPUT
            case 0x94: memo[memo.count] = try top()  // MEMOIZE
            case 0x68, 0x6A:  // BINGET, LONG_BINGET
                let key = Int(op == 0x68 ? UInt64(try u8()) : try uint(4))
                guard let value = memo[key] else {
                    throw malformed("memo entry \(key) is read before it is written (byte \(opcodeOffset))")
                }
                stack.append(value)
            case 0x32: stack.append(try top())  // DUP
            case 0x30:  // POP
                if stack.count == (marks.last ?? -1) { _ = marks.popLast() } else { _ = try pop() }
            case 0x31: _ = try popMark()  // POP_MARK
            case 0x63:  // GLOBAL
                let module = try line()
                let name = try line()
                stack.append(try global(module: module, name: name))
            case 0x93:  // STACK_GLOBAL
                let name = try pop()
                let module = try pop()
                guard case .string(let m) = module, case .string(let n) = name else {
                    throw malformed("STACK_GLOBAL needs two strings at byte \(opcodeOffset)")
                }
                stack.append(try global(module: m, name: n))
            case 0x52:  // REDUCE
                let args = try pop()
                let callable = try pop()
                stack.append(try apply(callable, args, at: opcodeOffset))
            case 0x81:  // NEWOBJ
                let args = try pop()
                let cls = try pop()
                stack.append(try apply(cls, args, at: opcodeOffset))
            case 0x92:  // NEWOBJ_EX
                let kwargs = try pop()
                let args = try pop()
                let cls = try pop()
                if case .dict(let d) = kwargs, !d.items.isEmpty {
                    throw malformed("keyword arguments to a constructor at byte \(opcodeOffset)")
                }
                stack.append(try apply(cls, args, at: opcodeOffset))
            case 0x62:  // BUILD: instance state (a state dict's _metadata, tensor attributes) is not needed
                let state = try pop()
                switch try top() {
                case .dict, .tensor: break
                default: throw malformed("BUILD with a \(state.kind) on a \(try top().kind) at byte \(opcodeOffset)")
                }
            case 0x51:  // BINPERSID
                let pid = try pop()
                guard let persistentLoad else {
                    throw malformed("a persistent id at byte \(opcodeOffset) outside a torch archive")
                }
                stack.append(try persistentLoad(pid))
            default:
                throw CheckpointError.unsupportedOpcode(path: source, opcode: op, offset: opcodeOffset)
            }
        }
    }

    // MARK: - Nesting

    /// Deeper nesting than this is refused: state dicts nest a few levels, and very deep values
    /// would exhaust the stack when they are freed.
    static let maxDepth = 100

    private func tuple(_ items: [PickleValue]) throws -> PickleValue {
        var depth = 1
        for item in items {
            if case .list(let list) = item { list.nested = true }
            if case .dict(let dict) = item { dict.nested = true }
            depth = max(depth, item.depth + 1)
        }
        guard depth <= Unpickler.maxDepth else {
            throw malformed("values nest deeper than \(Unpickler.maxDepth) levels at byte \(position - 1)")
        }
        return .tuple(items, depth: depth)
    }

    /// Records that `children` go into `container`, which must not itself be inside another one.
    private func adopt(_ children: [PickleValue], into container: PickleContainer) throws {
        for child in children {
            if case .list(let list) = child { list.nested = true }
            if case .dict(let dict) = child { dict.nested = true }
            container.depth = max(container.depth, child.depth + 1)
        }
        guard !container.nested else {
            throw malformed(
                "a list or dict is changed after being placed inside another (recursive structures are not read), at "
                    + "byte \(position - 1)"
            )
        }
        guard container.depth <= Unpickler.maxDepth else {
            throw malformed("values nest deeper than \(Unpickler.maxDepth) levels at byte \(position - 1)")
        }
    }

    // MARK: - Allowlisted constructors

    private func apply(_ callable: PickleValue, _ args: PickleValue, at offset: Int) throws -> PickleValue {
        guard case .global(let function) = callable else {
            throw malformed("REDUCE on a \(callable.kind) at byte \(offset)")
        }
        guard case .tuple(let a, _) = args else {
            throw malformed("REDUCE with \(args.kind) arguments at byte \(offset)")
        }
        switch function {
        case .orderedDict:
            let dict = PickleDict()
            if let first = a.first {
                guard a.count == 1, case .list(let pairs) = first else {
                    throw malformed("OrderedDict arguments at byte \(offset)")
                }
                for pair in pairs.items {
                    guard case .tuple(let kv, _) = pair, kv.count == 2 else {
                        throw malformed("OrderedDict item at byte \(offset)")
                    }
                    try adopt(kv, into: dict)
                    dict.set(kv[0], kv[1])
                }
            }
            return .dict(dict)
        case .set:
            if a.isEmpty { return .list(PickleList()) }
            guard a.count == 1, case .list(let items) = a[0] else { throw malformed("set arguments at byte \(offset)") }
            let list = PickleList()
            try adopt(items.items, into: list)
            list.items = items.items
            return .list(list)
        case .codecsEncode:
            guard a.count == 2, case .string(let text) = a[0], case .string(let encoding) = a[1] else {
                throw malformed("_codecs.encode arguments at byte \(offset)")
            }
            if encoding == "latin1" || encoding == "latin-1" {
                var out: [UInt8] = []
                for scalar in text.unicodeScalars {
                    guard scalar.value < 256 else {
                        throw malformed("non-Latin-1 text in _codecs.encode at byte \(offset)")
                    }
                    out.append(UInt8(scalar.value))
                }
                return .bytes(out)
            }
            return .bytes(Array(text.utf8))
        case .rebuildTensorV2:
            // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
            guard a.count == 6 || a.count == 7, case .storage(let storage) = a[0], case .int(let storageOffset) = a[1],
                let shape = intTuple(a[2]), let strides = intTuple(a[3]), shape.count == strides.count
            else {
                throw malformed("_rebuild_tensor_v2 arguments at byte \(offset)")
            }
            guard storageOffset >= 0, shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }) else {
                throw malformed("negative size, stride or offset in _rebuild_tensor_v2 at byte \(offset)")
            }
            var count = 1
            for d in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow else { throw malformed("tensor shape \(shape) is too large at byte \(offset)") }
                count = product
            }
            return .tensor(PickledTensor(storage: storage, offset: storageOffset, shape: shape, strides: strides))
        case .rebuildParameter, .rebuildParameterWithState:
            // (data, requires_grad, backward_hooks[, state])
            guard a.count == (function == .rebuildParameter ? 3 : 4), case .tensor = a[0] else {
                throw malformed("_rebuild_parameter arguments at byte \(offset)")
            }
            return a[0]
        case .rebuildFromTypeV2:
            // (func, type, args, state): a tensor or Parameter with Python attributes.
            guard a.count == 4, case .global(let type) = a[1], type == .tensorType || type == .parameterType else {
                throw malformed("_rebuild_from_type_v2 arguments at byte \(offset)")
            }
            return try apply(a[0], a[2], at: offset)
        case .tensorType, .parameterType, .storageType:
            throw malformed("a torch type is called at byte \(offset)")
        }
    }

    private func intTuple(_ value: PickleValue) -> [Int]? {
        guard case .tuple(let items, _) = value else { return nil }
        var out: [Int] = []
        for item in items {
            guard case .int(let v) = item else { return nil }
            out.append(v)
        }
        return out
    }
}
