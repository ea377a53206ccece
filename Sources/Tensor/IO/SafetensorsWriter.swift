import Foundation

/// Writing safetensors files byte-for-byte as the Python `safetensors` library (0.8) does:
/// - tensors sorted by dtype alignment, largest first, then by name compared as UTF-8 bytes (all
///   tensors here share one dtype, so by name), and their data laid out back to back in that order;
/// - the header is compact JSON (no spaces): `__metadata__` first when given, then each tensor as
///   `"name":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}`, strings escaped as serde_json does;
/// - the header is padded with spaces to a multiple of 8 bytes, so the data starts 8-aligned.
/// Python orders `__metadata__` keys by hash (different on every run) when there are several; here
/// they are sorted, which is byte-identical whenever Python's own output is deterministic.
public enum Safetensors {
    /// Writes `tensors` to `url` atomically: the bytes go to a temporary file in the same directory that
    /// is renamed over `url` once complete, so a crash never leaves a half-written file.
    /// Empty `metadata` writes no `__metadata__` (as Python does for `metadata=None`).
    public static func write(_ tensors: [(name: String, tensor: Tensor)], dtype: DType = .float32,
                             metadata: [String: String] = [:], to url: URL) throws {
        let ordered = try layout(tensors, path: url.path)
        let header = headerBytes(ordered.map { ($0.name, $0.tensor.shape) }, dtype: dtype, metadata: metadata)
        try AtomicFile.write(to: url) { handle in
            var length = UInt64(header.count).littleEndian
            try handle.write(contentsOf: Data(bytes: &length, count: 8))
            try handle.write(contentsOf: header)
            for (_, tensor) in ordered { try writeData(of: tensor, as: dtype, to: handle) }
        }
    }

    /// Checks names and puts tensors in file order.
    static func layout(_ tensors: [(name: String, tensor: Tensor)], path: String) throws -> [(name: String, tensor: Tensor)] {
        var seen = Set<String>()
        for (name, _) in tensors {
            guard !name.isEmpty else { throw TensorError.io(path: path, "a tensor has an empty name") }
            guard name != "__metadata__" else { throw TensorError.io(path: path, "'__metadata__' is reserved") }
            guard seen.insert(name).inserted else { throw TensorError.io(path: path, "duplicate tensor name '\(name)'") }
        }
        return tensors.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    /// The padded JSON header for tensors already in file order.
    static func headerBytes(_ tensors: [(name: String, shape: [Int])], dtype: DType,
                            metadata: [String: String]) -> Data {
        var fields: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                .map { "\(jsonString($0.key)):\(jsonString($0.value))" }
            fields.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for (name, shape) in tensors {
            let end = offset + Shape.count(shape) * dtype.elementSize
            let shapeText = shape.map(String.init).joined(separator: ",")
            fields.append("\(jsonString(name)):{\"dtype\":\"\(dtype.rawValue)\",\"shape\":[\(shapeText)],"
                          + "\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var header = Data("{\(fields.joined(separator: ","))}".utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))
        return header
    }

    /// A JSON string literal escaped as serde_json escapes it (`"`, `\` and control characters only;
    /// `/` and non-ASCII written as is), or with `escapingNonASCII` as Python's `json.dumps` does
    /// (everything outside printable ASCII as `\uXXXX` UTF-16 units).
    static func jsonString(escapingNonASCII: Bool = false, _ text: String) -> String {
        var escaped = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            case "\u{08}": escaped += "\\b"
            case "\u{0C}": escaped += "\\f"
            case "\u{00}"..."\u{1F}":
                escaped += unicodeEscapes(scalar)
            case " "..."~": escaped.unicodeScalars.append(scalar)
            default: escaped += escapingNonASCII ? unicodeEscapes(scalar) : String(scalar)
            }
        }
        return escaped + "\""
    }

    private static func unicodeEscapes(_ scalar: Unicode.Scalar) -> String {
        String(scalar).utf16.map { unit in
            let hex = String(unit, radix: 16)
            return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }.joined()
    }

    /// Streams one tensor's values in `dtype`, converting a bounded chunk at a time.
    private static func writeData(of tensor: Tensor, as dtype: DType, to handle: FileHandle) throws {
        try tensor.withUnsafeBufferPointer { values in
            guard let base = values.baseAddress, !values.isEmpty else { return }
            if dtype == .float32 {
                let bytes = Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: values.count * 4,
                                 deallocator: .none)
                try handle.write(contentsOf: bytes)
                return
            }
            let chunkSize = 1 << 16
            var chunk = Data(count: chunkSize * dtype.elementSize)
            for start in stride(from: 0, to: values.count, by: chunkSize) {
                let piece = UnsafeBufferPointer(rebasing: values[start..<min(start + chunkSize, values.count)])
                chunk.withUnsafeMutableBytes { raw in
                    if dtype == .float16 {
                        HalfPrecision.encodeFloat16(piece, into: raw.baseAddress!)
                    } else {
                        HalfPrecision.encodeBFloat16(piece, into: raw.baseAddress!)
                    }
                }
                try handle.write(contentsOf: chunk.prefix(piece.count * dtype.elementSize))
            }
        }
    }
}

/// Replaces a file all at once: a temporary sibling is written, flushed to disk, then renamed over
/// the destination (rename is atomic within a directory).
enum AtomicFile {
    static func write(to url: URL, _ body: (FileHandle) throws -> Void) throws {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw TensorError.io(path: url.path, "cannot create a temporary file in \(directory.path)")
        }
        do {
            let handle = try FileHandle(forWritingTo: temporary)
            defer { try? handle.close() }
            try body(handle)
            try handle.synchronize()
            guard rename(temporary.path, url.path) == 0 else {
                throw TensorError.io(path: url.path, "cannot replace: \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            if let error = error as? TensorError { throw error }
            throw TensorError.io(path: url.path, "write failed: \(error.localizedDescription)")
        }
    }
}
