import Foundation

/// A JSON file decoded into a `Decodable` type, with errors that name the file and the line of the value at fault
/// (Foundation's decoding errors name only a coding path), for decoding and for the checks that follow it.
public struct JSONDocument {
    public let url: URL
    private let data: Data
    private let lines: ValueLines

    public init(contentsOf url: URL) throws {
        do { data = try Data(contentsOf: url) } catch { throw DataError(file: url.path, line: nil, "cannot read the file") }
        (self.url, lines) = (url, ValueLines(data))
    }

    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        do { return try JSONDecoder().decode(type, from: data) } catch let error as DecodingError {
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty { throw syntaxError() }
            let (path, reason) = Self.describe(error)
            throw self.error(at: path.map { $0.intValue.map(String.init) ?? $0.stringValue }, reason)
        } catch {
            throw DataError(file: url.path, line: nil, "not JSON (\(error))")
        }
    }

    /// The line of a syntax error, as JSONSerialization names it: "… around line 3, column 7." on some Foundations,
    /// "… around character 28." (a byte offset) on others.
    private func syntaxError() -> DataError {
        do { _ = try JSONSerialization.jsonObject(with: data) } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            let number = { (label: String) in
                detail.components(separatedBy: "\(label) ").dropFirst().first.flatMap { Int($0.prefix { $0.isNumber }) }
            }
            let line = number("line") ?? number("character").map { offset in 1 + data.prefix(offset).filter { $0 == UInt8(ascii: "\n") }.count }
            let reason = detail.components(separatedBy: " around ").first ?? detail
            return DataError(file: url.path, line: line, "not JSON (\(reason))")
        }
        return DataError(file: url.path, line: nil, "not JSON")
    }

    /// `file:line: message` for the value at `path` (keys and array indices), e.g. ["principles", "2", "name"].
    public func error(at path: [String], _ message: String) -> DataError {
        DataError(file: url.path, line: lines.line(of: path), message)
    }

    private static func describe(_ error: DecodingError) -> ([CodingKey], String) {
        let field = { (path: [CodingKey]) in String(path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().dropFirst()) }
        switch error {
        case .keyNotFound(let key, let context): return (context.codingPath, "\(field(context.codingPath + [key])) is missing")
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return (context.codingPath, "\(field(context.codingPath)): \(context.debugDescription)")
        case .dataCorrupted(let context):
            return (context.codingPath, "\(field(context.codingPath)): \(context.debugDescription)")
        @unknown default: return ([], "\(error)")
        }
    }
}

/// The line each value of a JSON text starts on, by its path of keys and array indices (as strings); a path that
/// is not there answers with the line of its longest prefix that is. A light scan that trusts the text to be JSON.
struct ValueLines {
    private var lines: [[String]: Int] = [:]
    private let bytes: [UInt8]
    private var index = 0
    private var line = 1

    init(_ data: Data) {
        bytes = Array(data)
        value(at: [])
    }

    func line(of path: [String]) -> Int {
        for end in stride(from: path.count, through: 0, by: -1) {
            if let line = lines[Array(path.prefix(end))] { return line }
        }
        return 1
    }

    private mutating func value(at path: [String]) {
        skipSpace()
        lines[path] = line
        guard index < bytes.count else { return }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            index += 1
            while true {
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { break }
                let key = string()
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: ":") { index += 1 }
                value(at: path + [key])
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ",") else { break }
                index += 1
            }
            if index < bytes.count { index += 1 }
        case UInt8(ascii: "["):
            index += 1
            var item = 0
            while true {
                skipSpace()
                guard index < bytes.count, bytes[index] != UInt8(ascii: "]") else { break }
                value(at: path + [String(item)])
                item += 1
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ",") else { break }
                index += 1
            }
            if index < bytes.count { index += 1 }
        case UInt8(ascii: "\""):
            _ = string()
        default:
            while index < bytes.count, !",]} \t\r\n".utf8.contains(bytes[index]) { index += 1 }
        }
    }

    /// The string starting at `index` (its raw bytes, escapes left as they are: keys in practice have none).
    private mutating func string() -> String {
        index += 1
        let start = index
        while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
            if bytes[index] == UInt8(ascii: "\\") { index += 1 } else if bytes[index] == UInt8(ascii: "\n") { line += 1 }
            index += 1
        }
        defer { index += 1 }
        return String(decoding: bytes[start..<min(index, bytes.count)], as: UTF8.self)
    }

    private mutating func skipSpace() {
        while index < bytes.count, " \t\r\n".utf8.contains(bytes[index]) {
            if bytes[index] == UInt8(ascii: "\n") { line += 1 }
            index += 1
        }
    }
}
