// AnnotationServer: `sam2 serve` — the JSON API and the embedded web page over HTTPServer. One
// shared model; each open image has a session (features encoded once, cached under a memory
// budget), each open video one too (frames decoded lazily, tracked in the background); annotations
// and videos' prompts and masks live in the project folder. Requests other sites could forge through a
// browser are refused. Every failure becomes a 4xx/5xx JSON error and the server goes on serving.

import Foundation
import SAM2
import SAM2IO
import SAM2Workflows
import Synchronization

public final class AnnotationServer: Sendable {
    public struct Options: Sendable {
        public var host = "127.0.0.1"
        /// 0 picks a free port.
        public var port = 8080
        public var maxUploadBytes = 64 << 20
        /// Host names (besides literal loopback addresses and `localhost`) accepted in the Host header
        /// when listening on loopback: a name of this machine that the user chose, e.g. behind a proxy.
        public var allowedHosts: [String] = []
        /// Largest image opened or uploaded (checked from its header, before decoding or saving).
        public var imageLimits = ImageLimits()
        /// Automatic-mask ("segment everything") jobs run at once; more are refused with 429 (each
        /// takes every core for seconds and hundreds of MB).
        public var maxAutoJobs = 1
        /// Memory budget of the open images (pixels and features), and as much for the open videos
        /// (decoded frames, a quarter of it per video, and tracking memory).
        public var cacheBytes = 1 << 30
        /// Called with one line per request (method, path, status, milliseconds); nil for silence.
        public var log: (@Sendable (String) -> Void)? = nil

        public init() {}
    }

    let model: SAM2Model
    let project: ProjectFolder
    let options: Options
    let cache: ImageCache
    let annotations: AnnotationStore
    let videos: VideoSessions
    private let maskCounter = Atomic<Int>(0)
    /// Prompts run one at a time: each gets every core for its few milliseconds, instead of several
    /// sharing (and oversubscribing) them; waiting for the gate counts in the reported total time.
    /// Embeddings and automatic masks run outside it, so that they never hold up a click.
    let predictGate = Mutex(())
    private let http = Mutex<HTTPServer?>(nil)
    /// Set by `stop`: long requests (automatic masks) give up.
    let stopping = Atomic<Bool>(false)
    /// Automatic-mask jobs running (at most `Options.maxAutoJobs`).
    let autoJobs = Atomic<Int>(0)

    /// Starts serving `project` with `model`; throws when the address cannot be bound or the
    /// project's saved annotations cannot be read.
    public convenience init(model: SAM2Model, project: ProjectFolder, options: Options) throws {
        try self.init(model: model, project: project, options: options, listening: true)
    }

    /// `listening: false` opens no socket: requests come in through `handle(_:)` only (the fuzz target).
    package init(model: SAM2Model, project: ProjectFolder, options: Options, listening: Bool) throws {
        self.model = model
        self.project = project
        self.options = options
        cache = ImageCache(budgetBytes: options.cacheBytes)
        videos = VideoSessions(budgetBytes: options.cacheBytes)
        annotations = try AnnotationStore(project: project)
        guard listening else { return }
        var limits = HTTPServer.Limits()
        // Clients on loopback all share one address; elsewhere one address may not take every connection.
        if !Self.isLoopbackAddress(options.host) { limits.connectionsPerAddress = 128 }
        let server = try HTTPServer(
            host: options.host, port: options.port, maxBodyBytes: options.maxUploadBytes, limits: limits
        ) { [weak self] request, tooLarge in
            guard let self else { return Self.error(APIError(503, "server is stopping")) }
            return self.respond(request, bodyTooLarge: tooLarge)
        }
        http.withLock { $0 = server }
    }

    /// Answers a request handed over in process, as one arriving on the socket is answered.
    package func handle(_ request: HTTPRequest) -> HTTPResponse {
        respond(request, bodyTooLarge: request.body.count > options.maxUploadBytes)
    }

    /// The port listened on.
    public var port: Int { http.withLock { $0?.port ?? 0 } }

    /// Stops listening and waits for requests in flight and tracking jobs (each ends after its frame in flight).
    public func stop() {
        stopping.store(true, ordering: .relaxed)  // automatic-mask and tracking jobs stop at their next step
        let server = http.withLock { s -> HTTPServer? in
            defer { s = nil }
            return s
        }
        server?.stop()
        for video in videos.all { video.job.wait() }
    }

    /// Largest JSON request body (everything but uploads): far above any prompt or annotation.
    static let maxJSONBytes = 1 << 20

    func respond(_ request: HTTPRequest, bodyTooLarge: Bool) -> HTTPResponse {
        let start = DispatchTime.now().uptimeNanoseconds
        let response: HTTPResponse
        if bodyTooLarge {
            response = Self.error(
                APIError(
                    413,
                    "request body exceeds the upload limit of \(options.maxUploadBytes) bytes (sam2 serve "
                        + "--max-upload-mb)"
                ))
        } else if request.body.count > Self.maxJSONBytes
            && !["/api/images/upload", "/api/videos/upload"].contains(request.path)
        {
            // JSON is refused by its size before it is decoded: a body of numbers takes many times its
            // size once decoded.
            response = Self.error(
                APIError(
                    413, "request body of \(request.body.count) bytes; JSON requests may have \(Self.maxJSONBytes)"))
        } else {
            do {
                try checkOrigin(request)
                response = try route(request, start: start)
            } catch {
                response = Self.error(APIError.from(error))
            }
        }
        if let log = options.log {
            let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            log(String(format: "%@ %@ %d %.1f ms", request.method, request.path, response.status, ms))
        }
        return response
    }

    private func route(_ request: HTTPRequest, start: UInt64) throws -> HTTPResponse {
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        let method = request.method
        func expect(_ allowed: String) throws {
            guard method == allowed else {
                throw APIError(405, "\(method) is not allowed on \(request.path); use \(allowed)")
            }
        }
        switch parts.first {
        case nil, "index.html":
            try expect("GET")
            return WebPage.response(.html)
        case "app.js":
            try expect("GET")
            return WebPage.response(.script)
        case "video.js":
            try expect("GET")
            return WebPage.response(.videoScript)
        case "app.css":
            try expect("GET")
            return WebPage.response(.style)
        case "api":
            break
        default:
            throw APIError.notFound("no page \(request.path)")
        }
        let api = Array(parts.dropFirst())
        switch (api.first, api.count) {
        case ("health", 1):
            try expect("GET")
            return Self.json(health)
        case ("project", 1):
            try expect("GET")
            return Self.json(try listing())
        case ("images", 2) where api[1] == "open":
            try expect("POST")
            return Self.json(try open(APICoding.decode(OpenImageRequest.self, from: request.body).name))
        case ("images", 2) where api[1] == "upload":
            try expect("POST")
            return Self.json(try upload(request.body, name: request.query("name")))
        case ("images", 2):
            try expect("GET")
            return Self.json(try info(session(api[1]), embeddingMs: 0))
        case ("images", 3) where api[2] == "pixels":
            try expect("GET")
            let s = try session(api[1])
            return HTTPResponse(contentType: "image/png", body: try ImageIO.encodeRGBPNG(s.image, name: s.name))
        case ("images", 3) where api[2] == "predict":
            try expect("POST")
            let body = try APICoding.decode(PredictRequest.self, from: request.body)
            let result = try predict(session(api[1]), body, start: start)
            let timing = ["predict", "encode", "total"].map {
                String(format: "%@;dur=%.2f", $0, result.timingMs[$0] ?? 0)
            }.joined(separator: ", ")
            return HTTPResponse(
                contentType: "application/json", body: APICoding.encode(result), header: ("Server-Timing", timing))
        case ("images", 3) where api[2] == "auto":
            try expect("POST")
            let body = request.body.isEmpty ? Data("{}".utf8) : request.body
            return Self.json(
                try automatic(
                    session(api[1]), APICoding.decode(AutoRequest.self, from: body), start: start,
                    clientGone: request.clientGone))
        case ("annotations", 1):
            if method == "GET" {
                let image = request.query("image")
                return Self.json(["annotations": annotations.list(image: image)])
            }
            try expect("POST")
            return Self.json(try save(APICoding.decode(SaveAnnotationRequest.self, from: request.body)))
        case ("annotations", 2):
            try expect("DELETE")
            guard let id = Int(api[1]), try annotations.delete(id) else {
                throw APIError.notFound("no annotation \(api[1])")
            }
            return Self.json(["deleted": id])
        case ("videos", 2...5):
            return try routeVideos(request, api)
        case ("export", 1):
            try expect("POST")
            let body = try APICoding.decode(
                ExportRequest.self, from: request.body.isEmpty ? Data("{}".utf8) : request.body)
            let files = try annotations.export(coco: body.coco ?? true, png: body.png ?? true)
            return Self.json(["files": files])
        default:
            throw APIError.notFound("no API endpoint \(method) \(request.path)")
        }
    }

    /// Refuses what a web page of another site could send through the user's browser: a request
    /// with a foreign Origin (cross-site request forgery) and, when listening on loopback, one whose
    /// Host is not a literal loopback address, `localhost` or a name allowed on the command line
    /// (DNS rebinding: a name such as `127.attacker.example` may resolve to this machine).
    private func checkOrigin(_ request: HTTPRequest) throws {
        let host = request.header("Host") ?? ""
        if Self.isLoopbackAddress(options.host) && !isAllowedLoopbackName(Self.hostName(host)) {
            throw APIError(
                403,
                "Host '\(host)' is not this machine; open http://127.0.0.1:\(port)/ (or allow the name with "
                    + "--allow-host)"
            )
        }
        if let origin = request.header("Origin"), origin != "http://" + host {
            throw APIError(403, "cross-origin request from \(origin) refused")
        }
    }

    /// "name:port", "[v6]:port" or a bare name → the name.
    private static func hostName(_ host: String) -> String {
        if host.hasPrefix("["), let end = host.firstIndex(of: "]") {
            return String(host[host.index(after: host.startIndex)..<end])
        }
        if host.filter({ $0 == ":" }).count == 1, let colon = host.firstIndex(of: ":") { return String(host[..<colon]) }
        return host
    }

    private func isAllowedLoopbackName(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower == "localhost" || Self.isLoopbackAddress(name)
            || options.allowedHosts.contains { $0.lowercased() == lower }
    }

    /// True for a literal address in 127.0.0.0/8 (dotted quad, as inet_pton reads it) or ::1.
    static func isLoopbackAddress(_ name: String) -> Bool {
        var v4 = in_addr()
        if inet_pton(AF_INET, name, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, name, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { bytes in bytes.prefix(15).allSatisfy { $0 == 0 } && bytes[15] == 1 }
        }
        return false
    }

    // MARK: Responses

    static func json<T: Encodable>(_ value: T, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "application/json", body: APICoding.encode(value))
    }

    static func error(_ error: APIError) -> HTTPResponse {
        json(["error": error.message], status: error.status)
    }

    func newMaskID() -> String {
        "m\(maskCounter.add(1, ordering: .relaxed).newValue)"
    }
}
