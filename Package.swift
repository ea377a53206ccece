// swift-tools-version:6.0
import Foundation
import PackageDescription

// The Makefile sets RLHFKIT_DEVELOPMENT: the tensor kernels are then built with -Ounchecked in release and -O in debug
// (so the test suite's training runs stay fast). Unsafe flags would stop a package that depends on RLHFKit by version
// from resolving, so without it (as a dependency) the package builds with SwiftPM's plain settings.
let development = ProcessInfo.processInfo.environment["RLHFKIT_DEVELOPMENT"] != nil
let tensorFlags: [SwiftSetting] = development
    ? [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release)), .unsafeFlags(["-O"], .when(configuration: .debug))]
    : []
// Debug builds of the C kernels are -O0, where they would be slower than BLAS and turn themselves off: development
// builds optimise them so the debug test suite runs them too.
let kernelFlags: [CSetting] = development ? [.unsafeFlags(["-O2"])] : []

let package = Package(
    name: "RLHFKit",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "RLHFKit", targets: ["Tensor", "Distributed", "NN", "Tokenizer", "Hub", "Models", "Data", "Alignment", "Feedback", "Personalization", "Demo"]),
        .executable(name: "rlhf", targets: ["rlhf"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
    ],
    targets: [
        // OpenBLAS on Linux; on Apple platforms the engine imports Accelerate instead.
        .systemLibrary(
            name: "CBLAS",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // AVX2 + FMA kernels chosen at run time on x86-64 (GELU; few-row products that stream [out, in] weights).
        .target(name: "CKernels", cSettings: kernelFlags),
        .target(
            name: "Tensor",
            dependencies: [.target(name: "CBLAS", condition: .when(platforms: [.linux])),
                           .target(name: "CKernels", condition: .when(platforms: [.linux]))],
            swiftSettings: tensorFlags,
            linkerSettings: [.linkedFramework("Accelerate", .when(platforms: [.macOS]))]
        ),
        // Open MPI loaded at run time (dlopen), so neither the build nor a single-process run needs MPI.
        .target(name: "CMPI", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),
        // Data-parallel jobs: the ranks of an mpirun/srun launch and the gradient all-reduce.
        .target(name: "Distributed", dependencies: ["Tensor", "CMPI"]),
        .target(name: "NN", dependencies: ["Tensor"]),
        .target(name: "Tokenizer"),
        // Hugging Face Hub ids: the shared cache's layout, downloads into it (checksums, resume, locks).
        .target(name: "Hub", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Models", dependencies: ["Tensor", "NN", "Hub"]),
        .target(name: "Data", dependencies: ["Tensor", "Tokenizer"]),
        .target(name: "Alignment", dependencies: ["Tensor", "NN", "Models", "Tokenizer", "Data", "Feedback", "Distributed"]),
        .target(
            name: "Feedback",
            dependencies: ["Tensor", "Data", .product(name: "GRDB", package: "GRDB.swift"),
                           .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdCore", package: "hummingbird")],
            resources: [.copy("Web")]
        ),
        // Each chat user's own adapter, trained from their feedback while the server runs (`rlhf serve --model`).
        .target(
            name: "Personalization",
            dependencies: ["Tensor", "NN", "Models", "Tokenizer", "Data", "Alignment", "Feedback",
                           .product(name: "Hummingbird", package: "hummingbird")]
        ),
        // The built-in task of `rlhf demo`: data, hidden rubric, simulated labelers, report.
        .target(name: "Demo", dependencies: ["Tensor", "Tokenizer", "Models", "Alignment", "Feedback"]),
        .executableTarget(
            name: "rlhf",
            dependencies: ["Tensor", "Distributed", "NN", "Tokenizer", "Hub", "Models", "Data", "Alignment", "Feedback", "Personalization", "Demo",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"], exclude: ["Fixtures"]),
        .testTarget(name: "NNTests", dependencies: ["NN"]),
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer"], exclude: ["Fixtures"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Tokenizer", "Data"], exclude: ["Fixtures"]),
        .testTarget(name: "DataTests", dependencies: ["Data"]),
        // A Hugging Face Hub on the loopback address, for the download tests.
        .target(name: "MockHub", dependencies: [.product(name: "Crypto", package: "swift-crypto")], path: "Tests/Support/MockHub"),
        .testTarget(name: "HubTests", dependencies: ["Hub", "MockHub"]),
        .testTarget(name: "AlignmentTests", dependencies: ["Alignment", "Feedback"], exclude: ["Fixtures"]),
        .testTarget(name: "FeedbackTests", dependencies: ["Feedback", "Personalization", "Tensor", .product(name: "GRDB", package: "GRDB.swift"),
                                                         .product(name: "HummingbirdTesting", package: "hummingbird")]),
        .testTarget(name: "DemoTests", dependencies: ["Demo", "Feedback", "Tensor"]),
        .testTarget(name: "CLITests", dependencies: ["rlhf", "Tensor", "Data", "NN", "Models", "Alignment", "Feedback", "Demo", "MockHub"],
                    exclude: ["Fixtures"]),
    ]
)
