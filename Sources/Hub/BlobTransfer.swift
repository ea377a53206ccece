import Foundation

/// Brings one blob into the cache: under the blob's lock (so two processes never write it at once), into
/// `blobs/ETAG.incomplete`, resumed with `Range` after a dropped connection or an earlier killed run, checked
/// against the ETag's checksum, then renamed into place.
struct BlobTransfer {
    let id: HubModelID
    let file: String
    let metadata: HubClient.FileMetadata
    let cache: HubCache
    let client: HubClient
    let progress: (@Sendable (HubTransfer) -> Void)?

    /// Dropped connections and transient answers (408, 429, 5xx) survived per attempt, waiting 0.5, 1, 2, 4, 8 s;
    /// each retry resumes where the last one stopped.
    static let networkRetries = 5
    /// Whole downloads tried before a checksum mismatch is an error.
    static let checksumAttempts = 2

    func run(verifyingCached: Bool) throws {
        let blob = cache.blob(id, etag: metadata.etag)
        if cache.exists(blob), !verifyingCached { return report(bytes: metadata.size ?? 0, finished: true, cached: true) }
        let lock = try FileLock(cache.lock(id, etag: metadata.etag)) {
            FileHandle.standardError.write(Data("\(id.repository) \(file): waiting for another process downloading it\n".utf8))
        }
        defer { lock.release() }
        if cache.exists(blob) {
            if try !verifyingCached || Checksum.matches(blob, etag: metadata.etag, size: metadata.size) {
                return report(bytes: metadata.size ?? 0, finished: true, cached: true)
            }
            FileHandle.standardError.write(Data("\(id) \(file): the cached blob does not match its checksum; fetching it again\n".utf8))
            try FileManager.default.removeItem(at: blob)
        }
        let partial = blob.appendingPathExtension("incomplete")
        for attempt in 1...Self.checksumAttempts {
            try fetch(into: partial)
            if try Checksum.matches(partial, etag: metadata.etag, size: metadata.size) { break }
            try FileManager.default.removeItem(at: partial)
            guard attempt < Self.checksumAttempts else {
                throw HubError.checksum("\(id) \(file): the bytes downloaded twice do not match the Hub's checksum \(metadata.etag)")
            }
        }
        guard rename(partial.path, blob.path) == 0 else { throw HubError.cache("\(blob.path): cannot write (\(String(cString: strerror(errno))))") }
        report(bytes: metadata.size ?? 0, finished: true)
    }

    /// Appends the rest of the file to `partial`, resuming after dropped connections.
    private func fetch(into partial: URL) throws {
        if !cache.exists(partial) {
            try FileManager.default.createDirectory(at: partial.deletingLastPathComponent(), withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: partial.path, contents: nil) else {
                throw HubError.cache("\(partial.path): cannot create the file")
            }
        }
        let handle = try FileHandle(forWritingTo: partial)
        defer { try? handle.close() }
        var retries = 0
        while true {
            var written = Int(try handle.seekToEnd())
            if let size = metadata.size, written >= size { return }
            do {
                try client.fetch(metadata.location, from: written, sink: { chunk in
                    try handle.write(contentsOf: chunk)
                    written += chunk.count
                    report(bytes: written, finished: false)
                }, restart: {
                    try handle.truncate(atOffset: 0)
                    written = 0
                })
                guard let size = metadata.size, written < size else { return }
                try retry(&retries, after: "the connection closed at byte \(written) of \(size)")
            } catch let error as URLError {
                try retry(&retries, after: error.localizedDescription)
            } catch let failure as HubClient.TransientFailure {
                try retry(&retries, after: "\(failure.url) answered \(failure.status)")
            }
        }
    }

    private func retry(_ retries: inout Int, after failure: String) throws {
        retries += 1
        guard retries <= Self.networkRetries else {
            throw HubError.network("\(id) \(file): the download failed \(retries) times (\(failure)); run the command again to resume it")
        }
        Thread.sleep(forTimeInterval: min(0.5 * Double(1 << (retries - 1)), 8))
    }

    private func report(bytes: Int, finished: Bool, cached: Bool = false) {
        progress?(HubTransfer(model: id.repository, file: file, bytes: bytes, total: metadata.size, finished: finished, cached: cached))
    }
}

/// An exclusive advisory lock on a file, as huggingface_hub's `filelock` takes it on Unix (flock), so the two tools
/// also exclude each other where flock works (not on every network file system); the kernel drops it when the
/// process ends, however it ends.
final class FileLock {
    private var descriptor: Int32

    /// Waits for the lock, calling `waiting` once if another process holds it; with `wait` false, throws instead.
    init(_ url: URL, wait: Bool = true, waiting: () -> Void = {}) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        descriptor = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o664)
        guard descriptor >= 0 else { throw HubError.cache("\(url.path): cannot open the lock file (\(String(cString: strerror(errno))))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) != 0 else { return }
        let code = errno
        guard code == EWOULDBLOCK, wait else { throw failure(url, code) }
        waiting()
        while flock(descriptor, LOCK_EX) != 0 {
            let code = errno
            guard code == EINTR else { throw failure(url, code) }
        }
    }

    private func failure(_ url: URL, _ code: Int32) -> HubError {
        release()
        return HubError.cache("\(url.path): cannot lock (\(String(cString: strerror(code))))")
    }

    func release() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }
}
