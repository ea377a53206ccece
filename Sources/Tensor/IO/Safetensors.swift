import Foundation

#if _endian(big)
#error("safetensors data is little-endian and is mapped as is: RLHFKit needs a little-endian host")
#endif

/// The element types RLHFKit reads and writes. In memory every tensor is float32 whatever the file holds.
public enum DType: String, Sendable, CaseIterable {
    case float32 = "F32", float16 = "F16", bfloat16 = "BF16"

    public var elementSize: Int { self == .float32 ? 4 : 2 }
}

/// A safetensors file: an 8-byte little-endian header length, a JSON header, then the tensor bytes.
///
/// Opening maps the file and validates the whole header (types, shapes, offsets, coverage of the data)
/// before any tensor byte is read, so a damaged file fails here with a message instead of later.
public final class SafetensorsFile: Sendable {
    public let url: URL
    /// The header's free-form `__metadata__` (empty when absent).
    public let metadata: [String: String]
    /// Every tensor in the file, including those stored in types RLHFKit cannot load, sorted by name.
    public let names: [String]

    private let entries: [String: Entry]
    private let mapping: MappedFile
    private let dataStart: Int

    /// The safetensors library's own limit; a larger header is garbage, not a real file.
    static let maxHeaderBytes = 100_000_000

    public init(contentsOf url: URL) throws {
        let path = url.path
        let mapping = try MappedFile(path: path)
        let fileSize = mapping.bytes.count
        guard fileSize >= 8 else {
            throw TensorError.io(path: path, "truncated: file has \(fileSize) bytes, less than the 8-byte header length")
        }
        let headerLength = UInt64(littleEndian: mapping.bytes.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(Self.maxHeaderBytes) else {
            throw TensorError.io(path: path, "header length \(headerLength) exceeds the \(Self.maxHeaderBytes)-byte limit")
        }
        guard Int(headerLength) <= fileSize - 8 else {
            throw TensorError.io(path: path,
                                 "truncated: header says \(headerLength) bytes but file has \(fileSize - 8) after the length")
        }
        let header = try SafetensorsHeader(
            json: UnsafeRawBufferPointer(rebasing: mapping.bytes[8..<(8 + Int(headerLength))]),
            dataSize: fileSize - 8 - Int(headerLength), path: path)

        self.url = url
        self.mapping = mapping
        self.dataStart = 8 + Int(headerLength)
        metadata = header.metadata
        entries = header.entries
        names = entries.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// The element type as the header spells it (`"F32"`, `"I64"`, ...), for any tensor in the file.
    public func dtypeName(of name: String) throws -> String { try entry(name).dtypeName }

    /// The element type of a tensor RLHFKit can load; throws for other types, naming them.
    public func dtype(of name: String) throws -> DType { try loadableDType(try entry(name), name: name) }

    public func shape(of name: String) throws -> [Int] { try entry(name).shape }

    public func contains(_ name: String) -> Bool { entries[name] != nil }

    /// The tensor converted to float32. F32 data that is suitably aligned is borrowed from the mapping
    /// without a copy (copy-on-write pages: writing to the tensor never touches the file).
    public func tensor(_ name: String) throws -> Tensor {
        let entry = try entry(name)
        let dtype = try loadableDType(entry, name: name)
        let source = mapping.bytes.baseAddress.map { $0 + dataStart + entry.byteRange.lowerBound }
        guard let source, entry.count > 0 else { return Tensor(uninitializedShape: entry.shape) }

        if dtype == .float32, Int(bitPattern: source) % MemoryLayout<Float>.alignment == 0 {
            let floats = source.assumingMemoryBound(to: Float.self)
            return Tensor(shape: entry.shape, storage: TensorStorage(borrowing: floats, count: entry.count, owner: mapping))
        }
        let result = Tensor(uninitializedShape: entry.shape)
        let destination = UnsafeMutableBufferPointer(start: result.data, count: entry.count)
        switch dtype {
        case .float32: UnsafeMutableRawPointer(result.data).copyMemory(from: source, byteCount: entry.byteRange.count)
        case .float16: HalfPrecision.decodeFloat16(source, into: destination)
        case .bfloat16: HalfPrecision.decodeBFloat16(source, into: destination)
        }
        return result
    }

    private func entry(_ name: String) throws -> Entry {
        guard let entry = entries[name] else {
            throw TensorError.io(path: url.path, "no tensor named '\(name)' (the file has \(entries.count))")
        }
        return entry
    }

    private func loadableDType(_ entry: Entry, name: String) throws -> DType {
        guard let dtype = DType(rawValue: entry.dtypeName) else {
            throw TensorError.io(path: url.path,
                                 "tensor '\(name)' has dtype \(entry.dtypeName); only F32, F16 and BF16 load as float32")
        }
        return dtype
    }

    struct Entry: Sendable {
        let dtypeName: String
        let shape: [Int]
        let count: Int
        /// Byte range within the data section (after the header).
        let byteRange: Range<Int>
    }
}

/// A whole file mapped privately: pages load on first touch, and writes (through a tensor that borrows
/// them) go to private copies instead of the file. Unmapped when the last borrower lets go.
final class MappedFile: @unchecked Sendable {
    let bytes: UnsafeMutableRawBufferPointer

    init(path: String) throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw TensorError.io(path: path, "cannot open: \(Self.lastError)") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw TensorError.io(path: path, "cannot stat: \(Self.lastError)") }
        guard status.st_mode & mode_t(S_IFMT) == mode_t(S_IFREG) else {
            throw TensorError.io(path: path, "not a regular file")
        }
        let size = Int(status.st_size)
        guard size > 0 else {
            bytes = UnsafeMutableRawBufferPointer(start: nil, count: 0)
            return
        }
        let base = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, descriptor, 0)
        guard let base, base != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw TensorError.io(path: path, "cannot map: \(Self.lastError)")
        }
        bytes = UnsafeMutableRawBufferPointer(start: base, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(base, bytes.count) }
    }

    private static var lastError: String { String(cString: strerror(errno)) }
}

/// The parsed and validated JSON header of a safetensors file.
struct SafetensorsHeader {
    let metadata: [String: String]
    let entries: [String: SafetensorsFile.Entry]

    /// Element widths in bits of every dtype the safetensors format defines, so that files holding
    /// types RLHFKit does not load are still validated and listed.
    static let dtypeBits: [String: Int] = [
        "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E5M2FNUZ": 8, "F8_E4M3FNUZ": 8, "F8_E8M0": 8,
        "I16": 16, "U16": 16, "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32,
        "I64": 64, "U64": 64, "F64": 64, "C64": 64, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
    ]

    init(json: UnsafeRawBufferPointer, dataSize: Int, path: String) throws {
        let raw = try Self.decode(Data(json), path: path)
        var entries: [String: SafetensorsFile.Entry] = [:]
        for (name, rawEntry) in raw.entries {
            entries[name] = try Self.validate(rawEntry, name: name, dataSize: dataSize, path: path)
        }
        try Self.checkCoverage(entries, dataSize: dataSize, path: path)
        metadata = raw.metadata
        self.entries = entries
    }

    private static func decode(_ json: Data, path: String) throws -> RawHeader {
        do {
            return try JSONDecoder().decode(RawHeader.self, from: json)
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
            throw TensorError.io(path: path, "header is not valid JSON")
        } catch DecodingError.typeMismatch(_, let context) where context.codingPath.isEmpty {
            throw TensorError.io(path: path, "header is not a JSON object")
        } catch let error as DecodingError {
            throw TensorError.io(path: path, "header: \(Self.describe(error))")
        }
    }

    private static func validate(_ raw: RawEntry, name: String, dataSize: Int,
                                 path: String) throws -> SafetensorsFile.Entry {
        func fail(_ detail: String) -> TensorError { .io(path: path, "tensor '\(name)': \(detail)") }
        guard let dtypeName = raw.dtype else { throw fail("missing dtype") }
        guard let shape = raw.shape else { throw fail("missing shape") }
        guard let offsets = raw.dataOffsets else { throw fail("missing data_offsets") }
        guard let bits = dtypeBits[dtypeName] else { throw fail("unknown dtype '\(dtypeName)'") }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("negative dimension in shape \(shape)") }

        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw fail("shape \(shape) overflows") }
            count = product
        }
        let (bitCount, overflow) = count.multipliedReportingOverflow(by: bits)
        guard !overflow else { throw fail("shape \(shape) overflows") }
        guard bitCount % 8 == 0 else { throw fail("\(dtypeName) \(shape) is not a whole number of bytes") }

        guard offsets.count == 2 else { throw fail("data_offsets \(offsets) is not [begin, end]") }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin >= 0, begin <= end else { throw fail("data_offsets \(offsets) run backwards") }
        guard end <= dataSize else {
            throw fail("data_offsets \(offsets) run past the end of the \(dataSize) data bytes (truncated file?)")
        }
        guard end - begin == bitCount / 8 else {
            throw fail("data_offsets \(offsets) span \(end - begin) bytes but \(dtypeName) \(shape) needs \(bitCount / 8)")
        }
        return .init(dtypeName: dtypeName, shape: shape, count: count, byteRange: begin..<end)
    }

    /// Tensors must tile the data section exactly, as the safetensors library requires: no overlap,
    /// no gap, nothing after the last tensor.
    private static func checkCoverage(_ entries: [String: SafetensorsFile.Entry], dataSize: Int,
                                      path: String) throws {
        let ordered = entries.sorted {
            ($0.value.byteRange.lowerBound, $0.value.byteRange.upperBound, $0.key)
                < ($1.value.byteRange.lowerBound, $1.value.byteRange.upperBound, $1.key)
        }
        var covered = 0
        var previous: (name: String, range: Range<Int>)?
        for (name, entry) in ordered {
            let range = entry.byteRange
            if let previous, range.lowerBound < covered {
                throw TensorError.io(path: path, "tensors '\(previous.name)' \(bounds(previous.range)) and '\(name)' "
                                         + "\(bounds(range)) overlap")
            }
            guard range.lowerBound == covered else {
                throw TensorError.io(path: path, "data bytes \(covered)..<\(range.lowerBound) belong to no tensor")
            }
            covered = range.upperBound
            previous = (name, range)
        }
        guard covered == dataSize else {
            throw TensorError.io(path: path, "\(dataSize - covered) bytes after the last tensor belong to no tensor")
        }
    }

    private static func bounds(_ range: Range<Int>) -> String { "[\(range.lowerBound), \(range.upperBound)]" }

    private static func describe(_ error: DecodingError) -> String {
        func at(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            return "bad value at '\(path)': \(context.debugDescription)"
        }
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
             .dataCorrupted(let context):
            return at(context)
        @unknown default:
            return "\(error)"
        }
    }
}

/// The header as stored, before validation: `__metadata__` and one loosely typed entry per tensor.
private struct RawHeader: Decodable {
    var metadata: [String: String] = [:]
    var entries: [(name: String, entry: RawEntry)] = []

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        for key in container.allKeys {
            if key.stringValue == "__metadata__" {
                metadata = try container.decodeIfPresent([String: String].self, forKey: key) ?? [:]
            } else {
                entries.append((key.stringValue, try container.decode(RawEntry.self, forKey: key)))
            }
        }
    }
}

private struct RawEntry: Decodable {
    let dtype: String?
    let shape: [Int]?
    let dataOffsets: [Int]?

    enum CodingKeys: String, CodingKey {
        case dtype, shape
        case dataOffsets = "data_offsets"
    }
}

private struct AnyKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
