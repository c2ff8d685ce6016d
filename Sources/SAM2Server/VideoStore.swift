// VideoStore: a video's kept state in PROJECT/.sam2/videos/<video>/ — state.json (the video's frame
// count and size, its prompts in the order given) and masks/<frame:05d>.json (every object's mask on a
// frame with masks). Every file is written atomically, each frame as soon as it is tracked, so that a
// restarted server finds the prompts and the finished frames, and a crash loses only the frame in flight.

import Foundation
import SAM2IO
import SAM2Workflows

struct KeptVideoState: Codable, Equatable {
    var frames: Int
    var width: Int
    var height: Int
    var prompts: [VideoPrompt]
}

struct VideoStore: Sendable {
    let project: ProjectFolder
    /// The video's (validated) name in the project folder.
    let name: String
    private var folder: String { ".sam2/videos/\(name)" }

    private static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }

    /// The kept prompts and masks of a video of `frames` frames of `width`×`height`; nothing when none
    /// are kept, or when they were kept for a video of another length or size (the file changed):
    /// those are removed.
    func load(frames: Int, width: Int, height: Int) throws -> (prompts: [VideoPrompt], masks: [Int: FrameMasks]) {
        var info = stat()
        guard lstat(project.root.appendingPathComponent(folder).path, &info) == 0 else { return ([], [:]) }
        let dir = try project.internalDirectory(folder)  // refuses a symbolic link
        AtomicFile.removeStaleTemporaries(in: dir)  // left by a server killed mid-save
        let url = dir.appendingPathComponent("state.json")
        guard let data = try? Data(contentsOf: url) else { return ([], [:]) }
        let state: KeptVideoState
        do {
            state = try Self.decoder().decode(KeptVideoState.self, from: data)
        } catch {
            throw APIError(
                500,
                "cannot read the kept state \(url.path): \(error.localizedDescription); move it away to start afresh")
        }
        guard state.frames == frames, state.width == width, state.height == height else {
            try clear()
            return ([], [:])
        }
        let masksDir = try project.internalDirectory(folder + "/masks")
        AtomicFile.removeStaleTemporaries(in: masksDir)
        var masks: [Int: FrameMasks] = [:]
        let objects = Set(state.prompts.map(\.object))
        for file in (try? FileManager.default.contentsOfDirectory(atPath: masksDir.path)) ?? [] {
            // A file that does not read back as a frame of this video is skipped: tracking makes it again.
            guard file.hasSuffix(".json"), let frame = Int(file.dropLast(5)), (0..<frames).contains(frame),
                let data = try? Data(contentsOf: masksDir.appendingPathComponent(file)),
                var kept = try? Self.decoder().decode(FrameMasks.self, from: data), kept.frame == frame
            else { continue }
            kept.objects = kept.objects.filter { objects.contains($0.id) && $0.mask.size == [height, width] }
            masks[frame] = kept
        }
        return (state.prompts, masks)
    }

    func save(_ state: KeptVideoState) throws {
        let url = try project.internalDirectory(folder).appendingPathComponent("state.json")
        try AtomicFile.write(APICoding.encode(state), to: url)
    }

    /// Writes a frame's masks, or removes its file when no object is left on it.
    func save(_ masks: FrameMasks) throws {
        let url = try project.internalDirectory(folder + "/masks").appendingPathComponent(
            TrackingOutput.frameName(masks.frame) + ".json")
        if masks.objects.isEmpty {
            try? FileManager.default.removeItem(at: url)
        } else {
            try AtomicFile.write(APICoding.encode(masks), to: url)
        }
    }

    /// Forgets everything kept for the video.
    func clear() throws {
        var info = stat()
        guard lstat(project.root.appendingPathComponent(folder).path, &info) == 0 else { return }
        try FileManager.default.removeItem(at: try project.internalDirectory(folder))
    }
}
