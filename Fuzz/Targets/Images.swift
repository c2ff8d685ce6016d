// Fuzz targets `png` and `jpeg`: the bytes as an image file, decoded by ImageIO as an RGB image, as
// a 0/1 mask and as palette indices. Seeds: the PNG / JPEG fixtures.

import Foundation
import SAM2IO

extension FuzzTarget {
    static let png = FuzzTarget(
        name: "png", summary: "a PNG decoded as an image, a mask and palette indices",
        seeds: { try $0.files("Tests/SAM2Tests/Fixtures/images", extensions: ["png"]) },
        entry: { data, scratch in try readImage(scratch.file(data, name: "input.png")) })

    static let jpeg = FuzzTarget(
        name: "jpeg", summary: "a JPEG decoded as an image, a mask and gray values",
        seeds: { fixtures in
            try fixtures.files("Tests/SAM2Tests/Fixtures/images", extensions: ["jpg"])
                + fixtures.files("Tests/SAM2Tests/Fixtures/video/frames", extensions: ["jpg"])
        },
        entry: { data, scratch in try readImage(scratch.file(data, name: "input.jpg")) })

    /// Reads an image file all three ways; the sizes must agree with each other.
    static func readImage(_ url: URL) throws -> String {
        let image = try ImageIO.readImage(url)
        guard image.width > 0, image.height > 0, image.pixels.count == image.width * image.height * 3 else {
            throw FuzzViolation("image \(image.width)×\(image.height) with \(image.pixels.count) bytes")
        }
        let mask = try ImageIO.readMask(url)
        guard mask.width == image.width, mask.height == image.height, mask.values.count == mask.width * mask.height
        else {
            throw FuzzViolation("mask \(mask.width)×\(mask.height) of an image \(image.width)×\(image.height)")
        }
        if let indices = try? ImageIO.readIndexedMask(url) {
            guard indices.width == mask.width, indices.height == mask.height,
                indices.values.count == mask.values.count
            else {
                throw FuzzViolation("indices \(indices.width)×\(indices.height) of a mask \(mask.width)×\(mask.height)")
            }
        }
        return "\(image.width)×\(image.height)"
    }
}
