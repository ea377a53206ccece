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
    /// What `--overwrite` clears before a fresh job, so the new model does not mix with the old one's files.
    static func isReplaced(_ name: String) -> Bool {
        name.hasPrefix("checkpoint-") || name.hasPrefix("model") && name.hasSuffix(".safetensors") || name.hasPrefix("tokenizer")
            || ["metrics.jsonl", "samples.jsonl", "run_config.json", "trainer_state.json", "runs", "adapter", "critic", "config.json",
                "generation_config.json", "model.safetensors.index.json", "special_tokens_map.json", "chat_template.jinja",
                "adapter_config.json", "adapter_model.safetensors"].contains(name)
    }

    /// Claims `url`, creating it. Refuses when another job holds it, when it is one of `inputs` (always; with
    /// `overwrite`, also when an input lies inside it), and when it already holds a model or a run that the job
    /// neither continues (`continuing`) nor may replace (`overwrite`, which clears the old model's and run's files).
    public init(_ url: URL, inputs: [URL], overwrite: Bool = false, continuing: Bool = false) throws {
        let path = Self.canonical(url)
        for input in inputs {
            let inputPath = Self.canonical(input)
            if inputPath == path || overwrite && inputPath.hasPrefix(path + "/") {
                throw ModelError.output("--out \(url.path) \(inputPath == path ? "is" : "holds") the input \(input.path): "
                                        + "write the result to another directory")
            }
        }
        created = !FileManager.default.fileExists(atPath: url.path)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        descriptor = open(url.path, O_RDONLY | O_CLOEXEC)
        self.url = url
        guard descriptor >= 0 else { throw ModelError.output("\(url.path): cannot open the output directory (errno \(errno))") }
        // An advisory lock the kernel drops when the process ends, however it ends: a killed job leaves no stale lock.
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            throw ModelError.output("\(url.path) is in use by another job writing to it: wait for it, or choose another output directory")
        }
        let names = Self.contents(url)
        let holdsModel = names.contains { Self.modelFiles.contains($0) }
        let holdsRun = names.contains { $0.hasPrefix("checkpoint-") || $0 == "metrics.jsonl" }
        guard holdsModel || holdsRun, !continuing else { return }
        guard overwrite else {
            throw ModelError.output("\(url.path) already holds a \(holdsModel ? "model" : "training run"): "
                                    + "pass --overwrite to replace it, or choose another output directory")
        }
        for name in names where Self.isReplaced(name) { try FileManager.default.removeItem(at: url.appendingPathComponent(name)) }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
        if created { rmdir(url.path) }  // only succeeds while it is empty
    }

    /// Whether `url` holds a model or adapter (a finished run's output, or any Hugging Face model directory).
    public static func holdsModel(_ url: URL) -> Bool { contents(url).contains { modelFiles.contains($0) } }

    private static func contents(_ url: URL) -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? [] }

    private static func canonical(_ url: URL) -> String { url.standardizedFileURL.resolvingSymlinksInPath().path }
}
