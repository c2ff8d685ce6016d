// The annotation server's video API: listing, opening and uploading videos, frames as JPEG, prompts,
// background tracking (one job per video) with its status and cancel, each frame's masks, removing an
// object, resetting, and export. Routed here from AnnotationServer's `route`.

import Foundation
import SAM2
import SAM2IO
import SAM2Workflows

extension AnnotationServer {
    /// `/api/videos/...` (`api` is the path after /api).
    func routeVideos(_ request: HTTPRequest, _ api: [String]) throws -> HTTPResponse {
        let method = request.method
        func expect(_ allowed: String) throws {
            guard method == allowed else {
                throw APIError(405, "\(method) is not allowed on \(request.path); use \(allowed)")
            }
        }
        func body() -> Data { request.body.isEmpty ? Data("{}".utf8) : request.body }
        switch api.count {
        case 2 where api[1] == "open":
            try expect("POST")
            return Self.json(try openVideo(APICoding.decode(OpenVideoRequest.self, from: request.body).name).info)
        case 2 where api[1] == "upload":
            try expect("POST")
            return Self.json(try uploadVideo(request.body, name: request.query("name")).info)
        case 2:
            try expect("GET")
            return Self.json(try video(api[1]).info)
        case 4 where api[2] == "frames":
            try expect("GET")
            let session = try video(api[1])
            guard let f = Int(api[3]), (0..<session.frames.frameCount).contains(f) else {
                throw APIError.notFound(
                    "no frame '\(api[3])' in '\(session.name)': frames are 0…\(session.frames.frameCount - 1)")
            }
            let image = try session.frames.frame(f)
            return HTTPResponse(contentType: "image/jpeg", body: try ImageIO.encodeJPEG(image, name: session.name))
        case 3 where api[2] == "prompts":
            try expect("POST")
            let session = try video(api[1])
            let prompt = try APICoding.decode(VideoPrompt.self, from: request.body)
            let masks = try session.prompt(prompt)
            videos.account()
            let mask = masks.objects.first { $0.id == prompt.object }!
            return Self.json(
                PromptResponse(
                    frame: masks.frame, object: prompt.object, mask: mask.mask, score: mask.score, area: mask.area,
                    bbox: mask.bbox, objects: masks.objects))
        case 3 where api[2] == "track":
            let session = try video(api[1])
            switch method {
            case "POST":
                let track = try APICoding.decode(TrackRequest.self, from: body())
                let status = try session.startTracking(track) { [weak self] in
                    self?.stopping.load(ordering: .relaxed) ?? true
                }
                return Self.json(status, status: 202)
            case "DELETE":
                guard session.job.cancel() else { throw APIError(409, "no tracking job runs on '\(session.name)'") }
                return Self.json(session.job.status, status: 202)
            default:
                try expect("GET")
                return Self.json(session.job.status)
            }
        case 3 where api[2] == "masks":
            try expect("GET")
            let session = try video(api[1])
            guard let text = request.query("frame"), let frame = Int(text) else {
                throw APIError.badRequest("give the frame: masks?frame=F (an integer)")
            }
            return Self.json(try session.masks(frame: frame))
        case 4 where api[2] == "objects":
            try expect("DELETE")
            let session = try video(api[1])
            guard let object = Int(api[3]) else { throw APIError.notFound("no object '\(api[3])'") }
            try session.removeObject(object)
            return Self.json(session.info)
        case 3 where api[2] == "reset":
            try expect("POST")
            let session = try video(api[1])
            try session.reset()
            return Self.json(session.info)
        case 3 where api[2] == "export":
            try expect("POST")
            let session = try video(api[1])
            let formats = try APICoding.decode(VideoExportRequest.self, from: body()).formats
            return Self.json([
                "files": try session.export(formats: formats ?? ["davis", "coco", "mp4"], project: project)
            ])
        default:
            throw APIError.notFound("no API endpoint \(method) \(request.path)")
        }
    }

    /// Opens video `name` of the project folder (or finds it open), with its kept state.
    func openVideo(_ name: String) throws -> VideoSession {
        let url = try project.videoURL(name)
        var info = stat()
        guard stat(url.path, &info) == 0 else { throw APIError.notFound("no video '\(name)' in the project folder") }
        let signature = Data("\(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)".utf8)
        let id = "v" + Self.imageID(name, signature).dropFirst()
        return try videos.session(id, name: name) {
            let frames = try SAM2IO.openVideo(url, limits: options.imageLimits, cacheBytes: options.cacheBytes / 4)
            return try VideoSession(
                id: id, name: name, frames: frames, model: model, store: VideoStore(project: project, name: name))
        }
    }

    /// Saves an uploaded video into the project folder, after checking that it decodes into frames, and opens it.
    func uploadVideo(_ data: Data, name: String?) throws -> VideoSession {
        let name = name ?? "upload.mp4"
        try ProjectFolder.validate(name, kind: .videoFile)
        guard !data.isEmpty else { throw APIError.badRequest("the upload is empty; send the video file's bytes") }
        // libavformat would read a still image as a video of one frame.
        guard ImageIO.imageSize(data) == nil else {
            throw APIError(415, "'\(name)' holds an image, not a video; upload it as an image")
        }
        let check = try project.internalDirectory(".sam2/uploads").appendingPathComponent(
            UUID().uuidString + "." + (name as NSString).pathExtension)
        try AtomicFile.write(data, to: check)
        defer { try? FileManager.default.removeItem(at: check) }
        _ = try SAM2IO.openVideo(check, limits: options.imageLimits, cacheBytes: 0)
        return try openVideo(try project.saveUpload(data, name: name, kind: .videoFile))
    }

    /// The session of video `id`, opened again from the project folder if it was evicted.
    func video(_ id: String) throws -> VideoSession {
        if let session = videos.session(id) { return session }
        guard let name = videos.name(of: id) else {
            throw APIError.notFound("unknown video id '\(id)'; open the video first (POST /api/videos/open)")
        }
        let session = try openVideo(name)
        guard session.id == id else {
            throw APIError(409, "video '\(name)' changed on disk since it was opened; open it again")
        }
        return session
    }
}
