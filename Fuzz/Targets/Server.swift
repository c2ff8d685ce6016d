// Fuzz target `server`: the bytes as a few HTTP requests (FuzzRequests) handed one after the other to
// the annotation server's router in process — fresh project folder with odd.png, square.png and three
// of the fixture video's frames, the small fixture model, no socket. Every answer must be a status with JSON
// (an error: one line); the server is stopped at the end (tracking jobs end after their frame).

import Foundation
import SAM2
import SAM2IO
import SAM2Server

extension FuzzTarget {
    static let server = FuzzTarget(
        name: "server", summary: "HTTP requests routed by the annotation server (in process)", maxLength: 8192,
        timeout: 30,
        seeds: { fixtures in try FuzzRequests.seeds(fixtures) },
        entry: { data, scratch in
            let project = try scratch.subfolder("project")
            let fixtures = FuzzFixtures()
            for name in ["odd.png", "square.png"] {
                try FileManager.default.copyItem(
                    at: fixtures.url("Tests/SAM2Tests/Fixtures/model/images/" + name),
                    to: project.appendingPathComponent(name))
            }
            // Three of the fixture clip's frames: a tracking job (the model runs under the sanitizers'
            // instrumentation) then costs at most three frames, whatever max_frames an input asks for.
            let frames = project.appendingPathComponent("frames")
            try FileManager.default.createDirectory(at: frames, withIntermediateDirectories: false)
            for index in 0..<3 {
                let name = String(format: "%05d.jpg", index)
                try FileManager.default.copyItem(
                    at: fixtures.url("Tests/SAM2Tests/Fixtures/video/frames/" + name),
                    to: frames.appendingPathComponent(name))
            }
            var options = AnnotationServer.Options()
            options.port = 0
            options.maxUploadBytes = 1 << 20
            options.cacheBytes = 256 << 20
            guard let model = FuzzRequests.model else { throw FuzzViolation("the fixture model did not load") }
            let server = try AnnotationServer(
                model: model, project: ProjectFolder(path: project.path), options: options, listening: false)
            defer { server.stop() }
            var imageID = "none"
            var videoID = "none"
            var statuses: [String] = []
            for next in FuzzRequests.parse(data, ids: { (imageID, videoID) }).prefix(FuzzRequests.maxRequests) {
                let request = next()
                let response = server.handle(request)
                let json = try FuzzRequests.check(response, to: request)
                if let id = json?["id"] as? String, id.hasPrefix("i") { imageID = id }
                if let id = json?["id"] as? String, id.hasPrefix("v") { videoID = id }
                statuses.append(String(response.status))
            }
            return statuses.joined(separator: " ")
        })
}
