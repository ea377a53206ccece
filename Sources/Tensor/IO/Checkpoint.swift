import Foundation

/// The weights of a Hugging Face model directory: one `model.safetensors`, or shards listed in
/// `model.safetensors.index.json`. Like transformers, the single file wins when both are present.
/// Opening validates every file and that each shard holds the tensors the index maps to it.
public struct SafetensorsCheckpoint: Sendable {
    public static let singleFileName = "model.safetensors"
    public static let indexFileName = "model.safetensors.index.json"

    public let directory: URL
    /// Every tensor of the checkpoint, sorted by name.
    public let names: [String]
    private let fileForName: [String: SafetensorsFile]

    public init(directory: URL) throws {
        let single = directory.appendingPathComponent(Self.singleFileName)
        let index = directory.appendingPathComponent(Self.indexFileName)
        if FileManager.default.fileExists(atPath: single.path) {
            let file = try SafetensorsFile(contentsOf: single)
            fileForName = Dictionary(uniqueKeysWithValues: file.names.map { ($0, file) })
        } else if FileManager.default.fileExists(atPath: index.path) {
            fileForName = try Self.openShards(listedIn: index)
        } else {
            throw TensorError.io(path: directory.path, "no \(Self.singleFileName) or \(Self.indexFileName)")
        }
        self.directory = directory
        names = fileForName.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    public func tensor(_ name: String) throws -> Tensor { try file(holding: name).tensor(name) }
    public func dtype(of name: String) throws -> DType { try file(holding: name).dtype(of: name) }
    public func shape(of name: String) throws -> [Int] { try file(holding: name).shape(of: name) }

    private func file(holding name: String) throws -> SafetensorsFile {
        guard let file = fileForName[name] else {
            throw TensorError.io(path: directory.path, "no tensor named '\(name)' in the checkpoint")
        }
        return file
    }

    private struct Index: Decodable {
        let weightMap: [String: String]
        enum CodingKeys: String, CodingKey { case weightMap = "weight_map" }
    }

    private static func openShards(listedIn indexURL: URL) throws -> [String: SafetensorsFile] {
        let path = indexURL.path
        let index: Index
        do {
            index = try JSONDecoder().decode(Index.self, from: Data(contentsOf: indexURL))
        } catch {
            throw TensorError.io(path: path, "not a safetensors index ({\"weight_map\": {name: shard file}}): \(error)")
        }
        var shards: [String: SafetensorsFile] = [:]
        var fileForName: [String: SafetensorsFile] = [:]
        for (name, shardName) in index.weightMap {
            // Shards are siblings of the index; a path would let an index reach outside the model directory.
            guard !shardName.contains("/"), shardName != ".", shardName != ".." else {
                throw TensorError.io(path: path, "tensor '\(name)' maps to '\(shardName)', which is not a file name")
            }
            let shard: SafetensorsFile
            if let opened = shards[shardName] {
                shard = opened
            } else {
                let url = indexURL.deletingLastPathComponent().appendingPathComponent(shardName)
                guard FileManager.default.fileExists(atPath: url.path) else {
                    throw TensorError.io(path: path, "tensor '\(name)' maps to missing shard '\(shardName)'")
                }
                shard = try SafetensorsFile(contentsOf: url)
                shards[shardName] = shard
            }
            guard shard.contains(name) else {
                throw TensorError.io(path: path, "tensor '\(name)' maps to shard '\(shardName)', which does not contain it")
            }
            fileForName[name] = shard
        }
        return fileForName
    }
}

extension Safetensors {
    /// Writes `tensors` into `directory` as transformers' `save_pretrained` does (with huggingface_hub's
    /// `split_torch_state_dict_into_shards`), byte for byte:
    /// - tensors are taken in the given order; one larger than `maxShardBytes` gets a shard of its own,
    ///   otherwise a shard is closed when the next tensor would push it past `maxShardBytes`;
    /// - one shard is written as `model.safetensors` with no index; several as
    ///   `model-00001-of-0000N.safetensors` plus `model.safetensors.index.json`, which is
    ///   `json.dumps(index, indent=2, sort_keys=True) + "\n"` of
    ///   `{"metadata": {"total_parameters": P, "total_size": BYTES}, "weight_map": {name: shard}}`.
    /// Shards are written before the index, and files left over from an earlier save with another
    /// layout are removed afterwards, so the directory never points at stale weights.
    public static func writeSharded(_ tensors: [(name: String, tensor: Tensor)], dtype: DType = .float32,
                                    maxShardBytes: Int, metadata: [String: String] = ["format": "pt"],
                                    to directory: URL) throws {
        guard maxShardBytes > 0 else {
            throw TensorError.invalidArgument(op: "Safetensors.writeSharded", "maxShardBytes must be positive")
        }
        _ = try layout(tensors, path: directory.path)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)

        let shards = splitIntoShards(tensors, maxBytes: maxShardBytes, elementSize: dtype.elementSize)
        let index = directory.appendingPathComponent(SafetensorsCheckpoint.indexFileName)
        guard shards.count > 1 else {
            try write(shards.first ?? [], dtype: dtype, metadata: metadata,
                      to: directory.appendingPathComponent(SafetensorsCheckpoint.singleFileName))
            try removeStaleFiles(in: directory, keeping: [SafetensorsCheckpoint.singleFileName])
            return
        }

        var shardNames: [String] = []
        var weightMap: [(name: String, shard: String)] = []
        for (position, shard) in shards.enumerated() {
            let shardName = "model-\(fiveDigits(position + 1))-of-\(fiveDigits(shards.count)).safetensors"
            try write(shard, dtype: dtype, metadata: metadata, to: directory.appendingPathComponent(shardName))
            shardNames.append(shardName)
            weightMap += shard.map { ($0.name, shardName) }
        }
        let totalParameters = tensors.reduce(0) { $0 + $1.tensor.count }
        let indexText = indexJSON(totalParameters: totalParameters, totalSize: totalParameters * dtype.elementSize,
                                  weightMap: weightMap)
        try AtomicFile.write(to: index) { try $0.write(contentsOf: Data(indexText.utf8)) }
        try removeStaleFiles(in: directory, keeping: Set(shardNames + [SafetensorsCheckpoint.indexFileName]))
    }

    /// huggingface_hub's `split_state_dict_into_shards_factory`, including its order: an oversized
    /// tensor's own shard comes before the shard that was still being filled.
    static func splitIntoShards(_ tensors: [(name: String, tensor: Tensor)], maxBytes: Int,
                                elementSize: Int) -> [[(name: String, tensor: Tensor)]] {
        var shards: [[(name: String, tensor: Tensor)]] = []
        var current: [(name: String, tensor: Tensor)] = []
        var currentBytes = 0
        for item in tensors {
            let bytes = item.tensor.count * elementSize
            if bytes > maxBytes {
                shards.append([item])
                continue
            }
            if currentBytes + bytes > maxBytes {
                shards.append(current)
                current = []
                currentBytes = 0
            }
            current.append(item)
            currentBytes += bytes
        }
        if !current.isEmpty { shards.append(current) }
        return shards
    }

    /// Python's `json.dumps(index, indent=2, sort_keys=True) + "\n"` for a checkpoint index.
    static func indexJSON(totalParameters: Int, totalSize: Int, weightMap: [(name: String, shard: String)]) -> String {
        let entries = weightMap.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
            .map { "    \(Safetensors.jsonString(escapingNonASCII: true, $0.name)): \(Safetensors.jsonString(escapingNonASCII: true, $0.shard))" }
        return """
            {
              "metadata": {
                "total_parameters": \(totalParameters),
                "total_size": \(totalSize)
              },
              "weight_map": {
            \(entries.joined(separator: ",\n"))
              }
            }

            """
    }

    private static func fiveDigits(_ number: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }

    /// Removes weight files of an earlier save (single file, shards, index) that `keeping` does not name.
    private static func removeStaleFiles(in directory: URL, keeping: Set<String>) throws {
        let shardPattern = /model-\d{5}-of-\d{5}\.safetensors/
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where !keeping.contains(name) {
            let isWeightFile = name == SafetensorsCheckpoint.singleFileName || name == SafetensorsCheckpoint.indexFileName
                || name.wholeMatch(of: shardPattern) != nil
            if isWeightFile { try FileManager.default.removeItem(at: directory.appendingPathComponent(name)) }
        }
    }
}
