// Fuzz target `exif`: the bytes after the first as EXIF data (a TIFF structure) in a small fixture
// image — a JPEG APP1 segment when the first byte is even, a PNG eXIf chunk when odd — decoded with
// the orientation applied. Seeds: the EXIF blocks of the exif*.jpg fixtures, in both containers.

import Foundation
import SAM2Checkpoint
import SAM2IO

extension FuzzTarget {
    static let exif = FuzzTarget(
        name: "exif", summary: "EXIF data in a 13×9 JPEG or PNG, decoded upright",
        seeds: { fixtures in
            var seeds: [(name: String, data: Data)] = []
            for (name, data) in try fixtures.files("Tests/SAM2Tests/Fixtures/images", extensions: ["jpg"]) {
                guard let payload = FuzzFixtures.exifPayload(ofJPEG: data) else { continue }
                seeds.append(("jpeg-" + name, Data([0]) + payload))
                seeds.append(("png-" + name, Data([1]) + payload))
            }
            return seeds
        },
        entry: { data, scratch in
            guard let selector = data.first else { return "empty" }
            let payload = Data(data.dropFirst())
            guard let base = ExifBase.shared else {
                throw FuzzViolation("the base images of the exif target are missing")
            }
            let file =
                selector % 2 == 0
                ? ExifBase.jpeg(Data(base.jpeg), exif: payload) : ExifBase.png(Data(base.png), exif: payload)
            let image = try ImageIO.decodeImage(file, name: "input")
            let upright = (image.width, image.height) == (base.width, base.height)
            guard upright || (image.height, image.width) == (base.width, base.height),
                image.pixels.count == base.width * base.height * 3
            else { throw FuzzViolation("a \(base.width)×\(base.height) image came out \(image.width)×\(image.height)") }
            return upright ? "upright or mirrored" : "turned"
        })
}

/// The fixture images the EXIF data is put into, and how. (A class held in an optional: LeakSanitizer
/// loses track of memory that a global Result or tuple of Data holds through tagged enum payloads.)
final class ExifBase: Sendable {
    let jpeg: [UInt8]
    let png: [UInt8]
    let width: Int
    let height: Int

    static let shared: ExifBase? = try? ExifBase()

    private init() throws {
        let fixtures = FuzzFixtures()
        jpeg = [UInt8](try fixtures.data("Tests/SAM2Tests/Fixtures/images/rgb444.jpg"))
        png = [UInt8](try fixtures.data("Tests/SAM2Tests/Fixtures/images/rgb8.png"))
        let image = try ImageIO.decodeImage(Data(png), name: "rgb8.png")
        (width, height) = (image.width, image.height)
    }

    /// The JPEG with an APP1 "Exif\0\0" segment right after its SOI marker (payload cut to fit).
    static func jpeg(_ jpeg: Data, exif: Data) -> Data {
        let payload = exif.prefix(0xFFFF - 2 - 6)
        let length = payload.count + 2 + 6
        var out = Data(jpeg.prefix(2))
        out.append(contentsOf: [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)])
        out.append(contentsOf: Array("Exif\0\0".utf8))
        out.append(payload)
        out.append(jpeg.dropFirst(2))
        return out
    }

    /// The PNG with an eXIf chunk (correct CRC) right after its IHDR chunk.
    static func png(_ png: Data, exif: Data) -> Data {
        let ihdrEnd = 8 + 4 + 4 + 13 + 4
        var body = Data("eXIf".utf8)
        body.append(exif)
        let crc: UInt32 = body.withUnsafeBytes { ZipArchive.crc32($0) }
        var out = Data(png.prefix(ihdrEnd))
        out.append(contentsOf: bigEndianBytes(UInt32(exif.count)))
        out.append(body)
        out.append(contentsOf: bigEndianBytes(crc))
        out.append(png.dropFirst(ihdrEnd))
        return out
    }

    private static func bigEndianBytes(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
    }
}

extension FuzzFixtures {
    /// The payload of a JPEG's first APP1 "Exif\0\0" segment, without that prefix.
    static func exifPayload(ofJPEG data: Data) -> Data? {
        let b = [UInt8](data)
        var i = 2
        while i + 4 <= b.count, b[i] == 0xFF {
            let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
            if b[i + 1] == 0xE1, i + 2 + length <= b.count, length >= 8,
                Array(b[(i + 4)..<(i + 10)]) == Array("Exif\0\0".utf8)
            {
                return Data(b[(i + 10)..<(i + 2 + length)])
            }
            i += 2 + length
        }
        return nil
    }
}
