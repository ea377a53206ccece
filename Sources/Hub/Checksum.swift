import Crypto
import Foundation

/// The Hub's ETags are checksums: sha256 of the bytes for LFS files, git's blob sha1 (of "blob SIZE\0" and the
/// bytes) for the others. Any other ETag (a CDN's own) can only be checked by size.
enum Checksum {
    static func matches(_ file: URL, etag: String, size: Int?) throws -> Bool {
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        let actualSize = (attributes[.size] as? NSNumber)?.intValue ?? -1
        if let size, size != actualSize { return false }
        let isHex = etag.allSatisfy(\.isHexDigit)
        switch etag.utf8.count {
        case 64 where isHex:
            var hash = SHA256()
            try stream(file) { hash.update(data: $0) }
            return hex(hash.finalize()) == etag.lowercased()
        case 40 where isHex:
            var hash = Insecure.SHA1()
            hash.update(data: Data("blob \(actualSize)\0".utf8))
            try stream(file) { hash.update(data: $0) }
            return hex(hash.finalize()) == etag.lowercased()
        default:
            return true
        }
    }

    private static func stream(_ file: URL, _ body: (Data) -> Void) throws {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        while let chunk = try handle.read(upToCount: 1 << 22), !chunk.isEmpty { body(chunk) }
    }

    private static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
