// Tests of the allowlisted Unpickler on hand-written pickle bytes: each opcode family, the memo,
// protocol 4 framing, refused globals and opcodes.

import Foundation
import Testing

@testable import SAM2Checkpoint

@Suite struct UnpicklerTests {
    func load(_ bytes: [UInt8]) throws -> PickleValue {
        try bytes.withUnsafeBytes { try Unpickler.load(source: "test.pkl", bytes: $0) }
    }

    func error(_ bytes: [UInt8]) -> CheckpointError? {
        checkpointError { _ = try load(bytes) }
    }

    @Test func integersAndFloats() throws {
        // (BININT -2, BININT1 200, BININT2 40000, LONG1 -129, LONG1 2**40, BINFLOAT 1.5)
        let bytes: [UInt8] = [
            0x80, 2, 0x28,
            0x4A, 0xFE, 0xFF, 0xFF, 0xFF,
            0x4B, 200,
            0x4D, 0x40, 0x9C,
            0x8A, 2, 0x7F, 0xFF,
            0x8A, 6, 0, 0, 0, 0, 0, 1,
            0x47, 0x3F, 0xF8, 0, 0, 0, 0, 0, 0,
            0x74, 0x2E,
        ]
        guard case .tuple(let items, _) = try load(bytes) else {
            Issue.record("not a tuple")
            return
        }
        var ints: [Int] = []
        for item in items.prefix(5) {
            guard case .int(let v) = item else {
                Issue.record("not an int: \(item.kind)")
                return
            }
            ints.append(v)
        }
        #expect(ints == [-2, 200, 40000, -129, 1 << 40])
        guard case .float(let f) = items[5] else {
            Issue.record("not a float")
            return
        }
        #expect(f == 1.5)
    }

    @Test func dictListMemoAndFrames() throws {
        // Protocol 4: FRAME, STACK_GLOBAL collections.OrderedDict, MEMOIZE, BINGET of a shared list.
        let body = fixedDictPickle()
        let bytes: [UInt8] = [0x80, 4, 0x95] + withUnsafeBytes(of: UInt64(body.count).littleEndian, Array.init) + body
        guard case .dict(let dict) = try load(bytes) else {
            Issue.record("not a dict")
            return
        }
        guard case .list(let a)? = dict["a"], case .list(let b)? = dict["b"] else {
            Issue.record("missing lists")
            return
        }
        #expect(a === b)  // the memo shares one list
        #expect(a.items.count == 3)
        guard case .bool(true) = a.items[0], case .bool(false) = a.items[1], case .none = a.items[2] else {
            Issue.record("wrong list items")
            return
        }
    }

    /// OrderedDict() with "a" → [True, False, None] and "b" → the same list (via the memo).
    func fixedDictPickle() -> [UInt8] {
        var p: [UInt8] = [0x8C, 11] + Array("collections".utf8) + [0x94]  // memo 0
        p += [0x8C, 11] + Array("OrderedDict".utf8) + [0x94, 0x93, 0x94]  // memo 1, 2
        p += [0x29, 0x52, 0x94]  // OrderedDict() memo 3
        p += [0x8C, 1, UInt8(ascii: "a"), 0x94]  // "a" memo 4
        p += [0x5D, 0x94, 0x28, 0x88, 0x89, 0x4E, 0x65]  // [True, False, None] memo 5
        p += [0x73]  // SETITEM
        p += [0x8C, 1, UInt8(ascii: "b"), 0x68, 5, 0x73]  // "b": memo[5]
        p += [0x2E]
        return p
    }

    @Test func strings() throws {
        let bytes: [UInt8] = [0x80, 2, 0x58, 3, 0, 0, 0] + Array("abc".utf8) + [0x8C, 2, 0xC3, 0xA9, 0x86, 0x2E]
        guard case .tuple(let items, _) = try load(bytes), case .string(let a) = items[0],
            case .string(let b) = items[1]
        else {
            Issue.record("not two strings")
            return
        }
        #expect(a == "abc" && b == "é")
    }

    @Test func refusedGlobalsNameThemselves() {
        let system: [UInt8] = [0x80, 2, 0x63] + Array("posix\nsystem\n".utf8) + [0x29, 0x52, 0x2E]
        #expect(error(system) == .foreignGlobal(path: "test.pkl", global: "posix.system"))
        let eval: [UInt8] =
            [0x80, 4, 0x8C, 8] + Array("builtins".utf8) + [0x8C, 4] + Array("eval".utf8) + [0x93, 0x2E]
        #expect(error(eval) == .foreignGlobal(path: "test.pkl", global: "builtins.eval"))
        let storage: [UInt8] = [0x80, 2, 0x63] + Array("torch\nload\n".utf8) + [0x2E]
        #expect(error(storage) == .foreignGlobal(path: "test.pkl", global: "torch.load"))
        #expect(
            error(eval)!.description
                == "refusing pickle global builtins.eval in test.pkl: only tensor state dicts can be read")
    }

    @Test func refusedOpcodesAndDamage() {
        // Protocol-0 INT is not needed by a state dict.
        #expect(
            error([0x80, 2, 0x49, 0x31, 0x0A, 0x2E]) == .unsupportedOpcode(path: "test.pkl", opcode: 0x49, offset: 2))
        // INST (protocol 0 class instantiation) is refused as an opcode too.
        #expect(error([0x80, 2, 0x69]) == .unsupportedOpcode(path: "test.pkl", opcode: 0x69, offset: 2))
        // Truncated string, stack underflow, unknown memo, REDUCE on a non-global.
        guard case .malformedPickle? = error([0x80, 2, 0x58, 9, 0, 0, 0, 0x41]) else {
            Issue.record("truncated string")
            return
        }
        guard case .malformedPickle? = error([0x80, 2, 0x86, 0x2E]) else {
            Issue.record("underflow")
            return
        }
        guard case .malformedPickle? = error([0x80, 2, 0x68, 7, 0x2E]) else {
            Issue.record("memo")
            return
        }
        guard case .malformedPickle? = error([0x80, 2, 0x4E, 0x29, 0x52, 0x2E]) else {
            Issue.record("REDUCE on None")
            return
        }
        guard case .malformedPickle? = error([0x80, 2, 0x4E]) else {
            Issue.record("no STOP")
            return
        }
        // A persistent id outside a torch archive.
        guard case .malformedPickle? = error([0x80, 2, 0x4E, 0x51, 0x2E]) else {
            Issue.record("BINPERSID")
            return
        }
    }

    @Test func deepAndRecursiveValuesAreRefused() {
        // 200,000 nested 1-tuples would overflow the stack when freed; refused at depth 100.
        let deep: [UInt8] = [0x80, 2, 0x4E] + [UInt8](repeating: 0x85, count: 200_000) + [0x2E]
        guard case .malformedPickle(_, let detail)? = error(deep) else {
            Issue.record("deep tuple accepted")
            return
        }
        #expect(detail.contains("deeper than 100"))
        let deepLists: [UInt8] =
            [0x80, 2] + [UInt8](repeating: 0x5D, count: 300) + [UInt8](repeating: 0x61, count: 299) + [0x2E]
        guard case .malformedPickle? = error(deepLists) else {
            Issue.record("deep lists accepted")
            return
        }
        // A list appended to itself (a cycle): EMPTY_LIST, BINPUT 0, BINGET 0, APPEND.
        guard case .malformedPickle(_, let cycle)? = error([0x80, 2, 0x5D, 0x71, 0, 0x68, 0, 0x61, 0x2E]) else {
            Issue.record("cycle accepted")
            return
        }
        #expect(cycle.contains("recursive"))
    }
}
