import Foundation

/// Models by Hub id: the Hugging Face cache first, the Hub for what it lacks.
public struct HubStore: Sendable {
    public let settings: HubSettings
    public var cache: HubCache { HubCache(root: settings.cache) }
    /// Told about every file as its bytes arrive.
    public var progress: (@Sendable (HubTransfer) -> Void)?

    /// The files a model directory is made of; pickled weights (`.bin`, `.pt`) are never fetched.
    public static let modelPatterns = ["*.json", "*.safetensors", "*.jinja"]

    public init(settings: HubSettings = .fromEnvironment(), progress: (@Sendable (HubTransfer) -> Void)? = nil) {
        (self.settings, self.progress) = (settings, progress)
    }

    /// The snapshot directory of `id` holding a whole model: straight from the cache when it is there (no network),
    /// else downloaded into it, unless offline.
    public func model(_ id: HubModelID) throws -> URL {
        if let commit = cache.commit(for: id) {
            let snapshot = cache.snapshot(id, commit: commit)
            let missing = ModelSnapshot.missingFiles(in: snapshot)
            if missing.isEmpty { return snapshot }
            if settings.offline {
                throw HubError.offline("HF_HUB_OFFLINE is set and \(snapshot.path) lacks \(missing.joined(separator: ", "))")
            }
        } else if settings.offline {
            throw HubError.offline("HF_HUB_OFFLINE is set and the cache \(settings.cache.path) holds no \(id): "
                                   + "config.json, tokenizer.json and the weights are missing")
        }
        let snapshot = try download(id, include: Self.modelPatterns, verifyingCached: false)
        let missing = ModelSnapshot.missingFiles(in: snapshot)
        guard missing.isEmpty else {
            throw HubError.incomplete("\(id) lacks \(missing.joined(separator: ", ")) (RLHFKit reads safetensors weights and "
                                      + "tokenizer.json; it never loads pickled .bin weights)")
        }
        return snapshot
    }

    /// Fetches the files of `id` matching `include` (shell patterns, `*` not crossing `/`) into the cache and returns
    /// the snapshot directory. With `verifyingCached`, blobs already there are checked against their checksums and
    /// fetched again if they do not match.
    @discardableResult
    public func download(_ id: HubModelID, include: [String] = modelPatterns, verifyingCached: Bool = true) throws -> URL {
        guard !settings.offline else { throw HubError.offline("HF_HUB_OFFLINE is set: \(id) cannot be downloaded") }
        let client = HubClient(settings: settings)
        let (commit, files) = try client.modelInfo(id)
        let wanted = files.filter { file in include.contains { fnmatch($0, file, FNM_PATHNAME) == 0 } }
        guard !wanted.isEmpty else {
            throw HubError.notFound("\(id) has no files matching \(include.joined(separator: " ")) (it has \(files.count) files)")
        }
        for file in wanted {
            let metadata = try client.metadata(id, commit: commit, file: file)
            try BlobTransfer(id: id, file: file, metadata: metadata, cache: cache, client: client, progress: progress)
                .run(verifyingCached: verifyingCached)
            try cache.link(id, commit: commit, file: file, etag: metadata.etag)
        }
        try cache.setCommit(commit, for: id)
        return cache.snapshot(id, commit: commit)
    }
}

/// Progress of one file's download.
public struct HubTransfer: Sendable {
    /// `owner/name`.
    public let model: String
    public let file: String
    public let bytes: Int
    public let total: Int?
    /// The file is whole and verified.
    public let finished: Bool
    /// It was already in the cache: nothing was fetched.
    public let cached: Bool
}

/// What makes a directory a model RLHFKit can load: its config, its tokenizer and all of its weights (or an adapter).
public enum ModelSnapshot {
    public static func missingFiles(in directory: URL) -> [String] {
        let has = { (name: String) in FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path) }
        if has("adapter_config.json") { return has("adapter_model.safetensors") ? [] : ["adapter_model.safetensors"] }
        var missing = ["config.json", "tokenizer.json"].filter { !has($0) }
        let index = directory.appendingPathComponent("model.safetensors.index.json")
        if let data = try? Data(contentsOf: index),
           let weightMap = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["weight_map"] as? [String: String] {
            missing += Set(weightMap.values).sorted().filter { !has($0) }
        } else if !has("model.safetensors") {
            missing.append("model.safetensors")
        }
        return missing
    }
}
