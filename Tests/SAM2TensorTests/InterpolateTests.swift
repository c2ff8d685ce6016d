// Interpolation and image-resize tests: against plain formulas on random sizes, and against
// PyTorch (F.interpolate, torchvision Resize) and Pillow (Image.resize BICUBIC) outputs stored as
// .npy fixtures by tools/reference/make_kernel_fixtures.py.

import Foundation
import SAM2Tensor
import Testing

private func check(
    _ got: Tensor, _ want: Tensor, _ tolerance: Double, _ note: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(got.shape == want.shape, "\(note): shape \(got.shape) vs \(want.shape)", sourceLocation: sourceLocation)
    guard got.shape == want.shape else { return }
    let err = relativeL2(got.scalars, want.scalars)
    #expect(
        err <= tolerance, "\(note): relative L2 \(err), max abs \(maxAbsDifference(got.scalars, want.scalars))",
        sourceLocation: sourceLocation)
}

/// The deterministic 8-bit pattern of make_kernel_fixtures.py (H×W×3, interleaved).
private func patternImage(width: Int, height: Int, channels: Int = 3) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: width * height * channels)
    for y in 0..<height {
        for x in 0..<width {
            for c in 0..<channels {
                let v = (x * x * 3 + y * 7 + c * 101 + ((x * y) % 17) * 13 + ((x / 32 + y / 32) % 2) * 90) % 256
                out[(y * width + x) * channels + c] = UInt8(v)
            }
        }
    }
    return out
}

@Suite struct InterpolatePlainTests {
    static let sizes: [(Int, Int, Int, Int)] = [
        (13, 17, 29, 8), (40, 31, 9, 12), (7, 7, 7, 15), (64, 48, 16, 48), (5, 3, 2, 1),
    ]

    @Test func bilinearMatchesPlain() {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        for (h, w, oh, ow) in Self.sizes {
            let x = randomTensor([2, 3, h, w], &rng)
            check(
                interpolateBilinear(x, height: oh, width: ow), Plain.bilinear(x, height: oh, width: ow), 1e-5,
                "\(h)x\(w)→\(oh)x\(ow) seed \(seed)")
            check(
                interpolateBilinear(x, height: oh, width: ow, antialias: true),
                Plain.bilinearAntialiased(x, height: oh, width: ow), 1e-5,
                "aa \(h)x\(w)→\(oh)x\(ow) seed \(seed)")
        }
    }

    @Test func antialiasWhenUpscalingEqualsPlainBilinear() {
        var rng = SeededGenerator(seed: freshSeed())
        let x = randomTensor([1, 2, 9, 11], &rng)
        check(
            interpolateBilinear(x, height: 20, width: 31, antialias: true),
            interpolateBilinear(x, height: 20, width: 31), 1e-6, "upscale")
    }

    @Test func nearestAndBicubicMatchPlain() {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        for (h, w, oh, ow) in Self.sizes {
            let x = randomTensor([1, 2, h, w], &rng)
            check(
                interpolateNearest(x, height: oh, width: ow), Plain.nearest(x, height: oh, width: ow), 0,
                "nearest \(h)x\(w)→\(oh)x\(ow) seed \(seed)")
            check(
                interpolateBicubic(x, height: oh, width: ow), Plain.bicubic(x, height: oh, width: ow), 1e-5,
                "bicubic \(h)x\(w)→\(oh)x\(ow) seed \(seed)")
        }
    }

    @Test func pilResizeKeepsConstantImagesAndIdentity() {
        let constant = [UInt8](repeating: 77, count: 31 * 17 * 3)
        #expect(
            resizeBicubicPIL(constant, width: 31, height: 17, channels: 3, toWidth: 50, toHeight: 9).allSatisfy {
                $0 == 77
            })
        let image = patternImage(width: 20, height: 12)
        #expect(resizeBicubicPIL(image, width: 20, height: 12, channels: 3, toWidth: 20, toHeight: 12) == image)
    }
}

@Suite struct InterpolateFixtureTests {
    static let cases: [(String, String, Bool)] = [
        ("bilinear_down_aa", "bilinear", true), ("bilinear_down", "bilinear", false),
        ("bilinear_up_aa", "bilinear", true), ("bilinear_up", "bilinear", false),
        ("bilinear_mixed_aa", "bilinear", true), ("bilinear_mixed", "bilinear", false),
        ("bilinear_far_aa", "bilinear", true), ("bilinear_same_width_aa", "bilinear", true),
        ("resize_tv", "bilinear", true),
        ("nearest_mixed", "nearest", false), ("nearest_double", "nearest", false), ("nearest_down", "nearest", false),
        ("bicubic_up", "bicubic", false), ("bicubic_down", "bicubic", false),
    ]

    @Test(arguments: cases.map { $0.0 })
    func matchesPyTorch(name: String) throws {
        let (_, mode, antialias) = Self.cases.first { $0.0 == name }!
        let x = try NpyArray.fixture("\(name).input").tensor
        let want = try NpyArray.fixture("\(name).output").tensor
        let (oh, ow) = (want.shape[2], want.shape[3])
        let got: Tensor
        switch mode {
        case "nearest": got = interpolateNearest(x, height: oh, width: ow)
        case "bicubic": got = interpolateBicubic(x, height: oh, width: ow)
        default: got = interpolateBilinear(x, height: oh, width: ow, antialias: antialias)
        }
        check(got, want, mode == "nearest" ? 0 : 1e-6, name)
        #expect(maxAbsDifference(got.scalars, want.scalars) <= 1e-5, "\(name)")
    }

    @Test func pilRandomImage() throws {
        let input = try NpyArray.fixture("pil_37x23.input")
        #expect(input.shape == [23, 37, 3])
        for (name, w, h) in [
            ("pil_37x23_to_64x64", 64, 64), ("pil_37x23_to_17x9", 17, 9),
            ("pil_37x23_to_50x23", 50, 23), ("pil_37x23_to_37x11", 37, 11),
        ] {
            let want = try NpyArray.fixture("\(name).output")
            let got = resizeBicubicPIL(input.bytes, width: 37, height: 23, channels: 3, toWidth: w, toHeight: h)
            #expect(want.shape == [h, w, 3])
            #expect(got == want.bytes, "\(name): \(zip(got, want.bytes).filter { $0 != $1 }.count) bytes differ")
        }
    }

    @Test func pilPatternImages() throws {
        for (name, sw, sh, w, h) in [
            ("pil_pattern_300x200_to_64x64", 300, 200, 64, 64), ("pil_pattern_200x300_to_48x50", 200, 300, 48, 50),
        ] {
            let want = try NpyArray.fixture("\(name).output")
            let got = resizeBicubicPIL(
                patternImage(width: sw, height: sh), width: sw, height: sh, channels: 3, toWidth: w, toHeight: h)
            #expect(got == want.bytes, "\(name): \(zip(got, want.bytes).filter { $0 != $1 }.count) bytes differ")
        }
    }

    @Test func pilPatternTo1024() throws {
        let rows = try NpyArray.fixture("pil_pattern_1280x720_to_1024.rows").floats.map { Int($0) }
        let want = try NpyArray.fixture("pil_pattern_1280x720_to_1024.output")
        let got = resizeBicubicPIL(
            patternImage(width: 1280, height: 720), width: 1280, height: 720, channels: 3, toWidth: 1024, toHeight: 1024
        )
        #expect(want.shape == [rows.count, 1024, 3])
        var picked = [UInt8]()
        for r in rows { picked += got[(r * 1024 * 3)..<((r + 1) * 1024 * 3)] }
        #expect(picked == want.bytes, "\(zip(picked, want.bytes).filter { $0 != $1 }.count) bytes differ")
    }
}
