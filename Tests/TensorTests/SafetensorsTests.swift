import Foundation
import XCTest
@testable import Tensor

/// Safetensors I/O against files written by Python's safetensors, torch and huggingface_hub
/// (made by scripts/make_safetensors_fixtures.py), plus round trips and damaged files.
final class SafetensorsTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/safetensors")

    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("SafetensorsTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    // MARK: Python fixtures

    func testReadsPythonFilesWithTorchValues() throws {
        let expected = try Expected.load()
        for dtype in DType.allCases {
            let file = try SafetensorsFile(contentsOf: Self.fixture(dtype))
            XCTAssertEqual(file.metadata, expected.metadata)
            XCTAssertEqual(file.names, ["empty", "scale", "transformer.h.10.bias", "transformer.h.2.weight"])
            for source in expected.tensors {
                XCTAssertEqual(try file.dtype(of: source.name), dtype)
                XCTAssertEqual(try file.shape(of: source.name), source.shape)
                let tensor = try file.tensor(source.name)
                XCTAssertEqual(tensor.shape, source.shape)
                XCTAssertEqual(tensor.scalars.map(\.bitPattern), expected.readBits[dtype.rawValue]?[source.name],
                               "\(dtype) \(source.name)")
            }
        }
    }

    func testWritesBytesIdenticalToPython() throws {
        let expected = try Expected.load()
        let tensors = try expected.tensors.map { ($0.name, try $0.tensor()) }
        for dtype in DType.allCases {
            let url = scratch.appendingPathComponent("\(dtype).safetensors")
            try Safetensors.write(tensors, dtype: dtype, metadata: expected.metadata, to: url)
            try assertSameBytes(url, Self.fixture(dtype))
        }
    }

    func testReadsPythonShardedCheckpoint() throws {
        let expected = try Expected.load()
        let checkpoint = try SafetensorsCheckpoint(directory: Self.fixtures.appendingPathComponent("sharded"))
        XCTAssertEqual(checkpoint.names, expected.sharded.tensors.map(\.name).sorted())
        for source in expected.sharded.tensors {
            XCTAssertEqual(try checkpoint.dtype(of: source.name), .float32)
            XCTAssertEqual(try checkpoint.shape(of: source.name), source.shape)
            XCTAssertEqual(try checkpoint.tensor(source.name).scalars.map(\.bitPattern), source.sourceBits)
        }
        assertIOError(try checkpoint.tensor("model.missing"), mentions: "model.missing")
    }

    func testWritesShardsAndIndexIdenticalToTransformers() throws {
        let expected = try Expected.load()
        let tensors = try expected.sharded.tensors.map { ($0.name, try $0.tensor()) }
        try Safetensors.writeSharded(tensors, maxShardBytes: expected.sharded.maxShardBytes, to: scratch)
        let reference = Self.fixtures.appendingPathComponent("sharded")
        let names = try FileManager.default.contentsOfDirectory(atPath: reference.path).sorted()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted(), names)
        for name in names {
            try assertSameBytes(scratch.appendingPathComponent(name), reference.appendingPathComponent(name))
        }
    }

    // MARK: Round trips

    func testRoundTripInEveryDType() throws {
        var generator = SeededGenerator(seed: 7)
        let tensors: [(name: String, tensor: Tensor)] = [
            ("w", Tensor.randn([3, 5], std: 3, using: &generator)),
            ("b", Tensor.randn([7], std: 1e-3, using: &generator)),
            ("scalar", Tensor(-1.5)),
            ("none", Tensor.zeros([2, 0])),
        ]
        let metadata = ["format": "pt", "note": "quote \" slash / backslash \\ newline \n é ✓ \u{1}"]
        let rounding: [DType: (Float) -> Float] = [
            .float32: { $0 },
            .float16: { HalfPrecision.float(float16Bits: HalfPrecision.float16Bits($0)) },
            .bfloat16: { HalfPrecision.float(bfloat16Bits: HalfPrecision.bfloat16Bits($0)) },
        ]
        for dtype in DType.allCases {
            let url = scratch.appendingPathComponent("\(dtype).safetensors")
            try Safetensors.write(tensors, dtype: dtype, metadata: metadata, to: url)
            let file = try SafetensorsFile(contentsOf: url)
            XCTAssertEqual(file.metadata, metadata)
            XCTAssertEqual(file.names, ["b", "none", "scalar", "w"])
            for (name, original) in tensors {
                let loaded = try file.tensor(name)
                XCTAssertEqual(loaded.shape, original.shape)
                XCTAssertEqual(loaded.scalars.map(\.bitPattern), original.scalars.map { rounding[dtype]!($0).bitPattern },
                               "\(dtype) \(name)")
            }
        }
    }

    func testNaNStaysNaNWithItsSign() throws {
        let tensors = [("nan", try Tensor(shape: [2], scalars: [.nan, -.nan]))]
        for dtype in DType.allCases {
            let url = scratch.appendingPathComponent("\(dtype).safetensors")
            try Safetensors.write(tensors, dtype: dtype, to: url)
            let values = try SafetensorsFile(contentsOf: url).tensor("nan").scalars
            XCTAssertTrue(values.allSatisfy(\.isNaN), "\(dtype)")
            XCTAssertEqual(values.map(\.sign), [.plus, .minus], "\(dtype)")
        }
    }

    func testWritingToALoadedTensorLeavesTheFileAlone() throws {
        let url = scratch.appendingPathComponent("copy.safetensors")
        try FileManager.default.copyItem(at: Self.fixture(.float32), to: url)
        let before = try Data(contentsOf: url)
        var tensor = try SafetensorsFile(contentsOf: url).tensor("transformer.h.2.weight")
        tensor.withUnsafeMutableBufferPointer { $0.update(repeating: 42) }
        XCTAssertEqual(tensor.scalars, [Float](repeating: 42, count: 24))
        XCTAssertEqual(try Data(contentsOf: url), before)
        XCTAssertEqual(try SafetensorsFile(contentsOf: url).tensor("transformer.h.2.weight").scalars[2], 1)
    }

    func testOverwritesAtomicallyWithoutLeftovers() throws {
        let url = scratch.appendingPathComponent("model.safetensors")
        try Safetensors.write([("a", Tensor.ones([4]))], to: url)
        try Safetensors.write([("b", Tensor.zeros([2]))], to: url)
        XCTAssertEqual(try SafetensorsFile(contentsOf: url).names, ["b"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.path), ["model.safetensors"])
    }

    func testShardedWriteOfASmallModelIsOneFileAndReplacesOldShards() throws {
        let tensors: [(name: String, tensor: Tensor)] = [("a", Tensor.ones([8])), ("b", Tensor.ones([8]))]
        try Safetensors.writeSharded(tensors, maxShardBytes: 40, to: scratch)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted(),
                       ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json"])
        try Safetensors.writeSharded(tensors, maxShardBytes: 1 << 20, to: scratch)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.path), ["model.safetensors"])
        let checkpoint = try SafetensorsCheckpoint(directory: scratch)
        XCTAssertEqual(checkpoint.names, ["a", "b"])
        XCTAssertEqual(try checkpoint.tensor("b").scalars, [Float](repeating: 1, count: 8))
    }

    // MARK: Conversions

    func testHalfPrecisionPatternsSurviveARoundTrip() {
        var float16Mismatches: [UInt16] = []
        var bfloat16Mismatches: [UInt16] = []
        for bits in UInt16.min...UInt16.max {
            let half = HalfPrecision.float(float16Bits: bits)
            let back16 = HalfPrecision.float16Bits(half)
            if half.isNaN ? (back16 & 0x7C00 != 0x7C00 || back16 & 0x3FF == 0) : back16 != bits {
                float16Mismatches.append(bits)
            }
            let brain = HalfPrecision.float(bfloat16Bits: bits)
            let backBrain = HalfPrecision.bfloat16Bits(brain)
            if brain.isNaN ? !HalfPrecision.float(bfloat16Bits: backBrain).isNaN : backBrain != bits {
                bfloat16Mismatches.append(bits)
            }
        }
        XCTAssertEqual(float16Mismatches, [])
        XCTAssertEqual(bfloat16Mismatches, [])
    }

    #if !(os(macOS) && arch(x86_64))
    /// Swift's own `Float16` (compiler-rt, round to nearest even) as an independent reference.
    func testFloat16RoundingMatchesSwiftFloat16() {
        var generator = SeededGenerator(seed: 3)
        var mismatches = 0
        for _ in 0..<1_000_000 {
            let value = Float(bitPattern: UInt32(truncatingIfNeeded: generator.next()))
            guard !value.isNaN else { continue }
            if HalfPrecision.float16Bits(value) != Float16(value).bitPattern { mismatches += 1 }
        }
        XCTAssertEqual(mismatches, 0)
    }
    #endif

    // MARK: Damaged files

    func testTruncatedFilesThrow() throws {
        let good = try Data(contentsOf: Self.fixture(.float32))
        assertIOError(try open(good.prefix(5)), mentions: "truncated")
        assertIOError(try open(good.prefix(8 + 20)), mentions: "truncated", "header says")
        assertIOError(try open(good.dropLast(8)), mentions: "transformer.h.2.weight", "past the end", "truncated")
    }

    func testHeaderLengthBeyondTheFileThrows() throws {
        var good = try Data(contentsOf: Self.fixture(.float32))
        good.replaceSubrange(0..<8, with: Self.littleEndian(UInt64(good.count)))
        assertIOError(try open(good), mentions: "truncated", "header says \(good.count) bytes")
        good.replaceSubrange(0..<8, with: Self.littleEndian(UInt64(1) << 62))
        assertIOError(try open(good), mentions: "exceeds", "limit")
    }

    func testBadHeadersThrow() throws {
        assertIOError(try open(header: "this is not json", dataBytes: 0), mentions: "not valid JSON")
        assertIOError(try open(header: "[1, 2]", dataBytes: 0), mentions: "not a JSON object")
        assertIOError(try open(header: #"{"w":{"dtype":"F32","shape":[1]}}"#, dataBytes: 4), mentions: "'w'", "data_offsets")
        assertIOError(try open(header: #"{"w":{"dtype":"F32","shape":["a"],"data_offsets":[0,4]}}"#, dataBytes: 4),
                      mentions: "w.shape.0")
        assertIOError(try open(header: #"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, dataBytes: 4),
                      mentions: "negative")
        assertIOError(try open(header: #"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}"#,
                               dataBytes: 4), mentions: "overflows")
        assertIOError(try open(header: #"{"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,1]}}"#, dataBytes: 1),
                      mentions: "unknown dtype 'Q4'")
        assertIOError(try open(header: #"{"__metadata__":{"n":1}}"#, dataBytes: 0), mentions: "__metadata__")
    }

    func testOffsetsThatLieThrow() throws {
        assertIOError(try open(header: #"{"h.0.w":{"dtype":"F32","shape":[8,16],"data_offsets":[0,400]}}"#, dataBytes: 400),
                      mentions: "'h.0.w'", "span 400 bytes but F32 [8, 16] needs 512")
        assertIOError(try open(header: #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, dataBytes: 8),
                      mentions: "'w'", "past the end")
        assertIOError(try open(header: #"{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, dataBytes: 8),
                      mentions: "backwards")
        let overlapping = #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"#
            + #""b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}"#
        assertIOError(try open(header: overlapping, dataBytes: 24), mentions: "'a' [0, 16]", "'b' [8, 24]", "overlap")
        assertIOError(try open(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, dataBytes: 8),
                      mentions: "0..<4", "no tensor")
        assertIOError(try open(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, dataBytes: 12),
                      mentions: "8 bytes after the last tensor")
    }

    func testTypesThatDoNotLoadAsFloatAreListedButThrowWhenLoaded() throws {
        let file = try open(header: #"{"ids":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}"#, dataBytes: 16)
        XCTAssertEqual(file.names, ["ids"])
        XCTAssertEqual(try file.dtypeName(of: "ids"), "I64")
        assertIOError(try file.tensor("ids"), mentions: "'ids'", "I64")
        assertIOError(try file.dtype(of: "ids"), mentions: "I64")
        assertIOError(try file.tensor("absent"), mentions: "'absent'")
    }

    func testBadNamesAreRefusedByTheWriter() {
        let url = scratch.appendingPathComponent("bad.safetensors")
        assertIOError(try Safetensors.write([("a", Tensor(1)), ("a", Tensor(2))], to: url), mentions: "duplicate", "'a'")
        assertIOError(try Safetensors.write([("", Tensor(1))], to: url), mentions: "empty name")
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
    }

    func testBrokenShardedCheckpointsThrow() throws {
        let directory = scratch.appendingPathComponent("sharded")
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("sharded"), to: directory)
        let indexURL = directory.appendingPathComponent(SafetensorsCheckpoint.indexFileName)
        let index = try String(contentsOf: indexURL, encoding: .utf8)

        try index.replacingOccurrences(of: #""model.norm.weight": "model-00003"#, with: #""model.norm.weight": "model-00002"#)
            .write(to: indexURL, atomically: true, encoding: .utf8)
        assertIOError(try SafetensorsCheckpoint(directory: directory), mentions: "'model.norm.weight'", "does not contain")

        try index.replacingOccurrences(of: "model-00001-of-00003", with: "../model-00001-of-00003")
            .write(to: indexURL, atomically: true, encoding: .utf8)
        assertIOError(try SafetensorsCheckpoint(directory: directory), mentions: "not a file name")

        try index.write(to: indexURL, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(at: directory.appendingPathComponent("model-00002-of-00003.safetensors"))
        assertIOError(try SafetensorsCheckpoint(directory: directory), mentions: "missing shard 'model-00002-of-00003")

        try Data("{\"metadata\": {}}".utf8).write(to: indexURL)
        assertIOError(try SafetensorsCheckpoint(directory: directory), mentions: "weight_map")

        assertIOError(try SafetensorsCheckpoint(directory: scratch), mentions: "no model.safetensors")
    }

    // MARK: Helpers

    private static func fixture(_ dtype: DType) -> URL {
        fixtures.appendingPathComponent("\(dtype.rawValue.lowercased()).safetensors")
    }

    private static func littleEndian(_ value: UInt64) -> Data {
        withUnsafeBytes(of: value.littleEndian) { Data($0) }
    }

    /// Opens `bytes` written to a scratch file.
    private func open(_ bytes: Data) throws -> SafetensorsFile {
        let url = scratch.appendingPathComponent("\(UUID().uuidString).safetensors")
        try bytes.write(to: url)
        return try SafetensorsFile(contentsOf: url)
    }

    /// Opens a file made of `header` and `dataBytes` zero bytes.
    private func open(header: String, dataBytes: Int) throws -> SafetensorsFile {
        let json = Data(header.utf8)
        return try open(Self.littleEndian(UInt64(json.count)) + json + Data(count: dataBytes))
    }

    /// Names the first differing byte, which a plain `Data` comparison does not.
    private func assertSameBytes(_ written: URL, _ reference: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let (ours, theirs) = (try Data(contentsOf: written), try Data(contentsOf: reference))
        guard ours != theirs else { return }
        let first = zip(ours, theirs).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            ?? min(ours.count, theirs.count)
        XCTFail("\(written.lastPathComponent) (\(ours.count) bytes) differs from \(reference.lastPathComponent) "
                + "(\(theirs.count) bytes) from byte \(first)", file: file, line: line)
    }

    private func assertIOError<T>(_ body: @autoclosure () throws -> T, mentions fragments: String...,
                                  file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try body()
            XCTFail("expected an error mentioning \(fragments)", file: file, line: line)
        } catch TensorError.io(_, let message) {
            for fragment in fragments where !message.contains(fragment) {
                XCTFail("'\(message)' does not mention '\(fragment)'", file: file, line: line)
            }
        } catch {
            XCTFail("expected TensorError.io, got \(error)", file: file, line: line)
        }
    }
}

/// expected.json, written by scripts/make_safetensors_fixtures.py.
private struct Expected: Decodable {
    struct Source: Decodable {
        let name: String
        let shape: [Int]
        let sourceBits: [UInt32]

        func tensor() throws -> Tensor {
            try Tensor(shape: shape, scalars: sourceBits.map(Float.init(bitPattern:)))
        }
    }

    struct Sharded: Decodable {
        let maxShardBytes: Int
        let tensors: [Source]
    }

    let metadata: [String: String]
    let tensors: [Source]
    /// Per dtype, what torch reads back from the file: `t.to(dtype).to(torch.float32)`.
    let readBits: [String: [String: [UInt32]]]
    let sharded: Sharded

    static func load() throws -> Expected {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let data = try Data(contentsOf: SafetensorsTests.fixtures.appendingPathComponent("expected.json"))
        return try decoder.decode(Expected.self, from: data)
    }
}
