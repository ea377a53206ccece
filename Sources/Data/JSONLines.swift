import Foundation

/// Reads a JSON Lines file: one JSON object per non-blank line.
public enum JSONLines {
    /// Every object with its 1-based line number. Fails at the first line that is not a JSON object.
    public static func read(_ url: URL) throws -> [(line: Int, object: [String: Any])] {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw DataError(file: url.path, line: nil, "cannot read the file")
        }
        var records: [(Int, [String: Any])] = []
        for (number, line) in try lines(of: data, file: url.path) {
            let parsed: Any
            do {
                parsed = try JSONSerialization.jsonObject(with: line, options: [.fragmentsAllowed])
            } catch {
                throw DataError(file: url.path, line: number, "not valid JSON")
            }
            guard let object = parsed as? [String: Any] else {
                throw DataError(file: url.path, line: number, "expected a JSON object")
            }
            records.append((number, object))
        }
        guard !records.isEmpty else { throw DataError(file: url.path, line: nil, "no records") }
        return records
    }

    /// The non-blank lines of JSON Lines text with their 1-based numbers: "\n" or "\r\n" ends (files saved on
    /// Windows read the same), every line checked to be UTF-8 so an error can name it. The one line splitter of
    /// every JSONL reader.
    public static func lines(of data: Data, file: String) throws -> [(number: Int, bytes: Data)] {
        var result: [(Int, Data)] = []
        for (index, raw) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let line = raw.last == UInt8(ascii: "\r") ? raw.dropLast() : raw
            guard line.contains(where: { !" \t\r".utf8.contains($0) }) else { continue }
            guard String(data: Data(line), encoding: .utf8) != nil else {
                throw DataError(file: file, line: index + 1, "not UTF-8 text")
            }
            result.append((index + 1, Data(line)))
        }
        return result
    }

    /// Appends one already-encoded JSON object as a line, creating the file when it does not exist.
    public static func appendLine(_ json: Data, to url: URL) throws {
        let line = json + Data([0x0A])
        guard let handle = try? FileHandle(forWritingTo: url) else { return try line.write(to: url) }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: line)
    }

    /// Writes one JSON object per line (sorted keys, so files diff cleanly), atomically, creating the folder.
    public static func write<T: Encodable>(_ records: [T], to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for record in records {
            data.append(try encoder.encode(record))
            data.append(0x0A)
        }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url, options: .atomic)
    }
}

/// Typed access to one JSONL record's fields, with errors that point at the line.
public struct Record {
    public let file: String
    public let line: Int
    public let object: [String: Any]

    public func string(_ key: String, allowEmpty: Bool = false) throws -> String {
        guard let value = object[key] else { throw error("missing field \"\(key)\"") }
        guard let text = value as? String else { throw error("field \"\(key)\" must be a string") }
        guard allowEmpty || !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw error("field \"\(key)\" is empty")
        }
        return text
    }

    public func optionalString(_ key: String) throws -> String? {
        guard object[key] != nil, !(object[key] is NSNull) else { return nil }
        return try string(key, allowEmpty: true)
    }

    public func error(_ message: String) -> DataError { DataError(file: file, line: line, message) }
}

extension JSONLines {
    /// The file's records, for typed parsing with line-numbered errors.
    public static func records(_ url: URL) throws -> [Record] {
        try read(url).map { Record(file: url.path, line: $0.line, object: $0.object) }
    }
}

extension JSONLines {
    /// Drops the lines whose number under `key` is above `value` (a resumed run writes those again); lines
    /// without it stay. Nothing to do when the file does not exist.
    public static func truncate(_ url: URL, after value: Int, key: String) throws {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return }
        let kept = text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).filter { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let logged = object[key] as? Double else { return true }
            return Int(logged) <= value
        }
        try Data((kept.joined(separator: "\n") + (kept.isEmpty ? "" : "\n")).utf8).write(to: url, options: .atomic)
    }
}
