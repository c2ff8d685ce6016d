// The annotation server's video API on loopback, in process, with the small fixture model: videos
// listed, frames served as JPEG, prompts and background tracking whose masks equal the video
// predictor's (what `sam2 track` writes) frame by frame, one job per video, cancel, state kept across
// a restart, DAVIS/COCO/MP4 export, and hostile requests answered by a 4xx JSON error.

import Foundation
import Testing

@testable import SAM2
@testable import SAM2IO
@testable import SAM2Server
@testable import SAM2Workflows

/// A new project folder holding the fixture images, frame folder (`frames`, 10 frames) and clip (`clip.mp4`).
private func videoProject() throws -> URL {
    let project = FileManager.default.temporaryDirectory.appendingPathComponent("sam2-video-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
    for name in ["model/images/odd.png", "model/images/square.png", "video/frames", "video/clip.mp4"] {
        try FileManager.default.copyItem(
            at: ModelFixtures.url(name), to: project.appendingPathComponent((name as NSString).lastPathComponent))
    }
    return project
}

/// A server on `project` (kept), or on a new video project (removed at the end).
private func videoFixture(project: URL? = nil) throws -> ServerFixture {
    guard let project else {
        let f = try ServerFixture(maxUploadBytes: 8 << 20)
        for name in ["frames", "clip.mp4"] {
            try FileManager.default.copyItem(
                at: ModelFixtures.url("video/\(name)"), to: f.project.appendingPathComponent(name))
        }
        return f
    }
    return try ServerFixture(maxUploadBytes: 8 << 20, project: project)
}

/// The reference session's first prompts: a click on object 1 and a box on object 2, frame 0.
private func sessionPrompts() throws -> [[String: Any]] {
    let (_, events) = try TrackCommandTests.session()
    return events.prefix(2).map { e in
        var entry: [String: Any] = ["frame": e["frame"]!, "object": e["object"]!]
        for key in ["points", "labels", "box"] { if let v = e[key] { entry[key] = v } }
        return entry
    }
}

/// Masks of a reply's objects by id, decoded to row-major 0/1.
private func objectMasks(_ objects: Any?) -> [Int: [UInt8]] {
    var out: [Int: [UInt8]] = [:]
    for o in objects as! [[String: Any]] {
        let rle = o["mask"] as! [String: Any]
        let size = rle["size"] as! [Int]
        out[o["id"] as! Int] = UncompressedRLE(cocoString: rle["counts"] as! String, height: size[0], width: size[1])!
            .mask()
    }
    return out
}

/// What `sam2 track` computes: the predictor on the same frames and prompts, every frame's masks by object.
private func predictorMasks(_ model: SAM2Model, video: URL, prompts: [[String: Any]]) throws -> [Int: [Int: [UInt8]]] {
    let predictor = SAM2VideoPredictor(model: model)
    try predictor.initState(video: video)
    for p in prompts {
        let points = (p["points"] as? [[Double]] ?? []).map { SIMD2(Float($0[0]), Float($0[1])) }
        let box = (p["box"] as? [Double]).map { SIMD4($0.map(Float.init)) }
        try predictor.addPoints(
            frame: p["frame"] as! Int, object: p["object"] as! Int, points: points, labels: p["labels"] as? [Int] ?? [],
            box: box)
    }
    var out: [Int: [Int: [UInt8]]] = [:]
    try predictor.propagate { r in
        let plane = r.masks.count / r.objectIDs.count
        let values = r.masks.scalars
        for (k, id) in r.objectIDs.enumerated() {
            out[r.frameIndex, default: [:]][id] = values[(k * plane)..<((k + 1) * plane)].map { $0 > 0 ? 1 : 0 }
        }
    }
    return out
}

/// A tracking job's `stopping` that holds the job after each frame until the test opens it.
private final class Gate: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)

    /// Waits until opened; never asks the job to stop.
    func wait() -> Bool {
        semaphore.wait()
        semaphore.signal()
        return false
    }

    func open() { semaphore.signal() }
}

/// Polls the tracking status until the job leaves "running".
private func waitForJob(_ f: ServerFixture, _ id: String) async throws -> [String: Any] {
    for _ in 0..<3000 {
        let status = try await f.call("GET", "/api/videos/\(id)/track").json
        if status["status"] as? String != "running" { return status }
        try await Task.sleep(nanoseconds: 10_000_000)
    }
    Issue.record("tracking did not end")
    return [:]
}

@Suite(.serialized) struct VideoServerTests {
    @Test func trackedMasksEqualTheVideoPredictorFrameByFrame() async throws {
        let f = try videoFixture()
        let listing = try await f.call("GET", "/api/project")
        #expect((listing.json["videos"] as! [[String: Any]]).map { $0["name"] as! String } == ["clip.mp4", "frames"])
        let open = try await f.call("POST", "/api/videos/open", json: ["name": "frames"])
        #expect(open.status == 200, "\(String(decoding: open.data, as: UTF8.self))")
        let id = open.json["id"] as! String
        #expect(open.json["frames"] as? Int == 10)
        let (width, height) = (open.json["width"] as! Int, open.json["height"] as! Int)
        let frame = try await f.call("GET", "/api/videos/\(id)/frames/3")
        #expect(frame.status == 200 && frame.data.starts(with: [0xFF, 0xD8]))
        #expect(frame.headers["Content-Type"] as? String == "image/jpeg")
        let decoded = try ImageIO.decodeImage(frame.data, name: "frame")
        #expect(decoded.width == width && decoded.height == height)

        let prompts = try sessionPrompts()
        let expected = try predictorMasks(f.model, video: f.project.appendingPathComponent("frames"), prompts: prompts)
        for p in prompts {
            let r = try await f.call("POST", "/api/videos/\(id)/prompts", json: p)
            #expect(r.status == 200, "\(String(decoding: r.data, as: UTF8.self))")
            #expect(r.json["frame"] as? Int == 0 && r.json["object"] as? Int == p["object"] as? Int)
        }
        let untracked = try await f.call("GET", "/api/videos/\(id)/masks?frame=5")
        #expect(untracked.status == 404 && untracked.json["error"] != nil)

        // The job is started in process and held after its first frame, so that it is surely running.
        let gate = Gate()
        let started = try f.server.video(id).startTracking(TrackRequest(), stopping: gate.wait)
        #expect(started.status == "running")
        let second = try await f.call("POST", "/api/videos/\(id)/track", json: [String: Any]())
        let busy = try await f.call("POST", "/api/videos/\(id)/prompts", json: prompts[0])
        gate.open()
        let status = try await waitForJob(f, id)
        #expect(second.status == 409 && second.json["error"] != nil, "\(second.json)")
        #expect(busy.status == 409)
        #expect(status["status"] as? String == "done" && status["done"] as? Int == 10 && status["total"] as? Int == 10)
        for frame in 0..<10 {
            let r = try await f.call("GET", "/api/videos/\(id)/masks?frame=\(frame)")
            #expect(r.status == 200 && r.json["frame"] as? Int == frame)
            let served = objectMasks(r.json["objects"])
            #expect(served.keys.sorted() == [1, 2])
            for (object, mask) in served {
                #expect(mask == expected[frame]![object]!, "frame \(frame), object \(object)")
            }
        }

        // Export: the DAVIS PNGs hold the predictor's masks (smaller id on top), COCO one image per frame.
        let export = try await f.call("POST", "/api/videos/\(id)/export", json: ["formats": ["davis", "coco", "mp4"]])
        #expect(export.status == 200, "\(export.json)")
        let files = export.json["files"] as! [String]
        #expect(files.contains("export/frames/davis/00009.png") && files.contains("export/frames/instances.json"))
        #expect(files.contains("export/frames/overlay.mp4"))
        let png = try ImageIO.readIndexedMask(f.project.appendingPathComponent("export/frames/davis/00004.png"))
        let painted = (0..<(width * height)).map { i -> UInt8 in
            expected[4]![1]![i] != 0 ? 1 : expected[4]![2]![i] != 0 ? 2 : 0
        }
        #expect(png.values == painted)
        let video = try openVideo(f.project.appendingPathComponent("export/frames/overlay.mp4"))
        #expect(video.frameCount == 10 && video.width == width)
    }

    @Test func cancelCorrectRemoveObjectAndReset() async throws {
        let f = try videoFixture()
        let id = try await f.call("POST", "/api/videos/open", json: ["name": "clip.mp4"]).json["id"] as! String
        for p in try sessionPrompts() {
            #expect(try await f.call("POST", "/api/videos/\(id)/prompts", json: p).status == 200)
        }
        let gate = Gate()
        _ = try f.server.video(id).startTracking(TrackRequest(), stopping: gate.wait)
        let cancel = try await f.call("DELETE", "/api/videos/\(id)/track")
        gate.open()
        #expect(cancel.status == 202)
        let status = try await waitForJob(f, id)
        #expect(status["status"] as? String == "cancelled" && (status["done"] as! Int) < (status["total"] as! Int))
        #expect(try await f.call("DELETE", "/api/videos/\(id)/track").status == 409)  // nothing runs

        // A correction on a tracked frame, then tracking again: as `sam2 track` with all three prompts.
        let correction: [String: Any] = [
            "frame": 3, "object": 1, "points": [[20.0, 20.0], [30.0, 25.0]], "labels": [1, 0],
        ]
        #expect(try await f.call("POST", "/api/videos/\(id)/prompts", json: correction).status == 200)
        #expect(try await f.call("POST", "/api/videos/\(id)/track", json: [String: Any]()).status == 202)
        #expect(try await waitForJob(f, id)["status"] as? String == "done")
        let prompts = try sessionPrompts() + [correction]
        let expected = try predictorMasks(
            f.model, video: f.project.appendingPathComponent("clip.mp4"), prompts: prompts)
        for frame in expected.keys.sorted() {
            let served = try await f.call("GET", "/api/videos/\(id)/masks?frame=\(frame)")
            #expect(objectMasks(served.json["objects"]) == expected[frame], "frame \(frame)")
        }

        let removed = try await f.call("DELETE", "/api/videos/\(id)/objects/1")
        #expect(removed.status == 200 && removed.json["objects"] as? [Int] == [2], "\(removed.json)")
        let masks = try await f.call("GET", "/api/videos/\(id)/masks?frame=0")
        #expect(objectMasks(masks.json["objects"]).keys.sorted() == [2])
        #expect(try await f.call("DELETE", "/api/videos/\(id)/objects/1").status == 404)
        let reset = try await f.call("POST", "/api/videos/\(id)/reset")
        #expect(
            reset.status == 200 && (reset.json["objects"] as! [Int]).isEmpty
                && (reset.json["tracked"] as! [Int]).isEmpty)
        #expect(try await f.call("GET", "/api/videos/\(id)/masks?frame=0").status == 404)
    }

    @Test func twoVideosTrackedAtOnceKeepTheirOwnMasks() async throws {
        let f = try videoFixture()
        let prompts = try sessionPrompts()
        var ids: [String: String] = [:]
        for name in ["frames", "clip.mp4"] {
            let id = try await f.call("POST", "/api/videos/open", json: ["name": name]).json["id"] as! String
            for p in prompts { #expect(try await f.call("POST", "/api/videos/\(id)/prompts", json: p).status == 200) }
            ids[name] = id
        }
        async let first = f.call("POST", "/api/videos/\(ids["frames"]!)/track", json: [String: Any]())
        async let second = f.call("POST", "/api/videos/\(ids["clip.mp4"]!)/track", json: [String: Any]())
        #expect(try await [first.status, second.status] == [202, 202])
        for (name, id) in ids {
            #expect(try await waitForJob(f, id)["status"] as? String == "done")
            let expected = try predictorMasks(f.model, video: f.project.appendingPathComponent(name), prompts: prompts)
            for frame in expected.keys.sorted() {
                let served = try await f.call("GET", "/api/videos/\(id)/masks?frame=\(frame)")
                #expect(objectMasks(served.json["objects"]) == expected[frame], "\(name) frame \(frame)")
            }
        }
    }

    @Test func promptsAndMasksSurviveARestart() async throws {
        let project = try videoProject()
        defer { try? FileManager.default.removeItem(at: project) }
        var before: [Int: [Int: [UInt8]]] = [:]
        do {
            let f = try videoFixture(project: project)
            let id = try await f.call("POST", "/api/videos/open", json: ["name": "frames"]).json["id"] as! String
            for p in try sessionPrompts() { _ = try await f.call("POST", "/api/videos/\(id)/prompts", json: p) }
            _ = try await f.call("POST", "/api/videos/\(id)/track", json: ["max_frames": 5])
            #expect(try await waitForJob(f, id)["status"] as? String == "done")
            for frame in 0...5 {
                before[frame] = objectMasks(
                    try await f.call("GET", "/api/videos/\(id)/masks?frame=\(frame)").json["objects"])
            }
        }
        let f = try videoFixture(project: project)
        let open = try await f.call("POST", "/api/videos/open", json: ["name": "frames"])
        let id = open.json["id"] as! String
        #expect(open.json["objects"] as? [Int] == [1, 2] && open.json["tracked"] as? [Int] == Array(0...5))
        #expect((open.json["prompts"] as! [Any]).count == 2)
        for frame in 0...5 {
            #expect(
                objectMasks(try await f.call("GET", "/api/videos/\(id)/masks?frame=\(frame)").json["objects"])
                    == before[frame])
        }
        // Tracking again replays the kept prompts: the same masks, then the rest of the video.
        _ = try await f.call("POST", "/api/videos/\(id)/track", json: [String: Any]())
        #expect(try await waitForJob(f, id)["status"] as? String == "done")
        let expected = try predictorMasks(
            f.model, video: project.appendingPathComponent("frames"), prompts: try sessionPrompts())
        for frame in 0..<10 {
            #expect(
                objectMasks(try await f.call("GET", "/api/videos/\(id)/masks?frame=\(frame)").json["objects"])
                    == expected[frame])
        }
    }

    @Test func hostileRequestsGetJSONErrors() async throws {
        let f = try videoFixture()
        let clip = try Data(contentsOf: ModelFixtures.url("video/clip.mp4"))
        let png = try Data(contentsOf: ModelFixtures.url("model/images/odd.png"))
        let noFrames = try Data(contentsOf: ModelFixtures.url("video/no_frames.mp4"))
        let id = try await f.call("POST", "/api/videos/open", json: ["name": "frames"]).json["id"] as! String
        let cases: [(String, String, Any?, Data?, Int)] = [
            ("POST", "/api/videos/upload?name=fake.mp4", nil, png, 415),
            ("POST", "/api/videos/upload?name=text.mp4", nil, Data("not a video".utf8), 415),
            ("POST", "/api/videos/upload?name=empty.mp4", nil, noFrames, 400),
            ("POST", "/api/videos/upload?name=clip.png", nil, clip, 400),
            ("POST", "/api/videos/upload?name=..%2Fx.mp4", nil, clip, 400),
            ("POST", "/api/videos/open", ["name": "missing.mp4"], nil, 404),
            ("POST", "/api/videos/open", ["name": "../frames"], nil, 400),
            ("POST", "/api/videos/open", ["name": "odd.png"], nil, 404),
            ("POST", "/api/videos/open", ["nom": "frames"], nil, 400),
            ("GET", "/api/videos/v0000000000000000", nil, nil, 404),
            ("GET", "/api/videos/v0000000000000000/track", nil, nil, 404),
            ("GET", "/api/videos/\(id)/frames/10", nil, nil, 404),
            ("GET", "/api/videos/\(id)/frames/-1", nil, nil, 404),
            (
                "POST", "/api/videos/\(id)/prompts", ["frame": 10, "object": 1, "points": [[5, 5]], "labels": [1]], nil,
                400
            ),
            (
                "POST", "/api/videos/\(id)/prompts", ["frame": 0, "object": 1, "points": [[5, 5]], "labels": [5]], nil,
                400
            ),
            (
                "POST", "/api/videos/\(id)/prompts", ["frame": 0, "object": 1, "points": [[5, 5, 5]], "labels": [1]],
                nil, 400
            ),
            (
                "POST", "/api/videos/\(id)/prompts", ["frame": 0, "object": 1, "points": [[1e39, 5]], "labels": [1]],
                nil, 400
            ),
            (
                "POST", "/api/videos/\(id)/prompts", ["frame": 0, "object": 1, "points": [[5000, 5]], "labels": [1]],
                nil, 400
            ),
            (
                "POST", "/api/videos/\(id)/prompts", ["frame": 0, "object": 0, "points": [[5, 5]], "labels": [1]], nil,
                400
            ),
            ("POST", "/api/videos/\(id)/prompts", ["frame": 0, "object": 1], nil, 400),
            ("POST", "/api/videos/\(id)/prompts", ["frame": 0, "object": 1, "box": [9, 9, 1, 1]], nil, 400),
            ("POST", "/api/videos/\(id)/track", [String: Any](), nil, 400),  // no prompts yet
            ("POST", "/api/videos/\(id)/track", ["start": 10], nil, 400),
            ("POST", "/api/videos/\(id)/track", ["max_frames": -1], nil, 400),
            ("DELETE", "/api/videos/\(id)/objects/7", nil, nil, 404),
            ("DELETE", "/api/videos/\(id)/objects/x", nil, nil, 404),
            ("GET", "/api/videos/\(id)/masks?frame=abc", nil, nil, 400),
            ("GET", "/api/videos/\(id)/masks?frame=99", nil, nil, 404),
            ("GET", "/api/videos/\(id)/masks?frame=0", nil, nil, 404),
            ("POST", "/api/videos/\(id)/export", ["formats": ["gif"]], nil, 400),
            ("POST", "/api/videos/\(id)/export", ["formats": ["davis"]], nil, 409),  // nothing tracked
            ("PUT", "/api/videos/\(id)/reset", nil, nil, 405),
            ("GET", "/api/videos/\(id)/nothing", nil, nil, 404),
        ]
        for (method, path, json, body, expected) in cases {
            let r = try await f.call(method, path, json: json, body: body)
            #expect(r.status == expected, "\(method) \(path): \(r.status) \(String(decoding: r.data, as: UTF8.self))")
            #expect(r.json["error"] is String, "\(method) \(path)")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: f.project.path).sorted()
        #expect(names == [".sam2", "clip.mp4", "frames", "odd.png", "square.png"])  // nothing saved
        #expect(try await f.call("GET", "/api/health").status == 200)

        // A real upload is saved and opened; an object id over 255 cannot go into a DAVIS PNG.
        let upload = try await f.call("POST", "/api/videos/upload?name=new.mp4", body: clip)
        #expect(upload.status == 200 && upload.json["name"] as? String == "new.mp4", "\(upload.json)")
        let uid = upload.json["id"] as! String
        let big = ["frame": 0, "object": 300, "points": [[10, 10]], "labels": [1]] as [String: Any]
        #expect(try await f.call("POST", "/api/videos/\(uid)/prompts", json: big).status == 200)
        #expect(try await f.call("POST", "/api/videos/\(uid)/export", json: ["formats": ["davis"]]).status == 400)
        #expect(try await f.call("POST", "/api/videos/\(uid)/export", json: ["formats": ["coco"]]).status == 200)
    }
}
