// Tests of image and mask I/O: decoding against PIL's arrays (fixtures written by
// tools/reference/make_image_fixtures.py), bad input, PNG and .npy round trips, atomic writes.

import Foundation
import Testing

@testable import SAM2
@testable import SAM2IO
@testable import SAM2Workflows

enum ImageFixtures {
    struct ImageEntry: Decodable, Sendable, CustomTestStringConvertible {
        var file: String
        var expected: String
        var width: Int
        var height: Int
        var testDescription: String { file }
    }

    struct MaskEntry: Decodable, Sendable, CustomTestStringConvertible {
        var file: String
        var mask: String
        var index: String?
        var width: Int
        var height: Int
        var testDescription: String { file }
    }

    struct BadEntry: Decodable, Sendable, CustomTestStringConvertible {
        var file: String
        var error: String
        var testDescription: String { file }
    }

    struct Manifest: Decodable, Sendable {
        var images: [ImageEntry]
        var masks: [MaskEntry]
        var bad: [BadEntry]
    }

    static func url(_ name: String) -> URL {
        guard let url = Bundle.module.url(forResource: "Fixtures/images/\(name)", withExtension: nil) else {
            fatalError("missing fixture \(name); run tools/reference/make_image_fixtures.py")
        }
        return url
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: url(name)))
    }

    static let manifest: Manifest = {
        do {
            return try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: url("manifest.json")))
        } catch {
            fatalError("cannot read manifest.json: \(error)")
        }
    }()
}

/// A fresh directory under the system temporary directory, removed by the caller.
private func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("sam2-io-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

private func directoryContents(_ url: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
}

/// A deterministic test image.
private func patternImage(width: Int, height: Int) -> RGBImage {
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    for y in 0..<height {
        for x in 0..<width {
            let i = (y * width + x) * 3
            pixels[i] = UInt8((x * 255) / max(width - 1, 1))
            pixels[i + 1] = UInt8((y * 255) / max(height - 1, 1))
            pixels[i + 2] = UInt8((x * 7 + y * 13) % 256)
        }
    }
    return RGBImage(width: width, height: height, pixels: pixels)
}

@Suite struct ImageDecodingTests {
    @Test("decodes like PIL's exif_transpose(...).convert(\"RGB\")", arguments: ImageFixtures.manifest.images)
    func matchesPIL(_ entry: ImageFixtures.ImageEntry) throws {
        let image = try ImageIO.readImage(ImageFixtures.url(entry.file))
        #expect(image.width == entry.width)
        #expect(image.height == entry.height)
        let expected = try ImageFixtures.bytes(entry.expected)
        #expect(image.pixels.count == expected.count)
        let differing = zip(image.pixels, expected).filter { $0 != $1 }.count
        #expect(differing == 0, "\(differing) of \(expected.count) samples differ from PIL")
    }

    @Test func coversTheRequiredKinds() {
        let files = Set(ImageFixtures.manifest.images.map(\.file))
        for required in [
            "gray.jpg", "rgb420.jpg", "rgb444.jpg", "progressive.jpg", "cmyk.jpg", "exif3.jpg",
            "exif6.jpg", "exif8.jpg", "gray8.png", "gray_alpha8.png", "rgb8.png", "rgba8.png",
            "palette_trns.png", "rgb16.png", "gray16.png", "exif6.png",
        ] {
            #expect(files.contains(required), "fixture \(required) missing from manifest.json")
        }
    }

    @Test func decodesByContentNotExtension() throws {
        let png = try Data(contentsOf: ImageFixtures.url("rgb8.png"))
        let fromData = try ImageIO.decodeImage(png, name: "photo.jpg")
        #expect(fromData == (try ImageIO.readImage(ImageFixtures.url("rgb8.png"))))
    }

    @Test func exifOrientationParser() {
        // "II", 42, IFD0 at 8, one entry: 0x0112 SHORT 1 → value.
        func tiff(_ orientation: UInt8, bigEndian: Bool = false) -> [UInt8] {
            bigEndian
                ? [0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0]
                : [0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, orientation, 0, 0, 0, 0, 0, 0, 0]
        }
        #expect(ExifOrientation.parse(tiff(6)) == 6)
        #expect(ExifOrientation.parse(tiff(8, bigEndian: true)) == 8)
        #expect(ExifOrientation.parse(Array("Exif".utf8) + [0, 0] + tiff(3)) == 3)
        #expect(ExifOrientation.parse(tiff(9)) == nil)
        #expect(ExifOrientation.parse(tiff(0)) == nil)
        // Truncated anywhere, or an IFD offset pointing outside: nil, never a crash.
        let whole = tiff(6)
        for length in 0..<20 { #expect(ExifOrientation.parse(Array(whole.prefix(length))) == nil) }
        var farOffset = whole
        farOffset[4] = 0xFF
        farOffset[5] = 0xFF
        farOffset[6] = 0xFF
        farOffset[7] = 0x7F
        #expect(ExifOrientation.parse(farOffset) == nil)
        var manyEntries = whole
        manyEntries[8] = 0xFF
        manyEntries[9] = 0xFF
        #expect(ExifOrientation.parse(manyEntries) == 6)  // the first entry is found before running off the end
        manyEntries[10] = 0x00
        #expect(ExifOrientation.parse(manyEntries) == nil)
    }

    @Test func orientationsCompose() {
        // Orientation 6 (90° clockwise) then 8 (90° counter-clockwise) gives the original back.
        let image = patternImage(width: 5, height: 3)
        let cw = ExifOrientation.apply(6, to: image.pixels, width: 5, height: 3, channels: 3)
        #expect(cw.width == 3 && cw.height == 5)
        // The top-left pixel of a clockwise rotation is the bottom-left of the original.
        #expect(Array(cw.pixels[0..<3]) == Array(image.pixels[(2 * 5) * 3..<(2 * 5) * 3 + 3]))
        let back = ExifOrientation.apply(8, to: cw.pixels, width: 3, height: 5, channels: 3)
        #expect(back.pixels == image.pixels && back.width == 5)
        let twice = ExifOrientation.apply(
            3,
            to: ExifOrientation.apply(
                3, to: image.pixels, width: 5, height: 3,
                channels: 3
            ).pixels,
            width: 5, height: 3, channels: 3)
        #expect(twice.pixels == image.pixels)
    }
}

@Suite struct MaskReadingTests {
    @Test("readMask and readIndexedMask match numpy", arguments: ImageFixtures.manifest.masks)
    func masks(_ entry: ImageFixtures.MaskEntry) throws {
        let mask = try ImageIO.readMask(ImageFixtures.url(entry.file))
        #expect(mask.width == entry.width && mask.height == entry.height)
        #expect(mask.values == (try ImageFixtures.bytes(entry.mask)))
        if let index = entry.index {
            let indexed = try ImageIO.readIndexedMask(ImageFixtures.url(entry.file))
            #expect(indexed.width == entry.width && indexed.height == entry.height)
            #expect(indexed.values == (try ImageFixtures.bytes(index)))
        } else {
            #expect(throws: ImageIOError.self) { try ImageIO.readIndexedMask(ImageFixtures.url(entry.file)) }
        }
    }

    @Test func indexedMaskOfRGBImageIsRefused() throws {
        let url = ImageFixtures.url("rgb8.png")
        #expect(throws: ImageIOError.notIndexed(path: url.path, detail: "it is an RGB image")) {
            try ImageIO.readIndexedMask(url)
        }
    }

    @Test func davisPalette() throws {
        let expected = try JSONDecoder().decode(
            [Int].self, from: Data(contentsOf: ImageFixtures.url("davis_palette.json")))
        let palette = ImageIO.davisPalette
        #expect(palette.count == 256)
        #expect(palette.flatMap { [Int($0.0), Int($0.1), Int($0.2)] } == expected)
        #expect(palette[1] == (128, 0, 0) && palette[2] == (0, 128, 0) && palette[3] == (128, 128, 0))
    }
}

@Suite struct BadInputTests {
    @Test("bad files give a one-line error naming the file", arguments: ImageFixtures.manifest.bad)
    func badFiles(_ entry: ImageFixtures.BadEntry) throws {
        let url = ImageFixtures.url(entry.file)
        do {
            _ = try ImageIO.readImage(url)
            Issue.record("\(entry.file) decoded without error")
        } catch let error as ImageIOError {
            let kind: String
            switch error {
            case .empty: kind = "empty"
            case .truncated: kind = "truncated"
            case .unknownFormat: kind = "unknownFormat"
            case .corrupt: kind = "corrupt"
            case .tooLarge: kind = "tooLarge"
            default: kind = "\(error)"
            }
            #expect(kind == entry.error, "\(error)")
            #expect(error.description.contains(url.path))
            #expect(!error.description.contains("\n"))
        }
        // Masks go through the same decoders.
        #expect(throws: ImageIOError.self) { try ImageIO.readMask(url) }
    }

    @Test func specificMessages() throws {
        let giant = ImageFixtures.url("giant.png")
        let limits = ImageLimits()
        #expect(throws: ImageIOError.tooLarge(path: giant.path, width: 40000, height: 40000, limits: limits)) {
            try ImageIO.readImage(giant)
        }
        let giantJPEG = ImageFixtures.url("giant.jpg")
        #expect(throws: ImageIOError.tooLarge(path: giantJPEG.path, width: 40000, height: 40000, limits: limits)) {
            try ImageIO.readImage(giantJPEG)
        }
        let gif = ImageFixtures.url("image.gif")
        #expect(throws: ImageIOError.unknownFormat(path: gif.path, detected: "GIF")) { try ImageIO.readImage(gif) }
        let text = ImageFixtures.url("not_an_image.jpg")
        #expect(throws: ImageIOError.unknownFormat(path: text.path, detected: nil)) { try ImageIO.readImage(text) }
        #expect(
            ImageIOError.tooLarge(path: "/a.png", width: 40000, height: 40000, limits: limits).description
                == "image '/a.png' is 40000×40000 pixels (1600.0 megapixels), above the limit of 65500 per side and "
                + "50 megapixels (--max-megapixels raises the second; downscale the image otherwise)")
    }

    @Test func missingFileAndDirectory() throws {
        let missing = URL(fileURLWithPath: "/nonexistent/sam2/photo.jpg")
        do {
            _ = try ImageIO.readImage(missing)
            Issue.record("read a missing file")
        } catch let error as ImageIOError {
            guard case .cannotRead(let path, let reason) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(path == missing.path)
            #expect(reason.contains("No such file"))
        }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(throws: ImageIOError.self) { try ImageIO.readImage(directory) }
    }

    @Test func everyTruncationFailsCleanly() throws {
        // Every prefix of a JPEG and a PNG either decodes or throws an ImageIOError; none crashes.
        for name in ["progressive.jpg", "rgb420.jpg", "palette_trns.png", "rgb16.png", "exif6.png"] {
            let data = try Data(contentsOf: ImageFixtures.url(name))
            let whole = try ImageIO.decodeImage(data, name: name)
            for length in stride(from: 0, to: data.count, by: 5) {
                do {
                    // Only the trailing chunks of a PNG (IEND) may be missing.
                    let image = try ImageIO.decodeImage(data.prefix(length), name: name)
                    #expect(name.hasSuffix(".png") && length >= data.count - 12 && image == whole)
                } catch let error as ImageIOError {
                    #expect(error.description.contains(name))
                }
            }
        }
    }
}

@Suite struct WriterTests {
    @Test func grayPNGRoundTrip() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let width = 13
        let height = 9
        let mask = (0..<(width * height)).map { UInt8($0 % 3 == 0 ? 1 : 0) }
        let url = directory.appendingPathComponent("mask.png")
        try ImageIO.writeGrayPNG(mask, width: width, height: height, to: url)
        let read = try ImageIO.readMask(url)
        #expect(read.width == width && read.height == height && read.values == mask)
        let asIndices = try ImageIO.readIndexedMask(url)
        #expect(asIndices.values == mask.map { $0 * 255 })
        #expect(try directoryContents(directory) == ["mask.png"])
    }

    @Test func rgbAndRGBAPNGRoundTrip() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = patternImage(width: 17, height: 6)
        let rgbURL = directory.appendingPathComponent("image.png")
        try ImageIO.writeRGBPNG(image, to: rgbURL)
        #expect(try ImageIO.readImage(rgbURL) == image)

        let mask = (0..<(17 * 6)).map { UInt8($0 % 5 == 0 ? 1 : 0) }
        let rgba = MaskRendering.cutout(image, mask: mask)
        let rgbaURL = directory.appendingPathComponent("cutout.png")
        try ImageIO.writeRGBAPNG(rgba, width: 17, height: 6, to: rgbaURL)
        // Reading drops alpha: inside pixels keep their colour, outside ones are black.
        let read = try ImageIO.readImage(rgbaURL)
        for i in 0..<(17 * 6) {
            let expected = mask[i] != 0 ? Array(image.pixels[3 * i..<3 * i + 3]) : [0, 0, 0]
            #expect(Array(read.pixels[3 * i..<3 * i + 3]) == expected)
        }
    }

    @Test func indexedPNGRoundTrip() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let indices = (0..<(11 * 7)).map { UInt8($0 % 4) }
        let url = directory.appendingPathComponent("00000.png")
        try ImageIO.writeIndexedPNG(indices, width: 11, height: 7, palette: ImageIO.davisPalette, to: url)
        #expect(try ImageIO.readIndexedMask(url).values == indices)
        #expect(try ImageIO.readMask(url).values == indices.map { $0 == 0 ? 0 : 1 })
        let rgb = try ImageIO.readImage(url)
        #expect(Array(rgb.pixels[3..<6]) == [128, 0, 0])
        #expect(throws: ImageIOError.self) {
            try ImageIO.writeIndexedPNG(
                [0, 1, 5], width: 3, height: 1, palette: Array(ImageIO.davisPalette.prefix(4)),
                to: directory.appendingPathComponent("bad.png"))
        }
        #expect(try directoryContents(directory) == ["00000.png"])
    }

    @Test func writersRejectWrongSizes() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("mask.png")
        #expect(
            throws: ImageIOError.invalidArgument(
                path: url.path, detail: "expected 117 bytes for a 13×9 gray image, got 100")
        ) {
            try ImageIO.writeGrayPNG([UInt8](repeating: 1, count: 100), width: 13, height: 9, to: url)
        }
        #expect(throws: ImageIOError.self) { try ImageIO.writeRGBAPNG([], width: 0, height: 0, to: url) }
        #expect(try directoryContents(directory).isEmpty)
    }

    @Test func writingIntoAMissingDirectoryFails() throws {
        let url = URL(fileURLWithPath: "/nonexistent/sam2/mask.png")
        do {
            try ImageIO.writeGrayPNG([0, 1], width: 2, height: 1, to: url)
            Issue.record("wrote into a missing directory")
        } catch let error as ImageIOError {
            #expect(error.description.hasPrefix("cannot write '/nonexistent/sam2/mask.png'"), "\(error)")
        }
    }
}

@Suite struct AtomicFileTests {
    @Test func throwingBodyLeavesNothingAndKeepsExistingFile() throws {
        struct Failure: Error {}
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("out.png")
        try Data("old".utf8).write(to: url)
        #expect(throws: Failure.self) {
            try AtomicFile.write(to: url) { temporary in
                try Data("partial".utf8).write(to: temporary)
                throw Failure()
            }
        }
        #expect(try directoryContents(directory) == ["out.png"])
        #expect(try Data(contentsOf: url) == Data("old".utf8))
    }

    @Test func failedRenameLeavesNothingAndKeepsExistingFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // The destination is a non-empty directory: rename(2) onto it fails.
        let url = directory.appendingPathComponent("out.npy")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
        try Data("keep".utf8).write(to: url.appendingPathComponent("inside"))
        #expect(throws: AtomicFileError.self) { try AtomicFile.write(Data("new".utf8), to: url) }
        #expect(throws: (any Error).self) { try NPY.write([1, 2], shape: [2], to: url) }
        #expect(throws: ImageIOError.self) { try ImageIO.writeGrayPNG([1], width: 1, height: 1, to: url) }
        #expect(try directoryContents(directory) == ["out.npy"])
        #expect(try directoryContents(url) == ["inside"])
    }

    @Test func bodyThatWritesNothingFails() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("out.bin")
        #expect(throws: AtomicFileError.self) { try AtomicFile.write(to: url) { _ in } }
        #expect(try directoryContents(directory).isEmpty)
    }

    @Test func replacesExistingFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("out.txt")
        try AtomicFile.write(Data("one".utf8), to: url)
        try AtomicFile.write(Data("two".utf8), to: url)
        #expect(try Data(contentsOf: url) == Data("two".utf8))
        #expect(try directoryContents(directory) == ["out.txt"])
    }
}

@Suite struct MaskRenderingTests {
    @Test func cutout() {
        let image = patternImage(width: 3, height: 2)
        let mask: [UInt8] = [0, 1, 1, 0, 0, 1]
        let rgba = MaskRendering.cutout(image, mask: mask)
        #expect(rgba.count == 24)
        #expect(Array(rgba[4..<8]) == Array(image.pixels[3..<6]) + [255])
        #expect(Array(rgba[0..<4]) == [0, 0, 0, 0])
        let inverted = MaskRendering.cutout(image, mask: mask, invert: true)
        #expect(Array(inverted[0..<4]) == Array(image.pixels[0..<3]) + [255])
        #expect(Array(inverted[4..<8]) == [0, 0, 0, 0])
    }

    @Test func croppedCutout() {
        let image = patternImage(width: 5, height: 4)
        var mask = [UInt8](repeating: 0, count: 20)
        mask[1 * 5 + 2] = 1  // (2, 1)
        mask[2 * 5 + 3] = 1  // (3, 2)
        let c = MaskRendering.croppedCutout(image, mask: mask)
        #expect((c.x, c.y, c.width, c.height) == (2, 1, 2, 2))
        func rgb(_ x: Int, _ y: Int) -> [UInt8] { Array(image.pixels[(y * 5 + x) * 3..<(y * 5 + x) * 3 + 3]) }
        #expect(c.rgba == rgb(2, 1) + [255] + [0, 0, 0, 0] + [0, 0, 0, 0] + rgb(3, 2) + [255])
        // Inverted: what is kept touches every border, so the crop is the whole image.
        let inverted = MaskRendering.croppedCutout(image, mask: mask, invert: true)
        #expect((inverted.x, inverted.y, inverted.width, inverted.height) == (0, 0, 5, 4))
        #expect(inverted.rgba == MaskRendering.cutout(image, mask: mask, invert: true))
        // Inverted over a mask of the left two columns: the crop is the three right columns.
        let left = (0..<20).map { UInt8($0 % 5 < 2 ? 1 : 0) }
        let right = MaskRendering.croppedCutout(image, mask: left, invert: true)
        #expect((right.x, right.y, right.width, right.height) == (2, 0, 3, 4))
        #expect(Array(right.rgba[0..<4]) == rgb(2, 0) + [255])
        // Nothing kept: the image's size, all transparent.
        let empty = MaskRendering.croppedCutout(image, mask: [UInt8](repeating: 0, count: 20))
        #expect(empty.width == 5 && empty.height == 4 && empty.rgba.allSatisfy { $0 == 0 })
    }

    @Test func overlay() {
        let image = RGBImage(width: 5, height: 5, pixels: [UInt8](repeating: 100, count: 75))
        var mask = [UInt8](repeating: 0, count: 25)
        for y in 1...3 { for x in 1...3 { mask[y * 5 + x] = 1 } }
        let out = MaskRendering.overlay(image, masks: [mask], alpha: 0.5)
        let color = MaskRendering.colors[0]
        // Centre: blended; border of the mask: the opaque colour; outside: unchanged.
        let centre = (2 * 5 + 2) * 3
        #expect(Array(out.pixels[centre..<centre + 3]) == [65, 122, 178])
        let edge = (1 * 5 + 1) * 3
        #expect(Array(out.pixels[edge..<edge + 3]) == [color.0, color.1, color.2])
        #expect(Array(out.pixels[0..<3]) == [100, 100, 100])
        #expect(MaskRendering.overlay(image, masks: []) == image)
    }

    @Test func boundingBox() {
        var mask = [UInt8](repeating: 0, count: 6 * 4)
        #expect(MaskRendering.boundingBox(mask, width: 6, height: 4) == nil)
        mask[1 * 6 + 2] = 1
        let single = MaskRendering.boundingBox(mask, width: 6, height: 4)
        #expect(single?.x == 2 && single?.y == 1 && single?.width == 0 && single?.height == 0)
        mask[3 * 6 + 4] = 255
        let box = MaskRendering.boundingBox(mask, width: 6, height: 4)
        #expect(box?.x == 2 && box?.y == 1 && box?.width == 2 && box?.height == 2)
    }
}

@Suite struct NPYTests {
    @Test func roundTrip() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("logits.npy")
        let values: [Float] = (0..<24).map { Float($0) * 0.37 - 4 } + []
        try NPY.write(values, shape: [2, 3, 4], to: url)
        let read = try NPY.read(url)
        #expect(read.shape == [2, 3, 4] && read.values == values)
        let data = try Data(contentsOf: url)
        #expect(data.count == 128 + 24 * 4)  // header padded to 64 bytes

        for shape in [[5], [], [0, 3]] {
            let count = shape.reduce(1, *)
            let v = (0..<count).map { Float($0) - 1.5 }
            try NPY.write(v, shape: shape, to: url)
            let r = try NPY.read(url)
            #expect(r.shape == shape && r.values == v)
        }
        #expect(throws: NPYError.self) { try NPY.write([1, 2, 3], shape: [2, 2], to: url) }
        #expect(try directoryContents(directory) == ["logits.npy"])
    }

    @Test func matchesNumpysBytes() throws {
        // np.save of a float32 array of shape (2, 3, 4) gives exactly these bytes, whether the values
        // come at once or piece by piece.
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let values = (0..<24).map { (Float($0) - 11.5) / 3 }
        let numpy = try Data(contentsOf: ImageFixtures.url("numpy_f4.npy"))
        let whole = directory.appendingPathComponent("whole.npy")
        try NPY.write(values, shape: [2, 3, 4], to: whole)
        #expect(try Data(contentsOf: whole) == numpy)
        let pieces = directory.appendingPathComponent("pieces.npy")
        try NPY.write(shape: [2, 3, 4], to: pieces) { part in
            for start in stride(from: 0, to: 24, by: 10) {
                try values[start..<min(start + 10, 24)].withUnsafeBufferPointer { try part($0) }
            }
        }
        #expect(try Data(contentsOf: pieces) == numpy)
        #expect(throws: NPYError.self) {
            try NPY.write(shape: [2, 3, 4], to: pieces) { part in
                try values.prefix(5).withUnsafeBufferPointer { try part($0) }
            }
        }
        #expect(try Data(contentsOf: pieces) == numpy)  // a failed write leaves the file as it was
    }

    @Test func readsNumpyFiles() throws {
        let expected = (0..<24).map { (Float($0) - 11.5) / 3 }
        let f4 = try NPY.read(ImageFixtures.url("numpy_f4.npy"))
        #expect(f4.shape == [2, 3, 4] && f4.values == expected)
        let f8 = try NPY.read(ImageFixtures.url("numpy_f8.npy"))
        #expect(f8.shape == [2, 3, 4] && f8.values == expected)
        let oneD = try NPY.read(ImageFixtures.url("numpy_f4_1d.npy"))
        #expect(oneD.shape == [3] && oneD.values == [1.5, -2.25, .infinity])
        #expect(throws: NPYError.self) { try NPY.read(ImageFixtures.url("numpy_fortran.npy")) }
        #expect(throws: NPYError.self) { try NPY.read(ImageFixtures.url("numpy_i4.npy")) }
        #expect(throws: NPYError.self) { try NPY.read(ImageFixtures.url("rgb8.png")) }
        let truncated = try [UInt8](Data(contentsOf: ImageFixtures.url("numpy_f4.npy"))).dropLast(3)
        #expect(throws: NPYError.self) { try NPY.decode(Array(truncated), path: "t.npy") }
    }

    /// A shape whose element count fits an Int but whose byte count does not is refused in one line
    /// (found by fuzzing: computing the byte count for the message trapped on overflow).
    @Test func shapeOfTooManyBytes() throws {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 8594713863667057515), }\n"
        let bytes = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8)
        #expect {
            try NPY.decode(bytes + [0, 0, 0, 0], path: "big.npy")
        } throws: { error in
            "\(error)" == "'big.npy' is not a valid .npy file: shape [1, 8594713863667057515] needs too many bytes "
                + "of data, the file has 4"
        }
    }
}
