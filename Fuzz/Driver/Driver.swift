// sam2-fuzz: the fuzz targets of Fuzz/Targets. Built by scripts/fuzz.sh with -sanitize=fuzzer,address
// and -DSAM2_LIBFUZZER, it is a libFuzzer binary: `sam2-fuzz --target=NAME [libFuzzer flags] CORPUS…`
// (`--write-seeds=DIR` writes the target's seeds and exits; `--list`: name, max_len, timeout per
// target). Built plainly, it replays inputs:
// `sam2-fuzz NAME FILE…` prints each outcome (exit 1 on a broken promise); `sam2-fuzz --list`.

import Foundation
import SAM2FuzzTargets

#if SAM2_LIBFUZZER
    /// The target chosen on the command line and the process's scratch folder (set once, before any input).
    nonisolated(unsafe) private var selected: FuzzTarget?
    nonisolated(unsafe) private var scratch: FuzzScratch?

    @_cdecl("LLVMFuzzerInitialize")
    public func fuzzerInitialize(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
    ) -> CInt {
        let arguments = CommandLine.arguments
        func value(_ flag: String) -> String? {
            arguments.last { $0.hasPrefix(flag + "=") }.map { String($0.dropFirst(flag.count + 1)) }
        }
        if arguments.contains("--list") {
            for t in FuzzTarget.all { print("\(t.name) \(t.maxLength) \(t.timeout)") }
            exit(0)
        }
        guard let name = value("--target"), let target = FuzzTarget.named(name) else {
            FileHandle.standardError.write(Data("sam2-fuzz: give --target=NAME, one of \(targetNames)\n".utf8))
            exit(2)
        }
        if let dir = value("--write-seeds") {
            exit(writeSeeds(target, to: URL(fileURLWithPath: dir)))
        }
        selected = target
        do {
            scratch = try FuzzScratch()
        } catch {
            FileHandle.standardError.write(Data("sam2-fuzz: cannot make a scratch folder: \(error)\n".utf8))
            exit(2)
        }
        atexit { scratch?.remove() }
        // Inputs run on a thread of their own that blocks SIGALRM, as do the threads it starts (the
        // library's workers): libFuzzer's timeout alarm then always lands on this waiting main thread,
        // never inside oneDNN's JIT code, whose stack pointer a signal frame must not be pushed on.
        var alarm = sigset_t()
        sigemptyset(&alarm)
        sigaddset(&alarm, SIGALRM)
        pthread_sigmask(SIG_BLOCK, &alarm, nil)
        let thread = Thread {
            while true {
                inputReady.wait()
                let result = selected!.run(input, scratch: scratch!)
                if !result.problems.isEmpty {
                    fatalError("sam2-fuzz \(selected!.name): " + result.problems.joined(separator: "; "))
                }
                inputDone.signal()
            }
        }
        thread.stackSize = 16 << 20
        thread.start()
        pthread_sigmask(SIG_UNBLOCK, &alarm, nil)
        return 0
    }

    /// The input handed to the runner thread, and the handshake around it.
    nonisolated(unsafe) private var input = Data()
    private let inputReady = DispatchSemaphore(value: 0)
    private let inputDone = DispatchSemaphore(value: 0)

    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzerTestOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
        input = bytes.map { Data(bytes: $0, count: count) } ?? Data()
        inputReady.signal()
        inputDone.wait()
        input = Data()  // (LeakSanitizer cannot follow a global Data's tagged storage at exit)
        return 0
    }
#else
    @main
    struct Replay {
        static func main() {
            var arguments = Array(CommandLine.arguments.dropFirst())
            if arguments.first == "--list" {
                for t in FuzzTarget.all {
                    print("\(t.name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(t.summary)")
                }
                return
            }
            if let flag = arguments.first, flag.hasPrefix("--write-seeds="), arguments.count == 2,
                let target = FuzzTarget.named(arguments[1])
            {
                exit(writeSeeds(target, to: URL(fileURLWithPath: String(flag.dropFirst("--write-seeds=".count)))))
            }
            guard !arguments.isEmpty, let target = FuzzTarget.named(arguments.removeFirst()) else {
                print("usage: sam2-fuzz TARGET FILE… | --list | --write-seeds=DIR TARGET; targets: \(targetNames)")
                exit(2)
            }
            let scratch: FuzzScratch
            do { scratch = try FuzzScratch() } catch {
                print("sam2-fuzz: cannot make a scratch folder: \(error)")
                exit(2)
            }
            defer { scratch.remove() }
            var failed = false
            for path in arguments {
                guard let data = FileManager.default.contents(atPath: path) else {
                    print("\(path): cannot read")
                    failed = true
                    continue
                }
                let result = target.run(data, scratch: scratch)
                print("\(path): \(result.outcome)")
                for problem in result.problems { print("  PROBLEM: \(problem)") }
                failed = failed || !result.problems.isEmpty
            }
            if failed { exit(1) }
        }
    }
#endif

private var targetNames: String { FuzzTarget.all.map(\.name).joined(separator: ", ") }

/// Writes the target's seeds as DIR/seed-<name> (created if need be); 0 on success.
private func writeSeeds(_ target: FuzzTarget, to dir: URL) -> CInt {
    do {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (k, seed) in try target.seedInputs().enumerated() {
            let safe = String(seed.name.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" })
            try seed.data.write(to: dir.appendingPathComponent(String(format: "seed-%03d-", k) + safe))
        }
        return 0
    } catch {
        FileHandle.standardError.write(Data("sam2-fuzz: cannot write the seeds of \(target.name): \(error)\n".utf8))
        return 1
    }
}
