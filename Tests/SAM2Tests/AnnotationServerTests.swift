// The annotation server (`sam2 serve`) on loopback, in-process, with the small fixture model:
// health, opening and uploading images, prompts equal to SAM2ImagePredictor's masks, refinement
// with a mask id, automatic masks, annotations saved, listed, deleted and exported, every malformed
// request answered by a 4xx JSON error while the server keeps answering, concurrent clients,
// eviction under a small memory budget; and the `sam2 serve` binary itself.

import Foundation
import Testing

@testable import SAM2
@testable import SAM2IO
@testable import SAM2Server
@testable import SAM2Workflows

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A running server on a temporary project folder holding odd.png and square.png.
final class ServerFixture: @unchecked Sendable {
    let project: URL
    let server: AnnotationServer
    let model: SAM2Model
    var base: String { "http://127.0.0.1:\(server.port)" }

    static let smallModel = Result { try ModelFixtures.smallModel("2.1") }

    /// Removes the project folder at the end (false when it was given).
    private let ownsProject: Bool

    /// `project`: serve this folder (kept at the end) instead of a new one.
    init(
        maxUploadBytes: Int = 1 << 20, cacheBytes: Int = 1 << 30, allowedHosts: [String] = [],
        project given: URL? = nil,
        configure: (inout AnnotationServer.Options) -> Void = { _ in }
    ) throws {
        model = try Self.smallModel.get()
        ownsProject = given == nil
        project =
            given ?? FileManager.default.temporaryDirectory.appendingPathComponent("sam2-serve-\(UUID().uuidString)")
        if given == nil {
            try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
            for name in ["odd.png", "square.png"] {
                try FileManager.default.copyItem(
                    at: ModelFixtures.url("model/images/\(name)"), to: project.appendingPathComponent(name))
            }
        }
        var options = AnnotationServer.Options()
        options.port = 0
        options.maxUploadBytes = maxUploadBytes
        options.cacheBytes = cacheBytes
        options.allowedHosts = allowedHosts
        configure(&options)
        server = try AnnotationServer(model: model, project: ProjectFolder(path: project.path), options: options)
    }

    /// A socket connected to the server, for requests written by hand.
    func openSocket() throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(server.port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(connected == 0)
        return fd
    }

    deinit {
        server.stop()
        if ownsProject { try? FileManager.default.removeItem(at: project) }
    }

    struct Reply {
        var status: Int
        var data: Data
        var headers: [AnyHashable: Any]
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:] }
    }

    func call(_ method: String, _ path: String, json: Any? = nil, body: Data? = nil, headers: [String: String] = [:])
        async throws -> Reply
    {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        } else if let body {
            request.httpBody = body
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        return Reply(status: http.statusCode, data: data, headers: http.allHeaderFields)
    }

    func open(_ name: String) async throws -> String {
        let r = try await call("POST", "/api/images/open", json: ["name": name])
        #expect(r.status == 200, "\(String(decoding: r.data, as: UTF8.self))")
        return r.json["id"] as! String
    }

    /// The predictor's answer for the same image and prompt, in process.
    func expected(
        _ image: String, points: [SIMD2<Float>], labels: [Int], box: SIMD4<Float>? = nil, maskInput: Tensor? = nil,
        multimask: Bool
    ) throws -> SAM2Prediction {
        let predictor = SAM2ImagePredictor(model: model)
        try predictor.setImage(ImageIO.readImage(project.appendingPathComponent(image)))
        return try predictor.predict(
            points: points, labels: labels, box: box, maskInput: maskInput, multimaskOutput: multimask)
    }
}

/// The masks of a reply, decoded from COCO RLE to row-major 0/1.
func replyMasks(_ reply: ServerFixture.Reply) -> [[UInt8]] {
    (reply.json["masks"] as! [[String: Any]]).map { m in
        let rle = m["rle"] as! [String: Any]
        let size = rle["size"] as! [Int]
        return UncompressedRLE(cocoString: rle["counts"] as! String, height: size[0], width: size[1])!.mask()
    }
}

func predictionMasks(_ p: SAM2Prediction) -> [[UInt8]] {
    let plane = p.masks.count / p.scores.count
    let values = p.masks.scalars
    return (0..<p.scores.count).map { k in values[(k * plane)..<((k + 1) * plane)].map { $0 > 0 ? 1 : 0 } }
}

@Suite(.serialized) struct AnnotationServerTests {
    @Test func healthAndProjectListing() async throws {
        let f = try ServerFixture()
        let health = try await f.call("GET", "/api/health")
        #expect(
            health.status == 200 && health.json["status"] as? String == "ok"
                && health.json["config"] as? String == "small_2.1")
        let project = try await f.call("GET", "/api/project")
        let names = (project.json["images"] as! [[String: Any]]).map { $0["name"] as! String }
        #expect(names == ["odd.png", "square.png"])
        let page = try await f.call("GET", "/")
        #expect(page.status == 200 && String(decoding: page.data, as: UTF8.self).contains("<canvas id=\"mask-canvas\""))
        for asset in ["/app.js", "/app.css"] { #expect(try await f.call("GET", asset).status == 200) }
    }

    @Test func promptMasksEqualThePredictorsAndRefinementFeedsTheLogitsBack() async throws {
        let f = try ServerFixture()
        let id = try await f.open("odd.png")
        #expect(try await f.open("odd.png") == id)  // one session per image
        let first = try await f.call("POST", "/api/images/\(id)/predict", json: ["points": [[40, 60]], "labels": [1]])
        #expect(first.status == 200)
        #expect((first.headers["Server-Timing"] as? String)?.contains("predict;dur=") == true)
        let expected = try f.expected("odd.png", points: [SIMD2(40, 60)], labels: [1], multimask: true)
        #expect(replyMasks(first) == predictionMasks(expected))
        let records = first.json["masks"] as! [[String: Any]]
        #expect(records.map { Float($0["score"] as! Double) } == expected.scores)
        let best = first.json["best"] as! Int
        #expect(best == expected.scores.indices.max { expected.scores[$0] < expected.scores[$1] })

        // A second click with the best mask's logits as mask input, one mask.
        let refine = try await f.call(
            "POST", "/api/images/\(id)/predict",
            json: [
                "points": [[40, 60], [70, 100]], "labels": [1, 0], "mask_input": records[best]["id"] as! String,
                "multimask": false,
            ])
        #expect(refine.status == 200)
        let logits = expected.lowResLogits.slice(axis: 0, best..<(best + 1))
        let refined = try f.expected(
            "odd.png", points: [SIMD2(40, 60), SIMD2(70, 100)], labels: [1, 0], maskInput: logits, multimask: false)
        #expect(replyMasks(refine) == predictionMasks(refined))

        // A box, and PNG output.
        let box = try await f.call(
            "POST", "/api/images/\(id)/predict", json: ["box": [10, 20, 80, 110], "format": "png"])
        #expect(box.status == 200)
        let boxExpected = try f.expected(
            "odd.png", points: [], labels: [], box: SIMD4(10, 20, 80, 110), multimask: false)
        let png = Data(base64Encoded: (box.json["masks"] as! [[String: Any]])[0]["png"] as! String)!
        let file = f.project.appendingPathComponent(".mask.png")
        try png.write(to: file)
        #expect(try ImageIO.readMask(file).values == predictionMasks(boxExpected)[0])
    }

    @Test func automaticMasksEqualTheGenerators() async throws {
        let f = try ServerFixture()
        let id = try await f.open("square.png")
        let r = try await f.call(
            "POST", "/api/images/\(id)/auto",
            json: ["points_per_side": 4, "pred_iou_thresh": 0, "stability_score_thresh": 0])
        #expect(r.status == 200)
        var options = SAM2AutomaticMaskGenerator.Options()
        options.pointsPerSide = 4
        options.predIoUThresh = 0
        options.stabilityScoreThresh = 0
        let expected = try SAM2AutomaticMaskGenerator(model: f.model, options: options).generate(
            ImageIO.readImage(f.project.appendingPathComponent("square.png")))
        #expect(!expected.isEmpty)
        #expect(replyMasks(r) == expected.map { $0.rle.mask() })
    }

    @Test func annotationsAreSavedListedDeletedExportedAndKept() async throws {
        let f = try ServerFixture()
        let id = try await f.open("odd.png")
        let p = try await f.call("POST", "/api/images/\(id)/predict", json: ["points": [[40, 60]]])
        let masks = p.json["masks"] as! [[String: Any]]
        var saved: [Int] = []
        for (k, label) in ["cat", "dog", "cat"].enumerated() {
            let r = try await f.call(
                "POST", "/api/annotations",
                json: ["image": id, "label": label, "segmentation": masks[k]["rle"]!, "score": masks[k]["score"]!])
            #expect(r.status == 200)
            saved.append(r.json["id"] as! Int)
        }
        #expect(try await f.call("DELETE", "/api/annotations/\(saved[1])").status == 200)
        let list = try await f.call("GET", "/api/annotations?image=odd.png")
        #expect((list.json["annotations"] as! [[String: Any]]).map { $0["id"] as! Int } == [saved[0], saved[2]])
        let export = try await f.call("POST", "/api/export", json: ["coco": true, "png": true])
        #expect(export.status == 200)
        #expect(
            export.json["files"] as? [String] == [
                "export/instances.json", "export/masks/odd.png/\(saved[0]).png", "export/masks/odd.png/\(saved[2]).png",
            ])
        let coco =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: f.project.appendingPathComponent("export/instances.json"))) as! [String: Any]
        let annotations = coco["annotations"] as! [[String: Any]]
        #expect(annotations.count == 2)
        #expect((coco["categories"] as! [[String: Any]]).map { $0["name"] as! String } == ["cat"])
        let decoded = annotations.map { a -> [UInt8] in
            let s = a["segmentation"] as! [String: Any]
            return UncompressedRLE(cocoString: s["counts"] as! String, height: 131, width: 97)!.mask()
        }
        let expected = predictionMasks(try f.expected("odd.png", points: [SIMD2(40, 60)], labels: [1], multimask: true))
        #expect(decoded == [expected[0], expected[2]])
        let png = try ImageIO.readMask(f.project.appendingPathComponent("export/masks/odd.png/\(saved[2]).png"))
        #expect(png.values == expected[2])
        // No temporary files left, and a new server on the folder finds the annotations again.
        let leftovers = try FileManager.default.contentsOfDirectory(
            atPath: f.project.appendingPathComponent("export").path
        ).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
        let store = try AnnotationStore(project: ProjectFolder(path: f.project.path))
        #expect(store.list(image: nil).map(\.id) == [saved[0], saved[2]])
    }

    @Test func uploadsAreSavedInTheProjectAndOpened() async throws {
        let f = try ServerFixture()
        let bytes = try Data(contentsOf: ModelFixtures.url("model/images/portrait.png"))
        let r = try await f.call("POST", "/api/images/upload?name=portrait.png", body: bytes)
        #expect(r.status == 200 && r.json["name"] as? String == "portrait.png" && r.json["width"] as? Int == 180)
        let again = try await f.call("POST", "/api/images/upload?name=portrait.png", body: bytes)
        #expect(again.json["id"] as? String == r.json["id"] as? String)
        let other = try await f.call("POST", "/api/images/upload?name=odd.png", body: bytes)
        #expect(other.json["name"] as? String == "odd-2.png")
        #expect(try Data(contentsOf: f.project.appendingPathComponent("portrait.png")) == bytes)
    }

    @Test func malformedRequestsGetJSONErrorsAndTheServerKeepsAnswering() async throws {
        let f = try ServerFixture(maxUploadBytes: 64 << 10)
        let id = try await f.open("odd.png")
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent(
            "sam2-outside-\(UUID().uuidString).png")
        try FileManager.default.copyItem(at: ModelFixtures.url("model/images/odd.png"), to: outside)
        defer { try? FileManager.default.removeItem(at: outside) }
        try FileManager.default.createSymbolicLink(
            at: f.project.appendingPathComponent("escape.png"), withDestinationURL: outside)
        let big = try Data(contentsOf: ModelFixtures.url("model/images/square.png"))  // 142 KB > 64 KB
        let predict = "/api/images/\(id)/predict"
        let cases: [(String, String, Any?, Data?, Int)] = [
            ("POST", predict, nil, Data("{\"points\": [[1, 2]".utf8), 400),
            ("POST", predict, nil, Data(), 400),
            ("POST", predict, nil, Data("[1, 2]".utf8), 400),
            ("POST", predict, ["points": "here"], nil, 400),
            ("POST", predict, ["points": [[1, 2, 3]]], nil, 400),
            ("POST", predict, ["points": [[1, 2]], "labels": [2]], nil, 400),
            ("POST", predict, ["points": [[1, 2]], "labels": [1, 1]], nil, 400),
            ("POST", predict, ["points": [[1000, 2]]], nil, 400),
            ("POST", predict, ["box": [50, 50, 10, 10]], nil, 400),
            ("POST", predict, ["box": [1, 2, 3]], nil, 400),
            ("POST", predict, [String: Any](), nil, 400),
            ("POST", predict, ["points": [[1, 2]], "mask_input": "m999999"], nil, 404),
            ("POST", predict, ["points": [[1, 2]], "format": "gif"], nil, 400),
            ("POST", predict, nil, Data("{\"points\": [[1e999, 2]]}".utf8), 400),
            ("POST", "/api/images/nope/predict", ["points": [[1, 2]]], nil, 404),
            ("GET", predict, nil, nil, 405),
            ("POST", "/api/images/\(id)/auto", ["points_per_side": 100000], nil, 400),
            ("POST", "/api/images/\(id)/auto", ["pred_iou_thresh": 7], nil, 400),
            ("POST", "/api/images/open", ["name": "../odd.png"], nil, 400),
            ("POST", "/api/images/open", ["name": "/etc/passwd"], nil, 400),
            ("POST", "/api/images/open", ["name": "..%2fodd.png"], nil, 400),
            ("POST", "/api/images/open", ["name": ".hidden.png"], nil, 400),
            ("POST", "/api/images/open", ["name": "notes.txt"], nil, 400),
            ("POST", "/api/images/open", ["name": "missing.png"], nil, 404),
            ("POST", "/api/images/open", ["name": "escape.png"], nil, 403),
            ("POST", "/api/images/open", ["nom": "odd.png"], nil, 400),
            ("POST", "/api/images/upload?name=../up.png", nil, Data(count: 10), 400),
            ("POST", "/api/images/upload?name=up.png", nil, Data("not an image at all".utf8), 415),
            ("POST", "/api/images/upload?name=up.png", nil, big, 413),
            (
                "POST", "/api/annotations",
                ["image": id, "label": "x", "segmentation": ["size": [2, 2], "counts": "04"]], nil, 400
            ),
            (
                "POST", "/api/annotations",
                ["image": id, "label": "x", "segmentation": ["size": [131, 97], "counts": "!!"]], nil, 400
            ),
            (
                "POST", "/api/annotations",
                ["image": id, "label": "", "segmentation": ["size": [131, 97], "counts": "Ta<"]], nil, 400
            ),
            (
                "POST", "/api/annotations",
                ["image": "nope", "label": "x", "segmentation": ["size": [131, 97], "counts": "Ta<"]], nil, 404
            ),
            ("DELETE", "/api/annotations/12345", nil, nil, 404),
            ("DELETE", "/api/annotations/abc", nil, nil, 404),
            ("POST", "/api/export", ["coco": "yes"], nil, 400),
            ("GET", "/api/nothing", nil, nil, 404),
            ("GET", "/../../etc/passwd", nil, nil, 404),
        ]
        for (method, path, json, body, status) in cases {
            let r = try await f.call(method, path, json: json, body: body)
            let text = String(decoding: r.data, as: UTF8.self)
            #expect(r.status == status, "\(method) \(path) \(String(describing: json)): \(r.status) \(text)")
            #expect((r.json["error"] as? String)?.isEmpty == false, "\(method) \(path): \(text)")
            #expect(try await f.call("GET", "/api/health").status == 200)
        }
        #expect(!FileManager.default.fileExists(atPath: f.project.appendingPathComponent("up.png").path))
        // Requests another site could forge through a browser.
        let forged = try await f.call(
            "POST", "/api/export", json: [String: Any](), headers: ["Origin": "http://evil.example"])
        #expect(forged.status == 403 && (forged.json["error"] as? String)?.contains("cross-origin") == true)
        let rebound = try await f.call("GET", "/api/project", headers: ["Host": "evil.example:\(f.server.port)"])
        #expect(rebound.status == 403 && (rebound.json["error"] as? String)?.contains("not this machine") == true)
        #expect(
            try await f.call(
                "GET", "/api/health",
                headers: ["Host": "localhost:\(f.server.port)", "Origin": "http://localhost:\(f.server.port)"]
            ).status == 200)
        #expect(try await f.call("POST", predict, json: ["points": [[40, 60]]]).status == 200)
    }

    /// DNS rebinding: a name that merely begins like a loopback address (`127.attacker.example`, which
    /// the attacker's DNS may point at this machine) is refused with its own Origin, for reads, uploads
    /// and deletions alike; literal loopback addresses, localhost and names given with --allow-host pass.
    @Test func onlyLiteralLoopbackHostsAndAllowedNamesPass() async throws {
        let f = try ServerFixture(allowedHosts: ["annotate.lan"])
        let port = f.server.port
        let png = try Data(contentsOf: ModelFixtures.url("model/images/square.png"))
        for name in [
            "127.attacker.example", "127.0.0.1.attacker.example", "127.1", "0x7f.0.0.1", "localhost.attacker.example",
            "evil.example", "::ffff:127.0.0.1", "",
        ] {
            let host = name.contains(":") ? "[\(name)]:\(port)" : "\(name):\(port)"
            let headers = ["Host": host, "Origin": "http://\(host)"]
            for (method, path, body) in [
                ("GET", "/api/project", nil), ("POST", "/api/images/upload?name=x.png", png),
                ("DELETE", "/api/annotations/1", nil),
            ] as [(String, String, Data?)] {
                let r = try await f.call(method, path, body: body, headers: headers)
                #expect(
                    r.status == 403 && (r.json["error"] as? String)?.contains("not this machine") == true,
                    "\(method) \(path) Host \(host): \(r.status)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: f.project.appendingPathComponent("x.png").path))
        for name in ["127.0.0.1", "127.3.2.1", "localhost", "LocalHost", "[::1]", "annotate.lan", "ANNOTATE.lan"] {
            let host = "\(name):\(port)"
            let r = try await f.call("GET", "/api/project", headers: ["Host": host, "Origin": "http://\(host)"])
            #expect(r.status == 200, "Host \(host): \(r.status)")
        }
    }

    @Test func concurrentClientsGetTheirOwnMasks() async throws {
        let f = try ServerFixture()
        let ids = [try await f.open("odd.png"), try await f.open("square.png")]
        let prompts: [SIMD2<Float>] = [SIMD2(10, 20), SIMD2(40, 60), SIMD2(80, 30), SIMD2(50, 90)]
        var expected: [String: [[UInt8]]] = [:]
        for (i, name) in ["odd.png", "square.png"].enumerated() {
            for p in prompts {
                expected["\(ids[i]) \(p)"] = predictionMasks(
                    try f.expected(name, points: [p], labels: [1], multimask: true))
            }
        }
        let results = try await withThrowingTaskGroup(of: (String, [[UInt8]]).self) { group in
            for client in 0..<8 {
                for click in 0..<3 {
                    let id = ids[client % 2]
                    let p = prompts[(client + click) % prompts.count]
                    group.addTask {
                        let r = try await f.call("POST", "/api/images/\(id)/predict", json: ["points": [[p.x, p.y]]])
                        return ("\(id) \(p)", replyMasks(r))
                    }
                }
            }
            return try await group.reduce(into: [(String, [[UInt8]])]()) { $0.append($1) }
        }
        #expect(results.count == 24)
        for (key, masks) in results { #expect(masks == expected[key], "\(key)") }
    }

    @Test func evictedImagesAreOpenedAgainOnDemand() async throws {
        let f = try ServerFixture(cacheBytes: 1)
        let odd = try await f.open("odd.png")
        _ = try await f.open("square.png")
        #expect(try await f.call("GET", "/api/health").json["images_cached"] as? Int == 1)
        let r = try await f.call("POST", "/api/images/\(odd)/predict", json: ["points": [[40, 60]]])
        #expect(r.status == 200)
        #expect(
            replyMasks(r)
                == predictionMasks(try f.expected("odd.png", points: [SIMD2(40, 60)], labels: [1], multimask: true)))
    }

    @Test func savedAnnotationsNamingFilesOutsideTheProjectAreRefused() throws {
        let project = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: project) }
        let store = project.appendingPathComponent(".sam2/annotations.json")
        try FileManager.default.createDirectory(
            at: store.deletingLastPathComponent(), withIntermediateDirectories: true)
        let record =
            #"{"id":1,"image":"../escape.png","label":"x","segmentation":{"size":[2,2],"counts":"04"},"area":4,"bbox":[0,0,1,1]}"#
        try Data("[\(record)]".utf8).write(to: store)
        #expect(throws: APIError.self) { try AnnotationStore(project: ProjectFolder(path: project.path)) }
    }

    /// A symbolic link planted as PROJECT/export, PROJECT/export/masks/<image> or PROJECT/.sam2 is
    /// never written through: exports and saves answer 409 and the files it points at stay as they were.
    @Test func symlinkedExportAndStoreFoldersAreNotFollowed() async throws {
        let f = try ServerFixture()
        let id = try await f.open("odd.png")
        let p = try await f.call("POST", "/api/images/\(id)/predict", json: ["points": [[40, 60]]])
        let rle = (p.json["masks"] as! [[String: Any]])[0]["rle"]!
        #expect(
            try await f.call("POST", "/api/annotations", json: ["image": id, "label": "cat", "segmentation": rle])
                .status == 200)
        let outside = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: outside) }
        let victim = outside.appendingPathComponent("instances.json")
        let stale = outside.appendingPathComponent("7.png")
        try Data("keep".utf8).write(to: victim)
        try Data("keep".utf8).write(to: stale)
        let fm = FileManager.default
        func untouched() throws -> Bool {
            try fm.contentsOfDirectory(atPath: outside.path).sorted() == ["7.png", "instances.json"]
                && Data(contentsOf: victim) == Data("keep".utf8) && Data(contentsOf: stale) == Data("keep".utf8)
        }
        // export itself a link
        try fm.createSymbolicLink(at: f.project.appendingPathComponent("export"), withDestinationURL: outside)
        for body in [["coco": true, "png": false], ["coco": false, "png": true]] {
            let r = try await f.call("POST", "/api/export", json: body)
            #expect(
                r.status == 409 && (r.json["error"] as? String)?.contains("symbolic link") == true,
                "\(r.status) \(r.json)")
        }
        #expect(try untouched())
        // a mask folder a link (the stale-PNG clean-up would delete 7.png through it)
        try fm.removeItem(at: f.project.appendingPathComponent("export"))
        try fm.createDirectory(at: f.project.appendingPathComponent("export/masks"), withIntermediateDirectories: true)
        try fm.createSymbolicLink(
            at: f.project.appendingPathComponent("export/masks/odd.png"), withDestinationURL: outside)
        try fm.createSymbolicLink(
            at: f.project.appendingPathComponent("export/masks/gone.png"), withDestinationURL: outside)
        #expect(try await f.call("POST", "/api/export", json: ["coco": false, "png": true]).status == 409)
        #expect(try untouched())
        // the annotation store's folder a link
        try fm.removeItem(at: f.project.appendingPathComponent(".sam2"))
        try fm.createSymbolicLink(at: f.project.appendingPathComponent(".sam2"), withDestinationURL: outside)
        let save = try await f.call(
            "POST", "/api/annotations", json: ["image": id, "label": "dog", "segmentation": rle])
        #expect(save.status == 409 && (save.json["error"] as? String)?.contains("symbolic link") == true)
        #expect(try untouched())
        #expect(throws: APIError.self) { try AnnotationStore(project: ProjectFolder(path: f.project.path)) }
    }

    @Test func serveCommandStartsAnswersAndStopsOnSIGTERM() async throws {
        let help = try CLI.run(["serve", "--help"])
        #expect(
            help.status == 0 && help.stdout.contains("usage: sam2 serve") && help.stdout.contains("--max-upload-mb"))
        let project = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: project) }
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = [
            "serve", "--checkpoint", CLI.checkpoint, "--config", CLI.config, "--port", "0", "--project", project.path,
            "--quiet",
        ]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let line = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        let address = try #require(line.split(separator: " ").first { $0.hasPrefix("http://") })
        let (data, response) = try await URLSession.shared.data(from: URL(string: address + "api/health")!)
        #expect(
            (response as! HTTPURLResponse).statusCode == 200 && String(decoding: data, as: UTF8.self).contains("\"ok\"")
        )
        let port = String(address.split(separator: ":").last!.dropLast())
        let busy = try CLI.run([
            "serve", "--checkpoint", CLI.checkpoint, "--config", CLI.config, "--port", port, "--project", project.path,
        ])
        #expect(busy.status == 1 && busy.stderr.contains("cannot listen on 127.0.0.1:\(port)"), "\(busy.stderr)")
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let host = try CLI.run([
            "serve", "--checkpoint", CLI.checkpoint, "--config", CLI.config, "--host", "not-an-address",
        ])
        #expect(host.status == 2 && host.stderr.contains("not an IPv4 or IPv6 address"))
        let missing = try CLI.run(["serve", "--checkpoint", CLI.checkpoint, "--project", "/nonexistent/folder"])
        #expect(missing.status == 2 && missing.stderr.contains("/nonexistent/folder does not exist"))
    }
}
