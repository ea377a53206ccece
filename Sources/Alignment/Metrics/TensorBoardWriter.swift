import Foundation

/// Writes scalars to a TensorBoard event file (`events.out.tfevents.<seconds>.<host>.<pid>.<n>`), so a run can be
/// watched with `tensorboard --logdir` while it trains. Each record is TFRecord framing (length, masked CRC32C of the
/// length, payload, masked CRC32C of the payload) around a hand-encoded `Event` protocol buffer; the field numbers
/// are those of tensorboard/compat/proto/event.proto and summary.proto.
public final class TensorBoardWriter {
    public let url: URL
    private let handle: FileHandle

    /// Opens a new event file in `directory` (created if needed) and starts a session at step `step + 1`.
    ///
    /// The session start is a `SessionLog` START event: TensorBoard's Python loaders drop what an earlier, interrupted
    /// run in the directory logged at that step or later. So a resumed run passes its checkpoint's step (the step
    /// after which metrics.jsonl drops lines) and a fresh run 0. Every session writes one, because the loader behind
    /// `--load_fast=false` ignores the first START in a directory: a START written only on resume would purge nothing.
    /// (The default fast loader ignores START; it drops a tag's later points once the resumed run logs that tag again.)
    public init(directory: URL, resumingAfter step: Int = 0) throws {
        let files = FileManager.default
        try files.createDirectory(at: directory, withIntermediateDirectories: true)
        let process = ProcessInfo.processInfo, seconds = Int(Date().timeIntervalSince1970)
        let prefix = "events.out.tfevents.\(seconds).\(process.hostName).\(process.processIdentifier)."
        // The counter keeps apart writers the same process opens within a second (an immediate resume, a test);
        // TensorBoard reads a directory's files in name order, which is then the order they were opened in.
        var n = 0
        while files.fileExists(atPath: directory.appendingPathComponent(prefix + "\(n)").path) { n += 1 }
        url = directory.appendingPathComponent(prefix + "\(n)")
        try Data().write(to: url, options: .withoutOverwriting)
        handle = try FileHandle(forWritingTo: url)

        let now = Date().timeIntervalSince1970
        var version = Self.event(wallTime: now, step: 0)
        version.bytes(3, Data("brain.Event:2".utf8))  // file_version; version 2 is what makes TensorBoard honour START
        var sessionLog = Protobuf()
        sessionLog.varint(1, 1)  // status: START
        var start = Self.event(wallTime: now, step: step + 1)
        start.bytes(7, sessionLog.data)  // session_log
        try handle.write(contentsOf: Self.record(version.data) + Self.record(start.data))
    }

    /// Removes the files in `directory` that TensorBoard reads as event files (names containing "tfevents"), so a run
    /// that starts over shows nothing an earlier attempt logged. A missing directory has none.
    public static func removeEventFiles(in directory: URL) throws {
        let files = FileManager.default
        guard let names = try? files.contentsOfDirectory(atPath: directory.path) else { return }
        for name in names where name.contains("tfevents") {
            try files.removeItem(at: directory.appendingPathComponent(name))
        }
    }

    /// Logs one `Event` per tag, in sorted tag order, each with a `Summary.Value` holding the value as a float.
    /// FileHandle does not buffer, so what a killed run logged is already in the file.
    public func add(_ scalars: [String: Double], step: Int, wallTime: Double = Date().timeIntervalSince1970) throws {
        var records = Data()
        for (tag, value) in scalars.sorted(by: { $0.key < $1.key }) {
            var summaryValue = Protobuf()
            summaryValue.bytes(1, Data(tag.utf8))  // tag
            summaryValue.float(2, Float(value))  // simple_value
            var summary = Protobuf()
            summary.bytes(1, summaryValue.data)  // value
            var event = Self.event(wallTime: wallTime, step: step)
            event.bytes(5, summary.data)  // summary
            records += Self.record(event.data)
        }
        try handle.write(contentsOf: records)
    }

    /// Closes the file now rather than when the writer is released.
    public func close() throws {
        try handle.close()
    }

    /// An `Event` with wall_time (field 1) and step (field 2) set; the caller adds the one payload field.
    private static func event(wallTime: Double, step: Int) -> Protobuf {
        var event = Protobuf()
        event.fixed64(1, wallTime.bitPattern)
        event.varint(2, UInt64(bitPattern: Int64(step)))
        return event
    }

    private static func record(_ payload: Data) -> Data {
        var length = Data()
        length.appendLittleEndian(UInt64(payload.count))
        var record = length
        record.appendLittleEndian(maskedCRC32C(length))
        record += payload
        record.appendLittleEndian(maskedCRC32C(payload))
        return record
    }
}

/// The protobuf wire format, as far as event files need it.
private struct Protobuf {
    var data = Data()

    mutating func varint(_ field: Int, _ value: UInt64) {
        key(field, wireType: 0)
        appendVarint(value)
    }

    mutating func fixed64(_ field: Int, _ value: UInt64) {
        key(field, wireType: 1)
        data.appendLittleEndian(value)
    }

    /// A string, bytes or embedded message.
    mutating func bytes(_ field: Int, _ value: Data) {
        key(field, wireType: 2)
        appendVarint(UInt64(value.count))
        data += value
    }

    mutating func float(_ field: Int, _ value: Float) {
        key(field, wireType: 5)
        data.appendLittleEndian(value.bitPattern)
    }

    private mutating func key(_ field: Int, wireType: UInt64) {
        appendVarint(UInt64(field) << 3 | wireType)
    }

    private mutating func appendVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            data.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        data.append(UInt8(value))
    }
}

private extension Data {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}

/// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum TFRecord framing uses.
private let crc32cTable: [UInt32] = (0..<256).map { byte in
    var crc = UInt32(byte)
    for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
    return crc
}

/// TFRecord stores CRCs masked (rotated and offset), because a CRC over data that itself holds CRCs is weak.
func maskedCRC32C(_ data: Data) -> UInt32 {
    var crc = ~UInt32(0)
    for byte in data { crc = crc32cTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
    crc = ~crc
    return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
}
