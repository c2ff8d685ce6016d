// swift-tools-version:6.0
// swift-sam2: SAM 2 (Segment Anything Model 2) in Swift. No package dependencies: the C libraries
// come from Debian through system-library targets.
import PackageDescription

let package = Package(
    name: "swift-sam2",
    products: [
        .library(name: "SAM2", targets: ["SAM2"]),
        .library(name: "SAM2Server", targets: ["SAM2Server"]),
        .executable(name: "sam2", targets: ["sam2"]),
    ],
    targets: [
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        .systemLibrary(name: "CJPEG", providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(name: "CPNG", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CFFmpeg",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev"])]),
        .systemLibrary(name: "CMicroHTTPD", providers: [.apt(["libmicrohttpd-dev"])]),
        .target(name: "SAM2Tensor", dependencies: ["CDNNL"]),
        .target(name: "SAM2Checkpoint", dependencies: ["SAM2Tensor", "CZlib"]),
        .target(name: "SAM2", dependencies: ["SAM2Tensor", "SAM2Checkpoint", "CJPEG", "CPNG", "CFFmpeg"]),
        .target(name: "SAM2Server", dependencies: ["SAM2", "SAM2Tensor", "CMicroHTTPD"]),
        .executableTarget(name: "sam2", dependencies: ["SAM2", "SAM2Server"]),
        .executableTarget(name: "sam2-kernel-bench", dependencies: ["SAM2Tensor", "CDNNL"]),
        .testTarget(name: "SAM2TensorTests", dependencies: ["SAM2Tensor"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SAM2CheckpointTests", dependencies: ["SAM2Checkpoint"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SAM2Tests", dependencies: ["SAM2", "SAM2Server"], resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v6]
)
