import Foundation

/// Models by Hub id: the Hugging Face cache first, the Hub for what it lacks.
public struct HubStore: Sendable {
    public let settings: HubSettings
    public var cache: HubCache { HubCache(root: settings.cache) }
    /// Told about every file as its bytes arrive.
    public var progress: (@Sendable (HubTransfer) -> Void)?

    /// The files besides the weights that a model directory is made of (config, tokenizer, chat template, the
    /// weights' index, an older byte-level BPE's vocab.json and merges.txt); the weights are those the index names,
    /// or the single safetensors file. Pickled weights (`.bin`, `.pt`) are never fetched.
    public static let modelPatterns = ["*.json", "*.jinja", "merges.txt"]

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
        let snapshot = try download(id, verifyingCached: false)
        let missing = ModelSnapshot.missingFiles(in: snapshot)
        guard missing.isEmpty else {
            throw HubError.incomplete("\(id) lacks \(missing.joined(separator: ", ")) (RLHFKit reads safetensors weights and "
                                      + "tokenizer.json; it never loads pickled .bin weights)")
        }
        return snapshot
    }

    /// Fetches `id` into the cache and returns the snapshot directory: the files a model directory needs, or with
    /// `include` those matching its shell patterns (`*` not crossing `/`). With `verifyingCached`, blobs already
    /// there are checked against their checksums and fetched again if they do not match.
    @discardableResult
    public func download(_ id: HubModelID, include: [String]? = nil, verifyingCached: Bool = true) throws -> URL {
        guard !settings.offline else { throw HubError.offline("HF_HUB_OFFLINE is set: \(id) cannot be downloaded") }
        let client = HubClient(settings: settings)
        let (commit, files) = try client.modelInfo(id)
        let snapshot = cache.snapshot(id, commit: commit)
        let matching = { (patterns: [String]) in files.filter { file in patterns.contains { fnmatch($0, file, FNM_PATHNAME) == 0 } } }
        let fetch = { (names: [String]) in
            for file in names {
                guard ModelSnapshot.isSafeName(file) else { throw HubError.network("\(id): the Hub lists a file named \"\(file)\", which is no path inside a model") }
                let metadata = try client.metadata(id, commit: commit, file: file)
                guard metadata.commit == commit else {
                    throw HubError.network("\(id) \(file): the Hub answered for commit \(metadata.commit), not \(commit)")
                }
                try BlobTransfer(id: id, file: file, metadata: metadata, cache: cache, client: client, progress: progress)
                    .run(verifyingCached: verifyingCached)
                try cache.link(id, commit: commit, file: file, etag: metadata.etag)
            }
        }
        if let include {
            let wanted = matching(include)
            guard !wanted.isEmpty else {
                throw HubError.notFound("\(id) has no files matching \(include.joined(separator: " ")) (it has \(files.count) files)")
            }
            try fetch(wanted)
        } else {
            // The index first, so that a repository holding the weights twice (e.g. consolidated.safetensors) costs one copy.
            try fetch(matching(Self.modelPatterns))
            try fetch(ModelSnapshot.weightFiles(in: snapshot, listed: files))
        }
        try cache.setCommit(commit, for: id)
        return snapshot
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
    /// The weight files to fetch for a model whose other files are in `directory`: the shards its index names, else
    /// `model.safetensors` or an adapter's weights, else every safetensors file at the top of `listed`.
    static func weightFiles(in directory: URL, listed: [String]) -> [String] {
        if let shards = indexedShards(in: directory) { return shards }
        for single in ["model.safetensors", "adapter_model.safetensors"] where listed.contains(single) { return [single] }
        return listed.filter { $0.hasSuffix(".safetensors") && !$0.contains("/") }
    }

    private static func indexedShards(in directory: URL) -> [String]? {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("model.safetensors.index.json")),
              let weightMap = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["weight_map"] as? [String: String] else { return nil }
        return Set(weightMap.values).sorted()
    }

    /// A file name from the Hub that stays inside the snapshot directory.
    static func isSafeName(_ name: String) -> Bool {
        !name.hasPrefix("/") && !name.contains("\\") && !name.contains("\0")
            && name.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { !["", ".", ".."].contains($0) }
    }

    public static func missingFiles(in directory: URL) -> [String] {
        let has = { (name: String) in FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path) }
        if has("adapter_config.json") { return has("adapter_model.safetensors") ? [] : ["adapter_model.safetensors"] }
        var missing = ["config.json"].filter { !has($0) }
        if !has("tokenizer.json"), !(has("vocab.json") && has("merges.txt")) { missing.append("tokenizer.json") }
        if let shards = indexedShards(in: directory) {
            missing += shards.filter { !has($0) }
        } else if !has("model.safetensors") {
            missing.append("model.safetensors")
        }
        return missing
    }
}
