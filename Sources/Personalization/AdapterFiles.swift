import Foundation
import Models
import NN

/// Users' adapter versions on disk: `<root>/user-<id>/v<n>/` in PEFT's layout. A version is written into a
/// `.partial-…` directory, flushed, and renamed into place: a killed process leaves the old version or the new one
/// complete, never a torn file (the store records a version only after its rename).
struct AdapterFiles: Sendable {
    let root: URL

    init(root: URL) throws {
        self.root = root
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    func userDirectory(_ user: Int64) -> URL { root.appendingPathComponent("user-\(user)") }

    func directory(user: Int64, version: Int) -> URL { userDirectory(user).appendingPathComponent("v\(version)") }

    /// Writes `adapters` as the user's `version`. A directory of that version left by a process killed before the
    /// store recorded it is replaced.
    func write(_ adapters: LoRAAdapters, user: Int64, version: Int) throws {
        let files = FileManager.default
        let partial = userDirectory(user).appendingPathComponent(".partial-v\(version)-\(UUID().uuidString)")
        try PEFTAdapter.save(adapters, to: partial)
        for name in try files.contentsOfDirectory(atPath: partial.path) {
            try Self.flush(partial.appendingPathComponent(name))
        }
        let final = directory(user: user, version: version)
        if files.fileExists(atPath: final.path) { try files.removeItem(at: final) }
        try files.moveItem(at: partial, to: final)
        try Self.flush(userDirectory(user))
    }

    /// Removes what killed writers left behind (`.partial-…` directories).
    func removePartialWrites() {
        let files = FileManager.default
        for user in (try? files.contentsOfDirectory(atPath: root.path)) ?? [] {
            let directory = root.appendingPathComponent(user)
            for name in (try? files.contentsOfDirectory(atPath: directory.path)) ?? [] where name.hasPrefix(".partial-") {
                try? files.removeItem(at: directory.appendingPathComponent(name))
            }
        }
    }

    func removeUser(_ user: Int64) throws {
        let directory = userDirectory(user)
        if FileManager.default.fileExists(atPath: directory.path) { try FileManager.default.removeItem(at: directory) }
    }

    /// Every version's files, base64-encoded, by version ("v1") and file name.
    func export(user: Int64) throws -> [String: [String: String]] {
        let files = FileManager.default
        let directory = userDirectory(user)
        var exported: [String: [String: String]] = [:]
        for version in (try? files.contentsOfDirectory(atPath: directory.path)) ?? [] where version.hasPrefix("v") {
            let folder = directory.appendingPathComponent(version)
            for name in try files.contentsOfDirectory(atPath: folder.path) {
                exported[version, default: [:]][name] = try Data(contentsOf: folder.appendingPathComponent(name)).base64EncodedString()
            }
        }
        return exported
    }

    /// fsync of a file or directory: the rename must not reach the disk before the data does.
    private static func flush(_ url: URL) throws {
        let descriptor = open(url.path, O_RDONLY)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        fsync(descriptor)
    }
}
