import Foundation
import Models
import NN
import Tensor
import XCTest

/// `mpirun -np 2 rlhf …`: two ranks, each on half of every global batch, end where one process on the whole batch
/// does; a rank killed mid-run ends the job on every rank, and `--resume` continues it.
final class DataParallelTests: XCTestCase {
    /// The peer workload's GPT-2 shape (4 layers × 256, 128-token sequences, global batch 8), on the tiny fixture's
    /// tokenizer, with packed demonstrations.
    private func peerWorkload(in work: URL) throws -> (model: URL, demonstrations: URL) {
        let model = work.appendingPathComponent("gpt2-4x256")
        let fixture = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixture.gpt2Directory.appendingPathComponent("config.json"))) as! [String: Any]
        var fields = fixture
        (fields["n_layer"], fields["n_head"], fields["n_embd"], fields["n_positions"]) = (4, 4, 256, 256)
        var initializer = WeightInitializer.random(seed: 0)
        let network = try ModelConfig(json: JSONSerialization.data(withJSONObject: fields), path: "peer shape").makeModel(initializer: &initializer)
        try ModelDirectory.save(network, to: model)
        try ModelDirectory.copyTokenizerFiles(from: Fixture.gpt2Directory, to: model)
        let words = ["the", "model", "learns", "from", "human", "feedback", "and", "ranks", "answers", "well", "today", "kind"]
        var generator = SeededGenerator(seed: 7)
        let lines = (0..<24).map { _ in
            let text = (0..<120).map { _ in words.randomElement(using: &generator)! }.joined(separator: " ")
            return "{\"prompt\": \"Say:\", \"completion\": \"\(text)\"}"
        }
        let demonstrations = work.appendingPathComponent("demonstrations.jsonl")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: demonstrations)
        return (model, demonstrations)
    }

    func testSFTOverTwoRanksEndsWithTheParametersOfOneProcess() throws {
        let mpirun = try openMPILauncher()
        let work = try temporaryDirectory()
        let (model, demonstrations) = try peerWorkload(in: work)
        let sft = ["sft", "--model", model.path, "--data", demonstrations.path, "--packing", "--max-length", "128", "--eval-split", "0",
                   "--batch-size", "8", "--lr", "1e-4", "--lr-schedule", "constant", "--no-tensorboard", "--steps"]
        let one = try runRLHF(sft + ["5", "--out", work.appendingPathComponent("one").path])
        XCTAssertEqual(one.status, 0, one.stderr)
        let two = try runMPI(mpirun, ranks: 2, sft + ["5", "--out", work.appendingPathComponent("two").path])
        XCTAssertEqual(two.status, 0, two.stderr)
        XCTAssertTrue(two.stderr.contains("all-reduce took"), two.stderr)
        try assertSameParameters(work.appendingPathComponent("one"), work.appendingPathComponent("two"), within: 1e-5)
        XCTAssertEqual(try metric("loss", in: work.appendingPathComponent("one")), try metric("loss", in: work.appendingPathComponent("two")),
                       accuracy: 1e-5)

        // A job of 2 ranks checkpointed at step 2 and resumed as one process ends where one process alone does.
        let switched = work.appendingPathComponent("switched")
        XCTAssertEqual(try runMPI(mpirun, ranks: 2, sft + ["3", "--save-every", "1", "--out", switched.path]).status, 0)
        let resumed = try runRLHF(sft + ["5", "--out", switched.path, "--resume", "--allow-config-change"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming at step 2"), resumed.stderr)
        try assertSameParameters(work.appendingPathComponent("one"), switched, within: 1e-5)
    }

    func testRewardTrainingAndDPOOverTwoRanksEndWithTheParametersOfOneProcess() throws {
        let mpirun = try openMPILauncher()
        let work = try temporaryDirectory()
        let (model, _) = try peerWorkload(in: work)
        let shared = ["--model", model.path, "--data", Fixture.pairs, "--eval-split", "0", "--steps", "5", "--batch-size", "8", "--lr", "1e-4",
                      "--no-tensorboard", "--out"]
        for command in [["reward", "train"], ["dpo"]] {
            let (one, two) = (work.appendingPathComponent(command[0] + "-one"), work.appendingPathComponent(command[0] + "-two"))
            let single = try runRLHF(command + shared + [one.path])
            XCTAssertEqual(single.status, 0, single.stderr)
            let parallel = try runMPI(mpirun, ranks: 2, command + shared + [two.path])
            XCTAssertEqual(parallel.status, 0, parallel.stderr)
            try assertSameParameters(one, two, within: 1e-4)
            XCTAssertEqual(try metric("loss", in: one), try metric("loss", in: two), accuracy: 1e-5, command[0])
        }
    }

    /// Each rank samples its half of the prompts with the seeds one process gives those rows, so both see the same
    /// rollouts; the iteration's updates then sum to one process's.
    func testAPPOIterationOverTwoRanksEndsWithTheParametersOfOneProcess() throws {
        let mpirun = try openMPILauncher()
        let work = try temporaryDirectory()
        let prompts = work.appendingPathComponent("prompts.jsonl")
        try Data((["Hello there", "What is up", "Tell me a story", "Say something kind"].map { "{\"prompt\": \"\($0)\"}" }
                  .joined(separator: "\n") + "\n").utf8).write(to: prompts)
        let ppo = ["ppo", "--policy", Fixture.gpt2, "--reward", Fixture.gpt2Reward, "--prompts", prompts.path, "--iterations", "2",
                   "--batch-size", "4", "--mini-batches", "2", "--max-new-tokens", "6", "--lr", "1e-4", "--no-tensorboard", "--out"]
        let (one, two) = (work.appendingPathComponent("one"), work.appendingPathComponent("two"))
        let single = try runRLHF(ppo + [one.path])
        XCTAssertEqual(single.status, 0, single.stderr)
        let parallel = try runMPI(mpirun, ranks: 2, ppo + [two.path])
        XCTAssertEqual(parallel.status, 0, parallel.stderr)
        try assertSameParameters(one, two, within: 1e-4)
        try assertSameParameters(one.appendingPathComponent("critic"), two.appendingPathComponent("critic"), within: 1e-4)
        for key in ["objective/scores", "objective/kl", "loss/policy_avg", "loss/value_avg", "val/clipfrac_avg"] {
            XCTAssertEqual(try metric(key, in: one), try metric(key, in: two), accuracy: 1e-4, key)
        }
    }

    func testARankKilledEndsTheJobOnEveryRankAndResumeContinuesIt() throws {
        let mpirun = try openMPILauncher()
        let work = try temporaryDirectory()
        let (model, demonstrations) = try peerWorkload(in: work)
        let sft = ["sft", "--model", model.path, "--data", demonstrations.path, "--packing", "--max-length", "128", "--eval-split", "0",
                   "--steps", "10", "--batch-size", "8", "--lr", "1e-4", "--save-every", "1", "--no-tensorboard", "--out"]
        let (straight, cut) = (work.appendingPathComponent("straight"), work.appendingPathComponent("cut"))
        let log = work.appendingPathComponent("killed.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let job = Process()
        job.executableURL = mpirun
        job.arguments = ["-np", "2", productsDirectory.appendingPathComponent("rlhf").path] + sft + [cut.path]
        job.environment = ProcessInfo.processInfo.environment.merging(Self.launcherEnvironment) { $1 }
        (job.standardOutput, job.standardError) = (FileHandle.nullDevice, try FileHandle(forWritingTo: log))
        try job.run()
        let deadline = Date().addingTimeInterval(120)
        while !exists(cut.appendingPathComponent("checkpoint-000002")), Date() < deadline { usleep(20_000) }
        let ranks = try rankProcesses(of: job.processIdentifier)
        XCTAssertEqual(ranks.count, 2, "both ranks are running")
        let killed = Date()
        kill(try XCTUnwrap(ranks[1]), SIGKILL)
        while job.isRunning, Date().timeIntervalSince(killed) < 30 { usleep(50_000) }
        XCTAssertFalse(job.isRunning, "the job ends within 30 s of losing a rank")
        if job.isRunning { job.terminate() }
        job.waitUntilExit()
        XCTAssertNotEqual(job.terminationStatus, 0)
        XCTAssertFalse(ranks.values.contains(where: isRunning), "no rank is left running")
        let stderr = try String(contentsOf: log, encoding: .utf8)
        XCTAssertTrue(stderr.contains("rank 0 of 2: stopped by the launcher"), stderr)

        let resumed = try runMPI(mpirun, ranks: 2, sft + [cut.path, "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming at step"), resumed.stderr)
        let whole = try runMPI(mpirun, ranks: 2, sft + [straight.path])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        XCTAssertEqual(try Data(contentsOf: cut.appendingPathComponent("model.safetensors")),
                       try Data(contentsOf: straight.appendingPathComponent("model.safetensors")), "the resumed job ends where an uninterrupted one does")
    }

    // MARK: Helpers

    /// Whether process `pid` is alive (a zombie, exited but not yet reaped, is not).
    private func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        return stat.split(separator: ")").last?.split(separator: " ").first != "Z"
    }

    /// The rlhf processes `mpirun` started, by rank (read from each one's OMPI_COMM_WORLD_RANK).
    private func rankProcesses(of launcher: Int32) throws -> [Int: Int32] {
        var ranks: [Int: Int32] = [:]
        for entry in try FileManager.default.contentsOfDirectory(atPath: "/proc") {
            guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let parent = stat.split(separator: ")").last?.split(separator: " ").dropFirst().first.flatMap({ Int32($0) }),
                  parent == launcher, let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { continue }
            for variable in environment.split(separator: 0) {
                let text = String(decoding: variable, as: UTF8.self)
                if text.hasPrefix("OMPI_COMM_WORLD_RANK="), let rank = Int(text.dropFirst("OMPI_COMM_WORLD_RANK=".count)) { ranks[rank] = pid }
            }
        }
        return ranks
    }

    /// Open MPI's launcher; `make test` installs it (Debian's openmpi-bin).
    private func openMPILauncher() throws -> URL {
        for path in ["/usr/bin/mpirun", "/usr/local/bin/mpirun", "/opt/homebrew/bin/mpirun"] where FileManager.default.isExecutableFile(atPath: path) {
            return URL(fileURLWithPath: path)
        }
        throw XCTSkip("Open MPI's mpirun is not installed (make test installs it)")
    }

    /// `mpirun -np ranks rlhf arguments` to its end.
    private func runMPI(_ mpirun: URL, ranks: Int, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = mpirun
        process.arguments = ["-np", "\(ranks)", productsDirectory.appendingPathComponent("rlhf").path] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(Self.launcherEnvironment) { $1 }
        let (out, err) = (Pipe(), Pipe())
        (process.standardOutput, process.standardError) = (out, err)
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    /// CI runs as root, which Open MPI refuses unless told.
    private static let launcherEnvironment = ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"]

    private func assertSameParameters(_ first: URL, _ second: URL, within tolerance: Float, file: StaticString = #filePath, line: UInt = #line) throws {
        let (a, b) = (try SafetensorsCheckpoint(directory: first), try SafetensorsCheckpoint(directory: second))
        XCTAssertEqual(a.names.sorted(), b.names.sorted(), file: file, line: line)
        var worst: (difference: Float, name: String) = (0, "")
        for name in a.names {
            let difference = zip(try a.tensor(name).scalars, try b.tensor(name).scalars).map { abs($0 - $1) }.max() ?? 0
            if difference > worst.difference { worst = (difference, name) }
        }
        XCTAssertLessThanOrEqual(worst.difference, tolerance, "largest difference in \(worst.name)", file: file, line: line)
    }

    private func metric(_ key: String, in run: URL) throws -> Double {
        let lines = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        let last = try JSONSerialization.jsonObject(with: Data(lines.last!.utf8)) as! [String: Any]
        return (last[key] as! NSNumber).doubleValue
    }
}
