@testable import Alignment
import Foundation
import XCTest

/// The event files' framing, checked here without TensorBoard (scripts/fixtures/check_tensorboard.py reads real
/// runs' files with TensorBoard's own loaders).
final class TensorBoardWriterTests: XCTestCase {
    func testCRC32CMatchesTheStandardCheckValue() {
        // CRC-32C of "123456789" is 0xE3069283 (RFC 3720); TFRecord stores it masked.
        let crc: UInt32 = 0xE306_9283
        XCTAssertEqual(maskedCRC32C(Data("123456789".utf8)), ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8)
    }

    /// Every record is length + masked CRC of the length + payload + masked CRC of the payload; the file holds the
    /// version event, the session start and one event per scalar with its tag and float value.
    func testRecordsAreFramedAndHoldEveryScalar() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rlhf-tb-\(UUID().uuidString)")
        let writer = try TensorBoardWriter(directory: directory, resumingAfter: 4)
        try writer.add(["loss": 1.5, "rewards/margins": -0.25], step: 5)
        try writer.close()
        let bytes = try Data(contentsOf: writer.url)
        var payloads: [Data] = [], offset = 0
        func read<T: FixedWidthInteger>(_: T.Type) -> T {
            defer { offset += MemoryLayout<T>.size }
            return bytes[offset..<(offset + MemoryLayout<T>.size)].enumerated().reduce(T.zero) { $0 | T($1.element) << (8 * $1.offset) }
        }
        while offset < bytes.count {
            let lengthBytes = bytes[offset..<(offset + 8)]
            let length = Int(read(UInt64.self))
            XCTAssertEqual(read(UInt32.self), maskedCRC32C(Data(lengthBytes)))
            let payload = Data(bytes[offset..<(offset + length)])
            offset += length
            XCTAssertEqual(read(UInt32.self), maskedCRC32C(payload))
            payloads.append(payload)
        }
        XCTAssertEqual(payloads.count, 4, "version, session start, two scalars")
        XCTAssertNotNil(payloads[0].range(of: Data("brain.Event:2".utf8)))
        for (payload, tag, value) in [(payloads[2], "loss", Float(1.5)), (payloads[3], "rewards/margins", Float(-0.25))] {
            XCTAssertNotNil(payload.range(of: Data(tag.utf8)), tag)
            XCTAssertNotNil(payload.range(of: withUnsafeBytes(of: value.bitPattern.littleEndian) { Data($0) }), tag)
        }
    }
}
