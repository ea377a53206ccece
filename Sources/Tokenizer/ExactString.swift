import Foundation

/// A string key compared byte for byte. `String`'s own `==` and hashing follow canonical
/// equivalence, which would merge distinct tokens (and cache entries) such as "é" and "e\u{301}".
struct ExactString: Hashable, Sendable {
    let string: String

    init(_ string: String) { self.string = string }

    static func == (lhs: ExactString, rhs: ExactString) -> Bool {
        var left = lhs.string
        var right = rhs.string
        return left.withUTF8 { l in
            right.withUTF8 { r in l.count == r.count && (l.count == 0 || memcmp(l.baseAddress!, r.baseAddress!, l.count) == 0) }
        }
    }

    func hash(into hasher: inout Hasher) {
        var copy = string
        copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
