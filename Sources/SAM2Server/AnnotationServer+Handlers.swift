// The annotation server's API handlers: health and project listing, opening and uploading images
// (embedding once per image), prompts → masks, automatic masks, saving annotations. Inputs are
// checked here before they reach the library, so that a bad request is an error, never a crash.

import Foundation
import SAM2
import SAM2IO
import SAM2Workflows

extension AnnotationServer {
    static let maxPoints = 256
    static let maxPointsPerSide = 128

    var health: Health {
        let usage = cache.usage
        return Health(
            status: "ok", config: model.configuration.name, version: "\(model.configuration.version)",
            imagesCached: usage.images, cacheBytes: usage.bytes, cacheBudgetBytes: cache.budgetBytes,
            maxUploadBytes: options.maxUploadBytes)
    }

    func listing() throws -> ProjectListing {
        let counts = Dictionary(grouping: annotations.list(image: nil), by: \.image).mapValues(\.count)
        return ProjectListing(
            folder: project.root.path,
            images: try project.imageNames().map { .init(name: $0, annotations: counts[$0] ?? 0) },
            videos: try project.videoNames().map { .init(name: $0) })
    }

    // MARK: Images

    /// Opens image `name` of the project folder: its session (new or cached), encoded.
    func open(_ name: String) throws -> ImageInfo {
        let session = try loadSession(name)
        let ms = try session.encode()
        cache.account(session)
        return info(session, embeddingMs: ms)
    }

    /// Saves an uploaded image into the project folder (after checking that it decodes) and opens it.
    func upload(_ data: Data, name: String?) throws -> ImageInfo {
        let fallback = data.starts(with: [0xFF, 0xD8]) ? "upload.jpg" : "upload.png"
        try ProjectFolder.validate(name ?? fallback)
        try checkSize(data, name: name ?? fallback)
        let image = try ImageIO.decodeImage(data, name: name ?? fallback, limits: options.imageLimits)
        let saved = try project.saveUpload(data, name: name ?? fallback)
        let session = cache.insert(ImageSession(id: Self.imageID(saved, data), name: saved, image: image, model: model))
        let ms = try session.encode()
        cache.account(session)
        return info(session, embeddingMs: ms)
    }

    func info(_ session: ImageSession, embeddingMs: Double) -> ImageInfo {
        ImageInfo(
            id: session.id, name: session.name, width: session.image.width, height: session.image.height,
            embeddingMs: embeddingMs)
    }

    private func loadSession(_ name: String) throws -> ImageSession {
        let url = try project.imageURL(name)
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw APIError(500, "cannot read image '\(name)': \(AtomicFile.reason(error))")
        }
        let id = Self.imageID(name, data)
        if let session = cache.session(id) { return session }
        try checkSize(data, name: name)
        let image = try ImageIO.decodeImage(data, name: name, limits: options.imageLimits)
        return cache.insert(ImageSession(id: id, name: name, image: image, model: model))
    }

    /// Refuses, from its header alone, an image over the size limit (`--max-megapixels`), before it is
    /// decoded or saved.
    private func checkSize(_ data: Data, name: String) throws {
        guard let size = ImageIO.imageSize(data) else { return }  // the decoder says what is wrong
        let pixels = size.width * size.height
        let limits = options.imageLimits
        guard size.width <= limits.maxDimension, size.height <= limits.maxDimension, pixels <= limits.maxPixels else {
            throw APIError(
                413,
                "image '\(name)' is \(size.width)×\(size.height) pixels, above the limit of "
                    + "\(limits.maxPixels / 1_000_000) megapixels and \(limits.maxDimension) per side (sam2 serve "
                    + "--max-megapixels)")
        }
    }

    /// The session of image `id`, opened again from the project folder if it was evicted.
    func session(_ id: String) throws -> ImageSession {
        if let session = cache.session(id) { return session }
        guard let name = cache.name(of: id) else {
            throw APIError.notFound("unknown image id '\(id)'; open the image first")
        }
        let session = try loadSession(name)
        guard session.id == id else {
            throw APIError(409, "image '\(name)' changed on disk since it was opened; open it again")
        }
        return session
    }

    /// An image's id: FNV-1a (64-bit) of its name and bytes, so that every client opening the same
    /// file shares one session.
    static func imageID(_ name: String, _ data: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt8) {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        name.utf8.forEach(mix)
        mix(0)
        data.forEach(mix)
        return String(format: "i%016llx", hash)
    }

    // MARK: Prompts

    func predict(_ session: ImageSession, _ request: PredictRequest, start: UInt64) throws -> PredictResponse {
        guard (request.points?.count ?? 0) <= Self.maxPoints else {
            throw APIError.badRequest("\(request.points!.count) points; at most \(Self.maxPoints)")
        }
        let points = try (request.points ?? []).enumerated().map { i, p -> SIMD2<Float> in
            guard p.count == 2 else { throw APIError.badRequest("points[\(i)] has \(p.count) numbers; give [x, y]") }
            return SIMD2(try Self.coordinate(p[0], "points[\(i)]"), try Self.coordinate(p[1], "points[\(i)]"))
        }
        let labels = request.labels ?? Array(repeating: 1, count: points.count)
        let box = try request.box.map { b -> SIMD4<Float> in
            guard b.count == 4 else { throw APIError.badRequest("box has \(b.count) numbers; give [x0, y0, x1, y1]") }
            return SIMD4(try b.map { try Self.coordinate($0, "box") })
        }
        guard !points.isEmpty || box != nil || request.maskInput != nil else {
            throw APIError.badRequest("give a prompt: points (with labels), a box, or a mask_input")
        }
        let png = try Self.wantsPNG(request.format)
        let multimask = request.multimask ?? (box == nil && request.maskInput == nil)
        _ = try session.encode()  // an evicted image is encoded again outside the gate
        let (prediction, ids, predictMs) = try predictGate.withLock { _ in
            try session.predict(
                points: points, labels: labels, box: box, maskInput: request.maskInput, multimask: multimask,
                newID: newMaskID)
        }
        cache.account(session)
        let encodeStart = DispatchTime.now().uptimeNanoseconds
        let (w, h) = (session.image.width, session.image.height)
        let plane = w * h
        // One mask per worker: at full resolution the encoding is a visible share of a click.
        var masks = [UncompressedRLE](
            repeating: UncompressedRLE(height: h, width: w, counts: []), count: prediction.scores.count)
        masks.withUnsafeMutableBufferPointer { out in
            prediction.masks.withUnsafeBufferPointer { values in
                nonisolated(unsafe) let (out, values) = (out, values)
                Runtime.parallelForEach(out.count) { k in
                    out[k] = UncompressedRLE(
                        plane: UnsafeBufferPointer(rebasing: values[(k * plane)..<((k + 1) * plane)]),
                        height: h, width: w, threshold: 0)
                }
            }
        }
        var records: [MaskRecord] = []
        for (k, score) in prediction.scores.enumerated() {
            var record = try Self.record(rle: masks[k], score: score, png: png)
            record.id = ids[k]
            records.append(record)
        }
        let best = prediction.scores.indices.max { prediction.scores[$0] < prediction.scores[$1] } ?? 0
        let now = DispatchTime.now().uptimeNanoseconds
        return PredictResponse(
            image: session.id, width: w, height: h, masks: records, best: best,
            timingMs: [
                "predict": predictMs, "encode": Double(now - encodeStart) / 1e6, "total": Double(now - start) / 1e6,
            ])
    }

    /// Automatic masks for the whole image; stops early when the server stops or the client leaves.
    func automatic(
        _ session: ImageSession, _ request: AutoRequest, start: UInt64, clientGone: @escaping @Sendable () -> Bool
    ) throws -> AutoResponse {
        var options = SAM2AutomaticMaskGenerator.Options()
        if let n = request.pointsPerSide {
            guard (1...Self.maxPointsPerSide).contains(n) else {
                throw APIError.badRequest("points_per_side \(n) is not in 1…\(Self.maxPointsPerSide)")
            }
            options.pointsPerSide = n
        }
        if let n = request.pointsPerBatch {
            guard (1...1024).contains(n) else { throw APIError.badRequest("points_per_batch \(n) is not in 1…1024") }
            options.pointsPerBatch = n
        }
        if let n = request.cropNLayers {
            guard (0...2).contains(n) else { throw APIError.badRequest("crop_n_layers \(n) is not in 0…2") }
            options.cropNLayers = n
        }
        options.predIoUThresh = request.predIouThresh ?? options.predIoUThresh
        options.stabilityScoreThresh = request.stabilityScoreThresh ?? options.stabilityScoreThresh
        options.boxNMSThresh = request.boxNmsThresh ?? options.boxNMSThresh
        options.minMaskRegionArea = request.minMaskRegionArea ?? options.minMaskRegionArea
        options.outputMode = .uncompressedRLE
        let png = try Self.wantsPNG(request.format)
        let generator = try SAM2AutomaticMaskGenerator(model: model, options: options)
        var masks: [AutomaticMask] = []
        guard startAutoJob() else {
            throw APIError(429, "automatic masks are being made for another request; retry when it is done")
        }
        defer { autoJobs.subtract(1, ordering: .relaxed) }
        let ms = try milliseconds {
            do {
                masks = try generator.generate(
                    session.image, isCancelled: { self.stopping.load(ordering: .relaxed) || clientGone() })
            } catch AutomaticMaskGeneratorError.cancelled {
                throw APIError(503, "automatic masks cancelled: the server is stopping or the client left")
            }
        }
        let records = try masks.map { m -> MaskRecord in
            var r = try Self.record(rle: m.rle, score: m.predictedIoU, png: png)
            r.bbox = m.bbox
            r.stabilityScore = m.stabilityScore.isFinite ? m.stabilityScore : nil
            r.pointCoords = [m.pointCoords.x, m.pointCoords.y]
            return r
        }
        let total = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        return AutoResponse(
            image: session.id, width: session.image.width, height: session.image.height, masks: records,
            timingMs: ["generate": ms, "total": total])
    }

    /// A pixel coordinate from a request: a finite number within ±10⁷ (a larger one lies outside any image).
    static func coordinate(_ value: Double, _ field: String) throws -> Float {
        guard value.isFinite, abs(value) <= 1e7 else {
            throw APIError.badRequest("\(field) holds \(value), not a pixel coordinate of the image")
        }
        return Float(value)
    }

    /// Takes one of the `maxAutoJobs` places, or answers false when all are taken.
    private func startAutoJob() -> Bool {
        while true {
            let running = autoJobs.load(ordering: .relaxed)
            guard running < options.maxAutoJobs else { return false }
            if autoJobs.compareExchange(expected: running, desired: running + 1, ordering: .relaxed).exchanged {
                return true
            }
        }
    }

    private static func wantsPNG(_ format: String?) throws -> Bool {
        switch format ?? "rle" {
        case "rle": return false
        case "png": return true
        case let other: throw APIError.badRequest("format '\(other)' is not rle or png")
        }
    }

    /// A mask as a record: area, bbox, and COCO RLE or a base64 PNG.
    static func record(rle: UncompressedRLE, score: Float, png: Bool) throws -> MaskRecord {
        let box = rle.boundingBox.map { [$0.x, $0.y, $0.width, $0.height] } ?? [0, 0, 0, 0]
        var record = MaskRecord(score: score, area: rle.area, bbox: box)
        if png {
            record.png = try ImageIO.encodeGrayPNG(rle.mask(), width: rle.width, height: rle.height, name: "mask")
                .base64EncodedString()
        } else {
            record.rle = COCORLE(rle)
        }
        return record
    }

    // MARK: Annotations

    func save(_ request: SaveAnnotationRequest) throws -> Annotation {
        let session = try session(request.image)
        let (w, h) = (session.image.width, session.image.height)
        guard request.segmentation.size == [h, w] else {
            throw APIError.badRequest("segmentation size \(request.segmentation.size) is not the image's [\(h), \(w)]")
        }
        guard let rle = UncompressedRLE(cocoString: request.segmentation.counts, height: h, width: w) else {
            throw APIError.badRequest("segmentation counts are not a valid COCO RLE string for a \(w)×\(h) mask")
        }
        if let prompt = request.prompt {
            // Kept with the annotation in every save: bounded like a prompt the page can send.
            let sizes = [prompt.points?.count ?? 0, prompt.labels?.count ?? 0]
            guard sizes.allSatisfy({ $0 <= Self.maxPoints }), prompt.points?.allSatisfy({ $0.count == 2 }) ?? true,
                (prompt.box?.count ?? 4) == 4
            else {
                throw APIError.badRequest(
                    "prompt must hold at most \(Self.maxPoints) points [x, y] with their labels and one box [x0, y0, "
                        + "x1, y1]"
                )
            }
        }
        let label = request.label.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !label.isEmpty, label.count <= 100 else { throw APIError.badRequest("label must be 1 to 100 characters") }
        if let score = request.score, !score.isFinite { throw APIError.badRequest("score must be a finite number") }
        let box = rle.boundingBox.map { [$0.x, $0.y, $0.width, $0.height] } ?? [0, 0, 0, 0]
        return try annotations.add(
            Annotation(
                id: 0, image: session.name, label: label, score: request.score,
                segmentation: request.segmentation, area: rle.area, bbox: box, prompt: request.prompt))
    }
}
