// The annotation server's bounds (issue 16), in-process on loopback: idle and trickling connections
// hold no thread, requests are refused by size before they cost memory, automatic-mask jobs are
// limited and cancelled when the server stops or their client leaves.

import Foundation
import Testing

@testable import SAM2Server

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// In AnnotationServerTests' serialized suite, as its other servers are: these time their answers.
extension AnnotationServerTests {
    /// Idle connections, and connections that send their headers a byte at a time, hold no thread: with
    /// 300 of them open, a health request and a prompt are answered at once (issue 16: 64 idle
    /// connections stopped the server, which had a thread per connection and a limit of 64).
    @Test func idleAndTricklingConnectionsDoNotStopTheServer() async throws {
        let f = try ServerFixture()
        var sockets: [Int32] = []
        defer { for fd in sockets { close(fd) } }
        for k in 0..<300 {
            let fd = try f.openSocket()
            sockets.append(fd)
            if k % 10 == 0 { _ = send(fd, "GET /api/health HTTP/1.1\r\nHo", 28, 0) }
        }
        // Timed on a socket of its own without suspending: an awaited URLSession reply resumes only when
        // the test process's cooperative threads are free, which the suite's waiting CLI tests delay.
        let start = DispatchTime.now().uptimeNanoseconds
        let fd = try f.openSocket()
        sockets.append(fd)
        let request = "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        #expect(send(fd, request, request.utf8.count, 0) == request.utf8.count)
        var reply = [UInt8](repeating: 0, count: 4096)
        var received = 0
        while received < reply.count {
            let n = reply.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + received, $0.count - received, 0) }
            if n <= 0 { break }
            received += n
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        #expect(String(decoding: reply.prefix(received), as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        #expect(seconds < 2)
        let id = try await f.open("odd.png")
        #expect(try await f.call("POST", "/api/images/\(id)/predict", json: ["points": [[10, 20]]]).status == 200)
    }

    /// Bounds of issue 16: JSON refused by size before decoding, a prompt kept with an annotation
    /// bounded, a coordinate past Float's range named, an image over the size limit refused from its
    /// header and not saved, a 250-byte file name saved, one automatic-mask job at a time.
    @Test func requestsAreBoundedBeforeTheyCostMemory() async throws {
        let f = try ServerFixture(maxUploadBytes: 8 << 20) { $0.maxAutoJobs = 0 }
        let id = try await f.open("odd.png")
        let big = Data(
            ("{\"points\": [" + Array(repeating: "[1, 2]", count: 200_000).joined(separator: ",") + "]}").utf8)
        let r1 = try await f.call(
            "POST", "/api/images/\(id)/predict", body: big, headers: ["Content-Type": "application/json"])
        #expect(r1.status == 413 && (r1.json["error"] as? String)?.contains("JSON requests may have") == true)
        let r2 = try await f.call("POST", "/api/images/\(id)/predict", json: ["points": [[1e39, 5]]])
        #expect(
            r2.status == 400 && (r2.json["error"] as? String)?.contains("points[0] holds 1e+39") == true, "\(r2.json)")
        let p = try await f.call("POST", "/api/images/\(id)/predict", json: ["points": [[40, 60]]])
        let rle = (p.json["masks"] as! [[String: Any]])[0]["rle"]!
        let prompt: [String: Any] = [
            "points": Array(repeating: [1, 2], count: 300), "labels": Array(repeating: 1, count: 300),
        ]
        let r3 = try await f.call(
            "POST", "/api/annotations", json: ["image": id, "label": "x", "segmentation": rle, "prompt": prompt])
        #expect(r3.status == 400 && (r3.json["error"] as? String)?.contains("at most 256 points") == true)
        let r4 = try await f.call("POST", "/api/images/\(id)/auto", json: [String: Any]())
        #expect(r4.status == 429, "\(r4.json)")
        let bomb = try Data(contentsOf: ImageFixtures.url("bomb_22000.png"))
        let r5 = try await f.call("POST", "/api/images/upload?name=bomb.png", body: bomb)
        #expect(r5.status == 413 && (r5.json["error"] as? String)?.contains("22000×22000") == true, "\(r5.json)")
        #expect(!FileManager.default.fileExists(atPath: f.project.appendingPathComponent("bomb.png").path))
        let longName = String(repeating: "n", count: 246) + ".png"  // 250 bytes: the temporary's name is shortened
        let png = try Data(contentsOf: f.project.appendingPathComponent("odd.png"))
        let r6 = try await f.call("POST", "/api/images/upload?name=\(longName)", body: png)
        #expect(r6.status == 200, "\(r6.json)")
        #expect(FileManager.default.fileExists(atPath: f.project.appendingPathComponent(longName).path))
    }

    /// Stopping the server cancels an automatic-mask job in flight at its next batch.
    @Test func stoppingCancelsAutomaticMasks() async throws {
        let f = try ServerFixture()
        let id = try await f.open("square.png")
        let started = Date()
        async let reply = f.call("POST", "/api/images/\(id)/auto", json: ["points_per_side": 128])
        try await Task.sleep(nanoseconds: 300_000_000)
        f.server.stop()
        let r = try? await reply
        #expect(r == nil || r!.status == 503, "\(String(describing: r?.json))")
        #expect(Date().timeIntervalSince(started) < 20)
    }

    /// A client that leaves cancels its automatic-mask job at the next batch: the job's place is free
    /// for the next request long before the abandoned job (49k points) could have finished.
    @Test func leavingClientCancelsAutomaticMasks() async throws {
        let f = try ServerFixture()
        let id = try await f.open("square.png")
        let fd = try f.openSocket()
        let body = #"{"points_per_side": 128, "crop_n_layers": 2}"#
        let head = "POST /api/images/\(id)/auto HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        let request = head + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
        #expect(send(fd, request, request.utf8.count, 0) == request.utf8.count)
        try await Task.sleep(nanoseconds: 500_000_000)
        #expect(try await f.call("POST", "/api/images/\(id)/auto", json: ["points_per_side": 2]).status == 429)
        close(fd)
        let left = Date()
        var status = 429
        while status == 429 && Date().timeIntervalSince(left) < 20 {
            try await Task.sleep(nanoseconds: 200_000_000)
            status = try await f.call("POST", "/api/images/\(id)/auto", json: ["points_per_side": 2]).status
        }
        #expect(status == 200)
    }
}
