import Foundation

/// The Hugging Face cache, in huggingface_hub's layout, so that what one tool downloads the other finds:
///
///     models--owner--name/refs/main                   the commit `main` pointed to when last fetched
///     models--owner--name/blobs/ETAG                  each file's bytes, named by its ETag (sha256, or git's sha1)
///     models--owner--name/snapshots/COMMIT/FILE       a relative symbolic link to ../../blobs/ETAG
///     .locks/models--owner--name/ETAG.lock            held while a blob is written
public struct HubCache: Sendable {
    public let root: URL

    public init(root: URL) { self.root = root }

    func folder(_ id: HubModelID) -> URL { root.appendingPathComponent(id.folderName) }
    func blob(_ id: HubModelID, etag: String) -> URL { folder(id).appendingPathComponent("blobs/\(etag)") }
    func lock(_ id: HubModelID, etag: String) -> URL { root.appendingPathComponent(".locks/\(id.folderName)/\(etag).lock") }
    public func snapshot(_ id: HubModelID, commit: String) -> URL {
        folder(id).appendingPathComponent("snapshots/\(commit)", isDirectory: true)
    }
    private func ref(_ id: HubModelID) -> URL { folder(id).appendingPathComponent("refs/\(id.revision)") }

    /// The commit the cache holds for `id`'s revision: the revision itself when it is a commit with a snapshot,
    /// else what its ref names.
    public func commit(for id: HubModelID) -> String? {
        if id.revisionIsCommit { return exists(snapshot(id, commit: id.revision)) ? id.revision : nil }
        return commitNamed(by: ref(id))
    }

    /// The commit a ref file names; nil for anything but a commit hash (a hand-edited or half-written ref).
    func commitNamed(by ref: URL) -> String? {
        (try? String(contentsOf: ref, encoding: .utf8)).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap {
            HubModelID.isCommit($0) ? $0 : nil
        }
    }

    /// Records that `id`'s revision (a branch or tag) points to `commit`.
    func setCommit(_ commit: String, for id: HubModelID) throws {
        guard !id.revisionIsCommit, self.commit(for: id) != commit else { return }
        try writeAtomically(Data(commit.utf8), to: ref(id))
    }

    /// Makes `snapshots/COMMIT/file` point at the blob `etag` (replacing any older link in one step).
    func link(_ id: HubModelID, commit: String, file: String, etag: String) throws {
        let pointer = snapshot(id, commit: commit).appendingPathComponent(file)
        let depth = file.split(separator: "/").count - 1
        let target = String(repeating: "../", count: depth + 2) + "blobs/\(etag)"
        if (try? FileManager.default.destinationOfSymbolicLink(atPath: pointer.path)) == target { return }
        try FileManager.default.createDirectory(at: pointer.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = pointer.deletingLastPathComponent().appendingPathComponent(".\(pointer.lastPathComponent).\(UUID().uuidString)")
        try FileManager.default.createSymbolicLink(atPath: temporary.path, withDestinationPath: target)
        try replace(pointer, with: temporary)
    }

    func writeAtomically(_ data: Data, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString)")
        try data.write(to: temporary)
        try replace(url, with: temporary)
    }

    private func replace(_ url: URL, with temporary: URL) throws {
        guard rename(temporary.path, url.path) == 0 else {
            let code = errno
            try? FileManager.default.removeItem(at: temporary)
            throw HubError.cache("\(url.path): cannot write (\(String(cString: strerror(code))))")
        }
    }

    func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }
}
