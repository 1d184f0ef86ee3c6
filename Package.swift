// swift-tools-version:6.0
import PackageDescription

// Kernels are compiled with -Ounchecked in release: their index arithmetic is
// proven in-bounds by the shape checks done once at each kernel's entry.
let kernelFlags: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

let package = Package(
    name: "vision",
    products: [
        .executable(name: "vision", targets: ["vision"]),
        // The library product; named so it never clashes with Apple's `Vision` framework.
        .library(name: "VisionDetection", targets: ["VisionDetection"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // SHA-256 of downloaded checkpoints.
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // `vision serve`: HTTP server, access log, Prometheus metrics.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Already in Hummingbird's graph; named for serve's channel handlers (body timeout, 100-continue).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.34.1"),
    ],
    targets: [
        // OpenBLAS (cblas_sgemm, openblas_set_num_threads).
        .systemLibrary(
            name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        // libjpeg-turbo and libpng behind a setjmp-recovering C shim.
        .target(
            name: "CImageCodecs", path: "Sources/CImageCodecs",
            linkerSettings: [.linkedLibrary("jpeg"), .linkedLibrary("png16")]),
        // FFmpeg (libavformat, libavcodec, libswscale) behind a small C layer: frames in as RGB, H.264/MP4 out.
        .target(
            name: "CVideoCodecs", path: "Sources/CVideoCodecs",
            linkerSettings: [.linkedLibrary("avformat"), .linkedLibrary("avcodec"), .linkedLibrary("swscale"), .linkedLibrary("avutil")]),
        // The hot loops in C, built for baseline x86-64, AVX2+FMA and AVX-512F (function-level
        // target attributes); VisionKernels picks one per call from its InstructionSet value.
        .target(name: "CVisionSIMD", path: "Kernels/CPUSIMD",
                cSettings: [.unsafeFlags(["-O3"], .when(configuration: .release))]),
        // Raw-pointer CPU kernels, each fast kernel beside its naive reference.
        .target(name: "VisionKernels", dependencies: ["COpenBLAS", "CVisionSIMD"], path: "Kernels/CPU", swiftSettings: kernelFlags),
        // Tensor type, the compute-backend protocol and the CPU backend.
        .target(name: "VisionCore", dependencies: ["VisionKernels"], swiftSettings: kernelFlags),
        // Image decode/encode, resize, box drawing.
        .target(name: "VisionImaging", dependencies: ["VisionCore", "CImageCodecs"], swiftSettings: kernelFlags),
        // .pth (zip and legacy, safe unpickler) and .safetensors readers/writers.
        // ... and TFLite flatbuffers (MobileNetV2 -> torchvision); Crypto for the source file's SHA-256 in the metadata.
        .target(name: "VisionCheckpoint", dependencies: ["VisionCore", .product(name: "Crypto", package: "swift-crypto")]),
        // Faster R-CNN: transform, backbones, FPN, RPN, RoI heads, post-processing.
        .target(name: "VisionDetection", dependencies: ["VisionCore", "VisionImaging", "VisionCheckpoint"], swiftSettings: kernelFlags),
        // Video frames as RGBImage, annotated video out.
        .target(name: "VisionVideo", dependencies: ["CVideoCodecs", "VisionImaging"]),
        // Datasets (Pascal VOC, COCO, CSV, YOLO) and evaluation (COCO AP, VOC07 mAP).
        .target(name: "VisionData", dependencies: ["VisionCore", "VisionImaging"]),
        // Charts (SVG, and PNG through VisionImaging) and self-contained HTML reports.
        .target(name: "VisionPlot", dependencies: ["VisionImaging"]),
        // Training: backward passes, losses, matchers/samplers, SGD, checkpoints. Plain -O, not
        // -Ounchecked: its hot loops are VisionKernels', and under -Ounchecked a TrainableFasterRCNN
        // whose checkpoint was refused corrupted the heap when the error was released
        // (MobileNetV2TrainingTests.testClassifierStateDictStartsTheBodyOnly; no check fails under -O).
        .target(name: "VisionTraining", dependencies: ["VisionDetection", "VisionData", "VisionPlot"]),
        .executableTarget(
            name: "vision",
            dependencies: ["VisionDetection", "VisionData", "VisionTraining", "VisionPlot", "VisionVideo",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "Prometheus", package: "swift-prometheus"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOHTTPTypes", package: "swift-nio-extras")]),
        .executableTarget(name: "vision-kernel-bench", dependencies: ["VisionCore", "VisionKernels", "COpenBLAS"], swiftSettings: kernelFlags),
        // End-to-end latency benchmark against PyTorch and ONNX Runtime (Tests/Benchmarks/).
        .executableTarget(name: "vision-bench", dependencies: ["VisionDetection", "VisionKernels"], swiftSettings: kernelFlags),
        .testTarget(name: "VisionCoreTests", dependencies: ["VisionCore", "VisionKernels"]),
        .testTarget(name: "VisionImagingTests", dependencies: ["VisionImaging"]),
        .testTarget(name: "VisionCheckpointTests", dependencies: ["VisionCheckpoint", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "VisionDetectionTests", dependencies: ["VisionDetection"]),
        .testTarget(name: "VisionDataTests", dependencies: ["VisionData"]),
        .testTarget(name: "VisionPlotTests", dependencies: ["VisionPlot"]),
        .testTarget(name: "VisionTrainingTests", dependencies: ["VisionTraining"]),
        // Runs the built `vision` executable end to end (folders, errors, resume, shards, download).
        .testTarget(name: "VisionCLITests", dependencies: ["vision", "VisionDetection", "VisionVideo", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "VisionVideoTests", dependencies: ["VisionVideo"]),
    ],
    swiftLanguageModes: [.v5]
)
