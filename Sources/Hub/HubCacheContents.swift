import Foundation

/// One model in the cache, as `rlhf cache list` shows it.
public struct HubCacheEntry: Codable, Sendable, Equatable {
    /// `owner/name` (or a bare name, for the Hub's oldest models).
    public let id: String
    /// Branch and tag names → the commit each points to.
    public let refs: [String: String]
    /// The commits with a snapshot.
    public let snapshots: [String]
    /// Bytes of all blobs, whole or partly downloaded.
    public let bytes: Int
    /// Bytes in partly downloaded blobs (`.incomplete`).
    public let incompleteBytes: Int
}

extension HubCache {
    /// The models the cache holds, by id.
    public func entries() throws -> [HubCacheEntry] {
        try names(root).filter { $0.hasPrefix("models--") }.sorted().map { folderName in
            let folder = root.appendingPathComponent(folderName)
            let refsFolder = folder.appendingPathComponent("refs")
            let refs = Dictionary(uniqueKeysWithValues: files(under: refsFolder).compactMap { name in
                commitNamed(by: refsFolder.appendingPathComponent(name)).map { (name, $0) }
            })
            var (bytes, incomplete) = (0, 0)
            for blob in try names(folder.appendingPathComponent("blobs")) {
                let size = fileSize(folder.appendingPathComponent("blobs/\(blob)"))
                bytes += size
                if blob.hasSuffix(".incomplete") { incomplete += size }
            }
            return HubCacheEntry(id: folderName.dropFirst("models--".count).replacingOccurrences(of: "--", with: "/"), refs: refs,
                                 snapshots: try names(folder.appendingPathComponent("snapshots")).sorted(), bytes: bytes, incompleteBytes: incomplete)
        }
    }

    /// Removes `id` from the cache: all of it, or with a commit-or-ref revision only that snapshot, the refs naming
    /// it and the blobs no other snapshot uses. Returns the bytes freed.
    @discardableResult
    public func remove(_ id: HubModelID, revisionOnly: Bool) throws -> Int {
        let folder = self.folder(id)
        guard exists(folder) else { throw HubError.notFound("the cache \(root.path) holds no \(id.repository)") }
        guard !isBeingDownloaded(id) else {
            throw HubError.cache("\(id.repository) is being downloaded by another process: remove it when that is done")
        }
        let before = try entries().first { $0.id == id.repository }?.bytes ?? 0
        guard revisionOnly else {
            try FileManager.default.removeItem(at: folder)
            return before
        }
        guard let commit = commit(for: id) else { throw HubError.notFound("the cache holds no revision \(id.revision) of \(id.repository)") }
        try FileManager.default.removeItem(at: snapshot(id, commit: commit))
        let refsFolder = folder.appendingPathComponent("refs")
        for name in files(under: refsFolder) where commitNamed(by: refsFolder.appendingPathComponent(name)) == commit {
            try FileManager.default.removeItem(at: refsFolder.appendingPathComponent(name))
        }
        let used = Set(files(under: folder.appendingPathComponent("snapshots")).compactMap { path in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: folder.appendingPathComponent("snapshots/\(path)").path))?
                .split(separator: "/").last.map(String.init)
        })
        for blob in try names(folder.appendingPathComponent("blobs")) where !used.contains(blob) && !blob.hasSuffix(".incomplete") {
            try FileManager.default.removeItem(at: folder.appendingPathComponent("blobs/\(blob)"))
        }
        return before - (try entries().first { $0.id == id.repository }?.bytes ?? 0)
    }

    /// Whether another process holds one of the model's blob locks (the lock files stay: others may hold them).
    private func isBeingDownloaded(_ id: HubModelID) -> Bool {
        let locks = root.appendingPathComponent(".locks/\(id.folderName)")
        return ((try? names(locks)) ?? []).contains { name in
            (try? FileLock(locks.appendingPathComponent(name), wait: false)) == nil
        }
    }

    private func names(_ directory: URL) throws -> [String] {
        guard exists(directory) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: directory.path)
    }

    /// Paths of the files (and links) under `directory`, relative to it (refs and snapshots may nest).
    private func files(under directory: URL) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory.path) else { return [] }
        return enumerator.compactMap { $0 as? String }.filter { path in
            var isDirectory: ObjCBool = false
            let full = directory.appendingPathComponent(path).path
            return (try? FileManager.default.destinationOfSymbolicLink(atPath: full)) != nil
                || FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
    }

    private func fileSize(_ url: URL) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber)?.intValue ?? 0
    }
}
