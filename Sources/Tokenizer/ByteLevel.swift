/// GPT-2's reversible map between bytes and printable characters, shared by the ByteLevel
/// pre-tokenizer (bytes → characters) and decoder (characters → bytes).
enum ByteLevel {
    /// Printable bytes stand for themselves; the other 68 take the characters from U+0100 on, in order.
    static let scalarForByte: [Unicode.Scalar] = {
        let printable = Set<UInt8>(Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF))
        var next: UInt32 = 0x100
        return (0...255).map { (byte: Int) -> Unicode.Scalar in
            if printable.contains(UInt8(byte)) { return Unicode.Scalar(UInt8(byte)) }
            defer { next += 1 }
            return Unicode.Scalar(next)!
        }
    }()

    /// The UTF-8 encoding of each byte's character, so encoding a word is one table lookup per byte.
    private static let utf8ForByte: [[UInt8]] = scalarForByte.map { Array(String($0).utf8) }

    private static let byteForScalar: [Unicode.Scalar: UInt8] =
        Dictionary(uniqueKeysWithValues: scalarForByte.enumerated().map { ($1, UInt8($0)) })

    /// The text's UTF-8 bytes spelled with the byte characters.
    static func encode(_ text: String) -> String {
        var utf8: [UInt8] = []
        utf8.reserveCapacity(text.utf8.count * 2)
        for byte in text.utf8 { utf8.append(contentsOf: utf8ForByte[Int(byte)]) }
        return String(decoding: utf8, as: UTF8.self)
    }

    /// The bytes a token of byte characters stands for, or nil when it has another character
    /// (an added token such as "<|im_end|>" written in plain text).
    static func bytes(of token: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(token.unicodeScalars.count)
        for scalar in token.unicodeScalars {
            guard let byte = byteForScalar[scalar] else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}
