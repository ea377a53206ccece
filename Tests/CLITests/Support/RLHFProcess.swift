import Foundation
import XCTest

/// Running the built `rlhf` binary as a user would, for the CLI tests.
extension XCTestCase {
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rlhf-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs `rlhf arguments` to its end, with `environment` added to this process's.
    func runRLHF(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = productsDirectory.appendingPathComponent("rlhf")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let (out, err) = (Pipe(), Pipe())
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    /// Starts `rlhf arguments` and kills it with SIGKILL as soon as `condition` holds (polled every 2 ms); fails if
    /// the run ended first.
    func killRLHF(_ arguments: [String], when condition: () throws -> Bool) throws {
        let process = Process()
        process.executableURL = productsDirectory.appendingPathComponent("rlhf")
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while try !condition(), Date() < deadline {
            usleep(2_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal, "the run must still be going when killed")
    }

    func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }

    var productsDirectory: URL {
        #if os(macOS)
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            return bundle.bundleURL.deletingLastPathComponent()
        }
        fatalError("no .xctest bundle")
        #else
        return Bundle.main.bundleURL
        #endif
    }
}

/// The model and data fixtures the CLI tests run on.
enum Fixture {
    static let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let models = tests.appendingPathComponent("ModelsTests/Fixtures")
    static let gpt2 = models.appendingPathComponent("tiny-gpt2").path
    static let gpt2Reward = models.appendingPathComponent("tiny-gpt2-reward").path
    static let gpt2Directory = models.appendingPathComponent("tiny-gpt2")
    static let demonstrations = tests.appendingPathComponent("AlignmentTests/Fixtures/sft-sgd-step/data.jsonl").path
    static let pairs = tests.appendingPathComponent("AlignmentTests/Fixtures/reward-rule/pairs.jsonl").path
    /// `rlhf demo`'s SFT model (seed 42) and a chat template of its `User: …\nAssistant:` format.
    static let demoSFT = tests.appendingPathComponent("CLITests/Fixtures/demo-sft")
}
