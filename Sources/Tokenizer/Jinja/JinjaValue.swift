/// A value while a template renders, with Python's semantics for truth, equality and `str()`.
indirect enum JinjaValue: Sendable {
    /// A name or key that does not exist; renders as "" and is false, but most operations on it fail.
    case undefined(String)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([JinjaValue])
    case dictionary(JinjaDictionary)
    /// A `namespace()` object, by its index in the renderer's storage (namespaces are mutable).
    case namespace(Int)
    case macro(JinjaMacro)
    /// A global function such as `range` or `raise_exception`.
    case function(String)
    /// A method looked up on a value, such as `content.strip`.
    case method(JinjaValue, String)

    var isTrue: Bool {
        switch self {
        case .undefined, .none: false
        case .bool(let value): value
        case .int(let value): value != 0
        case .double(let value): value != 0
        case .string(let value): !value.isEmpty
        case .list(let items): !items.isEmpty
        case .dictionary(let dictionary): !dictionary.pairs.isEmpty
        default: true
        }
    }

    var isUndefined: Bool { if case .undefined = self { true } else { false } }

    /// Python's `str()`.
    var text: String {
        switch self {
        case .undefined: ""
        case .string(let value): value
        default: representation
        }
    }

    /// Python's `repr()`, which is what `str()` of a list or dict shows for its items.
    var representation: String {
        switch self {
        case .undefined: ""
        case .none: "None"
        case .bool(let value): value ? "True" : "False"
        case .int(let value): String(value)
        case .double(let value): Self.pythonFloat(value)
        case .string(let value): Self.pythonQuoted(value)
        case .list(let items): "[" + items.map(\.representation).joined(separator: ", ") + "]"
        case .dictionary(let dictionary):
            "{" + dictionary.pairs.map { Self.pythonQuoted($0.key) + ": " + $0.value.representation }.joined(separator: ", ") + "}"
        case .namespace: "<Namespace>"
        case .macro(let macro): "<Macro '\(macro.name)'>"
        case .function(let name): "<function \(name)>"
        case .method(_, let name): "<method \(name)>"
        }
    }

    var typeName: String {
        switch self {
        case .undefined: "undefined"
        case .none: "NoneType"
        case .bool: "bool"
        case .int: "int"
        case .double: "float"
        case .string: "str"
        case .list: "list"
        case .dictionary: "dict"
        case .namespace: "Namespace"
        case .macro, .function, .method: "function"
        }
    }

    /// Python's `float.__repr__`: integral values keep a ".0".
    static func pythonFloat(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        let text = "\(value)"
        return text.contains(".") || text.contains("e") ? text : text + ".0"
    }

    static func pythonQuoted(_ text: String) -> String {
        let quote: Unicode.Scalar = text.contains("'") && !text.contains("\"") ? "\"" : "'"
        var result = String.UnicodeScalarView([quote])
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": result.append(contentsOf: "\\n".unicodeScalars)
            case "\r": result.append(contentsOf: "\\r".unicodeScalars)
            case "\t": result.append(contentsOf: "\\t".unicodeScalars)
            case quote: result.append(contentsOf: "\\\(quote)".unicodeScalars)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    result.append(contentsOf: "\\x\(hex.count == 1 ? "0" : "")\(hex)".unicodeScalars)
                } else {
                    result.append(scalar)
                }
            }
        }
        result.append(quote)
        return String(result)
    }
}

/// A dict with string keys in insertion order.
struct JinjaDictionary: Sendable {
    var pairs: [(key: String, value: JinjaValue)] = []

    subscript(key: String) -> JinjaValue? {
        get { pairs.first { $0.key.unicodeScalars.elementsEqual(key.unicodeScalars) }?.value }
        set {
            if let index = pairs.firstIndex(where: { $0.key.unicodeScalars.elementsEqual(key.unicodeScalars) }) {
                if let newValue { pairs[index].value = newValue } else { pairs.remove(at: index) }
            } else if let newValue {
                pairs.append((key, newValue))
            }
        }
    }
}

// MARK: - Python comparisons

extension JinjaValue {
    /// Python's `==`: numbers compare across int, float and bool; strings compare code point by code point.
    func isEqual(to other: JinjaValue) -> Bool {
        switch (self, other) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let left), .string(let right)): return left.unicodeScalars.elementsEqual(right.unicodeScalars)
        case (.list(let left), .list(let right)):
            return left.count == right.count && zip(left, right).allSatisfy { $0.isEqual(to: $1) }
        case (.dictionary(let left), .dictionary(let right)):
            return left.pairs.count == right.pairs.count
                && left.pairs.allSatisfy { pair in right[pair.key].map { $0.isEqual(to: pair.value) } ?? false }
        case (.namespace(let left), .namespace(let right)): return left == right
        default:
            guard let left = number, let right = other.number else { return false }
            return left == right
        }
    }

    /// The value as a number when it is an int, float or bool.
    var number: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        case .bool(let value): value ? 1 : 0
        default: nil
        }
    }

    /// Python's `<`, for numbers, strings (by code point) and lists.
    func isLess(than other: JinjaValue) throws -> Bool {
        switch (self, other) {
        case (.string(let left), .string(let right)):
            return left.unicodeScalars.lexicographicallyPrecedes(right.unicodeScalars) { $0.value < $1.value }
        case (.list(let left), .list(let right)):
            for (a, b) in zip(left, right) where !a.isEqual(to: b) { return try a.isLess(than: b) }
            return left.count < right.count
        default:
            guard let left = number, let right = other.number else {
                throw JinjaRuntimeError("cannot compare \(typeName) with \(other.typeName)")
            }
            return left < right
        }
    }
}

struct JinjaRuntimeError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
