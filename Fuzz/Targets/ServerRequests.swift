// The server fuzz target's input: HTTP/1.1 requests one after the other — request line, header lines,
// an empty line, then as many body bytes as Content-Length says. "{id}" ("{vid}") in the target or the
// body stands for the image (video) id of the last open or upload, so that generated sequences reach
// an image or a video.

import Foundation
import SAM2
import SAM2IO
import SAM2Server

enum FuzzRequests {
    static let maxRequests = 8
    /// The small fixture model, loaded once (nil, with the reason on stderr, when it cannot be).
    static let model: SAM2Model? = {
        let fixtures = FuzzFixtures()
        do {
            return try SAM2Model.load(
                checkpoint: fixtures.url("Tests/SAM2Tests/Fixtures/model/small_2.1.pt"),
                configuration: SAM2Configuration.named(
                    fixtures.url("Tests/SAM2Tests/Fixtures/model/small_2.1.json").path))
        } catch {
            FileHandle.standardError.write(Data("sam2-fuzz server: cannot load the fixture model: \(error)\n".utf8))
            return nil
        }
    }()

    /// The requests of `data`, each built when called (after the responses before it set the ids).
    static func parse(_ data: Data, ids: @escaping () -> (image: String, video: String)) -> [() -> HTTPRequest] {
        var requests: [() -> HTTPRequest] = []
        var rest = data[...]
        while !rest.isEmpty {
            let headEnd = rest.firstRange(of: Data("\n\n".utf8)) ?? rest.firstRange(of: Data("\r\n\r\n".utf8))
            let head = String(decoding: rest[..<(headEnd?.lowerBound ?? rest.endIndex)], as: UTF8.self)
            rest = rest[(headEnd?.upperBound ?? rest.endIndex)...]
            var lines = head.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
            let requestLine = lines.isEmpty ? "" : lines.removeFirst()
            var headers: [String: String] = [:]
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let name = String(line[..<colon]).trimmingCharacters(in: .whitespaces)
                if headers.keys.contains(where: { $0.lowercased() == name.lowercased() }) { continue }
                headers[name] = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            }
            let length = headers.first { $0.key.lowercased() == "content-length" }.flatMap { Int($0.value) } ?? 0
            let body = Data(rest.prefix(max(0, length)))
            rest = rest.dropFirst(body.count)
            let parts = requestLine.split(separator: " ", maxSplits: 2).map(String.init)
            let method = parts.first ?? ""
            let target = parts.count > 1 ? parts[1] : ""
            requests.append {
                let (id, vid) = ids()
                func resolve(_ text: String) -> String {
                    text.replacingOccurrences(of: "{id}", with: id).replacingOccurrences(of: "{vid}", with: vid)
                }
                let resolved = resolve(target)
                let resolvedBody = String(data: body, encoding: .utf8).map { Data(resolve($0).utf8) } ?? body
                let (path, query) = Self.split(resolved)
                return HTTPRequest(method: method, path: path, query: query, headers: headers, body: resolvedBody)
            }
        }
        return requests
    }

    /// "/path?a=1&b=%20" → the decoded path and arguments, as libmicrohttpd hands them over.
    static func split(_ target: String) -> (String, [String: String]) {
        let pieces = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        func decode<S: StringProtocol>(_ s: S) -> String {
            String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s)
        }
        let path = String(pieces.first ?? "").removingPercentEncoding ?? String(pieces.first ?? "")
        var query: [String: String] = [:]
        for pair in (pieces.count > 1 ? pieces[1] : "").split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = decode(kv[0])
            if query[key] == nil { query[key] = kv.count > 1 ? decode(kv[1]) : "" }
        }
        return (path, query)
    }

    /// The response's JSON, after checking what every answer promises: a known status; JSON when
    /// it says so; an error as {"error": one line}; no 5xx for anything a client can send.
    static func check(_ response: HTTPResponse, to request: HTTPRequest) throws -> [String: Any]? {
        let what = "\(request.method) \(request.path.debugDescription) → \(response.status)"
        guard (200..<600).contains(response.status) else { throw FuzzViolation("\(what): not an HTTP status") }
        guard response.contentType.hasPrefix("application/json") else {
            guard response.status < 400 else { throw FuzzViolation("\(what): an error that is not JSON") }
            return nil
        }
        guard let json = try? JSONSerialization.jsonObject(with: response.body, options: [.fragmentsAllowed]) else {
            throw FuzzViolation("\(what): the body is not JSON")
        }
        let object = json as? [String: Any]
        if response.status >= 400 {
            guard let message = object?["error"] as? String else { throw FuzzViolation("\(what): no error message") }
            let problems = FuzzTarget.problems(ofMessage: message)
            if let problem = problems.first { throw FuzzViolation("\(what): \(problem)") }
            if response.status >= 500 { throw FuzzViolation("\(what): server error \(message)") }
        }
        return object
    }

    /// Request sequences exercising every endpoint, good and bad.
    static func seeds(_ fixtures: FuzzFixtures) throws -> [(name: String, data: Data)] {
        let image = try ImageIO.readImage(fixtures.url("Tests/SAM2Tests/Fixtures/model/images/odd.png"))
        var mask = [UInt8](repeating: 0, count: image.width * image.height)
        for y in 2..<6 { for x in 3..<9 { mask[y * image.width + x] = 1 } }
        let counts = UncompressedRLE(mask: mask, height: image.height, width: image.width).cocoString
        let size = "[\(image.height), \(image.width)]"
        let upload = try fixtures.data("Tests/SAM2Tests/Fixtures/images/rgb8.png")
        let open = request("POST", "/api/images/open", #"{"name": "odd.png"}"#)
        let openVideo = request("POST", "/api/videos/open", #"{"name": "frames"}"#)
        let click = #"{"frame": 0, "object": 1, "points": [[14, 17]], "labels": [1]}"#
        let sequences: [(String, [Data])] = [
            (
                "video",
                [
                    openVideo, request("POST", "/api/videos/{vid}/prompts", click),
                    request("POST", "/api/videos/{vid}/track", #"{"max_frames": 2}"#),
                    request("GET", "/api/videos/{vid}/track"), request("GET", "/api/videos/{vid}/masks?frame=0"),
                    request("GET", "/api/videos/{vid}/frames/1"), request("GET", "/api/videos/{vid}"),
                    request("POST", "/api/videos/{vid}/reset"),
                ]
            ),
            (
                "video-bad",
                [
                    openVideo,
                    request("POST", "/api/videos/{vid}/prompts", #"{"frame": 99, "object": 1, "points": [[1, 1]]}"#),
                    request(
                        "POST", "/api/videos/{vid}/prompts",
                        #"{"frame": 0, "object": 1, "points": [[1, 1]], "labels": [5]}"#
                    ),
                    request("DELETE", "/api/videos/{vid}/objects/4"), request("GET", "/api/videos/v0/masks?frame=0"),
                    request("POST", "/api/videos/upload?name=x.mp4", upload),
                    request("POST", "/api/videos/{vid}/export", #"{"formats": ["davis"]}"#),
                ]
            ),
            ("health", [request("GET", "/api/health"), request("GET", "/"), request("GET", "/app.js")]),
            ("project", [request("GET", "/api/project"), request("GET", "/api/annotations?image=odd.png")]),
            (
                "predict",
                [
                    open, request("POST", "/api/images/{id}/predict", #"{"points": [[10, 12]], "labels": [1]}"#),
                    request("POST", "/api/images/{id}/predict", #"{"box": [2, 3, 20, 15], "format": "png"}"#),
                    request("POST", "/api/images/{id}/predict", #"{"points": [[4, 4]], "mask_input": "m1"}"#),
                    request("GET", "/api/images/{id}"), request("GET", "/api/images/{id}/pixels"),
                ]
            ),
            (
                "annotate",
                [
                    open,
                    request(
                        "POST", "/api/annotations",
                        #"{"image": "{id}", "label": "cat", "score": 0.5, "#
                            + #""segmentation": {"size": \#(size), "counts": "\#(counts)"}, "#
                            + #""prompt": {"points": [[4, 4]], "labels": [1]}}"#
                    ),
                    request("GET", "/api/annotations"), request("POST", "/api/export", "{}"),
                    request("DELETE", "/api/annotations/1"), request("DELETE", "/api/annotations/7"),
                ]
            ),
            (
                "upload",
                [
                    request("POST", "/api/images/upload?name=tiny%20one.png", upload),
                    request("POST", "/api/images/{id}/predict", #"{"points": [[1, 1], [5, 5]], "labels": [1, 0]}"#),
                ]
            ),
            ("auto", [open, request("POST", "/api/images/{id}/auto", #"{"points_per_side": 2, "format": "png"}"#)]),
            (
                "bad",
                [
                    request("PUT", "/api/health"), request("GET", "/api/nothing"),
                    request("POST", "/api/images/open", #"{"name": "../etc/passwd"}"#),
                    request("POST", "/api/images/open", #"{"name": 5"#),
                    request("GET", "/api/health", headers: ["Origin": "http://evil.example"]),
                    request("GET", "/api/health", headers: ["Host": "127.attacker.example:8080"]),
                    request("POST", "/api/images/i0000000000000000/predict", #"{"points": [[1e39, 2]]}"#),
                ]
            ),
        ]
        return sequences.map { name, requests in (name, requests.reduce(Data(), +)) }
    }

    static func request(_ method: String, _ target: String, _ body: String, headers: [String: String] = [:]) -> Data {
        request(method, target, Data(body.utf8), headers: headers)
    }

    static func request(_ method: String, _ target: String, _ body: Data = Data(), headers: [String: String] = [:])
        -> Data
    {
        var head = "\(method) \(target) HTTP/1.1\nHost: \(headers["Host"] ?? "127.0.0.1:8080")\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) where name != "Host" {
            head += "\(name): \(value)\n"
        }
        if !body.isEmpty { head += "Content-Type: application/json\nContent-Length: \(body.count)\n" }
        return Data((head + "\n").utf8) + body
    }
}
