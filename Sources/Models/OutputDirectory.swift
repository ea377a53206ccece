import Foundation

/// An output directory held by one job for as long as this value lives: every command that writes a model claims
/// its `--out` first, so no job writes over the model it reads, over another model unasked, or beside another job.
public final class OutputDirectory {
    public let url: URL
    private let descriptor: Int32
    /// A directory this claim made is removed again if the job wrote nothing into it (it failed on its input).
    private let created: Bool

    /// Files whose presence makes a directory a model (or adapter) directory.
    static let modelFiles = ["config.json", "model.safetensors", "model.safetensors.index.json", "adapter_config.json", "tokenizer.json"]
    /// What a run leaves besides the model; `--overwrite` removes it so a fresh run does not mix with the old one.
    static let runFiles = ["metrics.jsonl", "samples.jsonl", "run_config.json", "trainer_state.json", "runs", "adapter"]

    /// Claims `url`, creating it. Refuses when it is one of `inputs` (always), when it already holds a model or a
    /// run and the job neither continues it (`continuing`) nor may replace it (`overwrite`), and when another job
    /// holds it. With `overwrite`, the old run's checkpoints and logs are removed first (the model files are
    /// written over).
    public init(_ url: URL, inputs: [URL], overwrite: Bool = false, continuing: Bool = false) throws {
        let path = url.standardizedFileURL.resolvingSymlinksInPath().path
        for input in inputs where input.standardizedFileURL.resolvingSymlinksInPath().path == path {
            throw ModelError.output("--out \(url.path) is the input model \(input.path): write the result to another directory")
        }
        let names = Self.contents(url)
        let holdsModel = Self.holdsModel(url)
        let holdsRun = names.contains { $0.hasPrefix("checkpoint-") || $0 == "metrics.jsonl" }
        if holdsModel || holdsRun, !continuing, !overwrite {
            throw ModelError.output("\(url.path) already holds a \(holdsModel ? "model" : "training run"): "
                                    + "pass --overwrite to replace it, or choose another output directory")
        }
        created = !FileManager.default.fileExists(atPath: url.path)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        descriptor = open(url.path, O_RDONLY)
        guard descriptor >= 0 else { throw ModelError.output("\(url.path): cannot open the output directory (errno \(errno))") }
        // An advisory lock the kernel drops when the process ends, however it ends: a killed run leaves no stale lock.
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw ModelError.output("\(url.path) is in use by another job writing to it: wait for it, or choose another output directory")
        }
        self.url = url
        if overwrite, !continuing {
            for name in names where name.hasPrefix("checkpoint-") || Self.runFiles.contains(name) {
                try FileManager.default.removeItem(at: url.appendingPathComponent(name))
            }
        }
    }

    deinit {
        if created, Self.contents(url).isEmpty { try? FileManager.default.removeItem(at: url) }
        close(descriptor)
    }

    /// Whether `url` holds a model or adapter (a finished run's output, or any Hugging Face model directory).
    public static func holdsModel(_ url: URL) -> Bool { contents(url).contains { modelFiles.contains($0) } }

    private static func contents(_ url: URL) -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? [] }
}
