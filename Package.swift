// swift-tools-version:6.0
// swift-sam2: SAM 2 (Segment Anything Model 2) in Swift. No package dependencies: the C libraries
// come from the system (Debian's -dev packages, or Homebrew) through system-library targets.
//
// Layers, each importing only those below it:
//   SAM2Tensor ← SAM2Checkpoint ← SAM2 (the model: pixels and prompts in, tensors and records out)
//   ← SAM2IO (image and video codecs, .npy, mask rendering, atomic files)
//   ← SAM2Workflows (COCO, detections, folder jobs, tracking prompts and outputs)
//   ← SAM2Server (`sam2 serve`) ← sam2 (the command-line tool).
import PackageDescription

let package = Package(
    name: "swift-sam2",
    products: [
        .library(name: "SAM2", targets: ["SAM2"]),
        .library(name: "SAM2IO", targets: ["SAM2IO"]),
        .library(name: "SAM2Workflows", targets: ["SAM2Workflows"]),
        .library(name: "SAM2Server", targets: ["SAM2Server"]),
        .executable(name: "sam2", targets: ["sam2"]),
    ],
    targets: [
        // oneDNN ships no pkg-config file; its headers and library are looked for on the default paths.
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"]), .brew(["onednn"])]),
        .systemLibrary(
            name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg62-turbo-dev"]), .brew(["jpeg-turbo"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        .systemLibrary(
            name: "CFFmpeg", pkgConfig: "libavformat",
            providers: [
                .apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev", "libavdevice-dev"]),
                .brew(["ffmpeg"]),
            ]),
        .systemLibrary(
            name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]),
        .systemLibrary(
            name: "CMicroHTTPD", pkgConfig: "libmicrohttpd",
            providers: [.apt(["libmicrohttpd-dev"]), .brew(["libmicrohttpd"])]),
        // The elementwise and row kernels in C: AVX-512 versions beside portable ones, picked at run time.
        .target(name: "CSAM2Kernels"),
        .target(name: "SAM2Tensor", dependencies: ["CDNNL", "CSAM2Kernels"]),
        .target(name: "SAM2Checkpoint", dependencies: ["SAM2Tensor", "CZlib"]),
        .target(name: "SAM2", dependencies: ["SAM2Tensor", "SAM2Checkpoint"]),
        .target(name: "SAM2IO", dependencies: ["SAM2", "SAM2Tensor", "SAM2Checkpoint", "CJPEG", "CPNG", "CFFmpeg"]),
        .target(name: "SAM2Workflows", dependencies: ["SAM2", "SAM2IO", "SAM2Checkpoint", "CCrypto"]),
        .target(name: "SAM2Server", dependencies: ["SAM2", "SAM2IO", "SAM2Workflows", "CMicroHTTPD"]),
        .executableTarget(name: "sam2", dependencies: ["SAM2", "SAM2IO", "SAM2Workflows", "SAM2Server"]),
        // The arithmetic peak of the CPU's multiply-add instructions, for sam2-kernel-bench's floors.
        .target(name: "CInstructionPeak"),
        .executableTarget(name: "sam2-kernel-bench", dependencies: ["SAM2Tensor", "CDNNL", "CInstructionPeak"]),
        // Fuzz targets (Fuzz/Targets) and their driver; scripts/fuzz.sh builds the driver with libFuzzer.
        .target(
            name: "SAM2FuzzTargets",
            dependencies: ["SAM2Checkpoint", "SAM2", "SAM2IO", "SAM2Workflows", "SAM2Server"], path: "Fuzz/Targets"),
        .executableTarget(name: "sam2-fuzz", dependencies: ["SAM2FuzzTargets"], path: "Fuzz/Driver"),
        .testTarget(
            name: "SAM2TensorTests", dependencies: ["SAM2Tensor", "CSAM2Kernels"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SAM2CheckpointTests", dependencies: ["SAM2Checkpoint"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "SAM2Tests", dependencies: ["SAM2", "SAM2IO", "SAM2Workflows", "SAM2Server"],
            resources: [.copy("Fixtures")]),
        .testTarget(name: "SAM2FuzzTests", dependencies: ["SAM2FuzzTargets"], resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v6]
)
