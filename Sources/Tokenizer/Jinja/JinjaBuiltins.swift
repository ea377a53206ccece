/// Jinja's filters and tests, and the Python methods of str, list and dict that chat templates call.
extension JinjaRenderer {
    static let stringMethods: Set<String> = ["strip", "lstrip", "rstrip", "upper", "lower", "title", "capitalize",
                                             "startswith", "endswith", "split", "replace", "find", "join", "count"]
    static let listMethods: Set<String> = ["index", "count"]
    static let dictionaryMethods: Set<String> = ["items", "keys", "values", "get"]

    // MARK: Filters

    mutating func applyFilter(_ name: String, to value: JinjaValue, with arguments: EvaluatedArguments) throws -> JinjaValue {
        let argument = { (name: String, position: Int) in arguments.value(name, at: position) }
        switch name {
        case "trim":
            return .string(Self.strip(value.text, characters: argument("chars", 0)?.text, leading: true, trailing: true))
        case "upper", "lower", "title", "capitalize":
            return try callMethod(name, on: .string(value.text), with: EvaluatedArguments(positional: [], named: []))
        case "replace":
            return try callMethod("replace", on: .string(value.text), with: arguments)
        case "length", "count":
            switch value {
            case .string(let text): return .int(text.unicodeScalars.count)
            case .list(let items): return .int(items.count)
            case .dictionary(let dictionary): return .int(dictionary.pairs.count)
            case .undefined: return .int(0)
            default: throw JinjaRuntimeError("object of type '\(value.typeName)' has no len()")
            }
        case "first", "last":
            let items = try iterate(value)
            return (name == "first" ? items.first : items.last) ?? .undefined("\(name) of an empty sequence")
        case "join":
            var items = try iterate(value)
            if let attribute = argument("attribute", 1) { items = try items.map { try attributeOrItem(attribute, of: $0) } }
            return .string(items.map(\.text).joined(separator: argument("d", 0)?.text ?? ""))
        case "default", "d":
            let useDefault = argument("boolean", 1)?.isTrue == true ? !value.isTrue : value.isUndefined
            return useDefault ? argument("default_value", 0) ?? .string("") : value
        case "list":
            return .list(try iterate(value))
        case "string":
            return .string(value.text)
        case "int":
            switch value {
            case .int, .bool: return .int(value.integer!)
            case .double(let number): return .int(Int(number))
            default: return .int(Int(value.text.trimmingWhitespace) ?? argument("default", 0)?.integer ?? 0)
            }
        case "float":
            return .double(value.number ?? Double(value.text.trimmingWhitespace) ?? 0)
        case "abs":
            switch value {
            case .int(let number): return .int(abs(number))
            case .double(let number): return .double(abs(number))
            default: throw JinjaRuntimeError("bad operand type for abs(): '\(value.typeName)'")
            }
        case "reverse":
            if case .string(let text) = value { return .string(String(String.UnicodeScalarView(text.unicodeScalars.reversed()))) }
            return .list(try iterate(value).reversed())
        case "items":
            guard case .dictionary(let dictionary) = value else { throw JinjaRuntimeError("items needs a dict") }
            return .list(dictionary.pairs.map { .list([.string($0.key), $0.value]) })
        case "map":
            let items = try iterate(value)
            if let attribute = arguments.value("attribute", at: Int.max) {
                let fallback = arguments.value("default", at: Int.max)
                return .list(try items.map { item in
                    let found = try attributeOrItem(attribute, of: item)
                    return found.isUndefined ? fallback ?? found : found
                })
            }
            guard let filter = arguments.positional.first?.text else { throw JinjaRuntimeError("map needs a filter or attribute=") }
            let rest = EvaluatedArguments(positional: Array(arguments.positional.dropFirst()), named: arguments.named)
            return .list(try items.map { try applyFilter(filter, to: $0, with: rest) })
        case "select", "reject":
            let test = arguments.positional.first?.text
            let testArguments = Array(arguments.positional.dropFirst())
            return .list(try iterate(value).filter { item in
                try (test.map { try applyTest($0, to: item, with: testArguments) } ?? item.isTrue) == (name == "select")
            })
        case "selectattr", "rejectattr":
            guard let attribute = arguments.positional.first else { throw JinjaRuntimeError("\(name) needs an attribute") }
            let test = arguments.positional.count > 1 ? arguments.positional[1].text : nil
            let testArguments = Array(arguments.positional.dropFirst(2))
            return .list(try iterate(value).filter { item in
                let field = try attributeOrItem(attribute, of: item)
                return try (test.map { try applyTest($0, to: field, with: testArguments) } ?? field.isTrue) == (name == "selectattr")
            })
        case "sort":
            let key = argument("attribute", 2)
            let caseSensitive = argument("case_sensitive", 1)?.isTrue ?? false
            let sorted = try sortedStably(try iterate(value)) { item in
                try Self.sortKey(key.map { try attributeOrItem($0, of: item) } ?? item, caseSensitive: caseSensitive)
            }
            return .list(argument("reverse", 0)?.isTrue == true ? sorted.reversed() : sorted)
        case "dictsort":
            guard case .dictionary(let dictionary) = value else { throw JinjaRuntimeError("dictsort needs a dict") }
            let byValue = argument("by", 1)?.text == "value"
            let caseSensitive = argument("case_sensitive", 0)?.isTrue ?? false
            let pairs: [JinjaValue] = dictionary.pairs.map { .list([.string($0.key), $0.value]) }
            let sorted = try sortedStably(pairs) { pair in
                guard case .list(let parts) = pair else { return pair }
                return Self.sortKey(parts[byValue ? 1 : 0], caseSensitive: caseSensitive)
            }
            return .list(argument("reverse", 2)?.isTrue == true ? sorted.reversed() : sorted)
        case "unique":
            var seen: [JinjaValue] = []
            for item in try iterate(value) where !seen.contains(where: { $0.isEqual(to: item) }) { seen.append(item) }
            return .list(seen)
        case "tojson":
            let indent = argument("indent", 0)?.integer
            return .string(try JSONText.serialize(value, indent: indent, sortKeys: argument("sort_keys", Int.max)?.isTrue ?? false))
        case "indent":
            return .string(Self.indent(value.text, width: argument("width", 0) ?? .int(4),
                                       first: argument("first", 1)?.isTrue ?? false, blank: argument("blank", 2)?.isTrue ?? false))
        case "safe":
            return value
        default:
            throw JinjaRuntimeError("unsupported filter '\(name)'")
        }
    }

    /// Python's `sorted`: stable, by `key`, failing on values that do not compare.
    private func sortedStably(_ items: [JinjaValue], key: (JinjaValue) throws -> JinjaValue) throws -> [JinjaValue] {
        let keyed = try items.enumerated().map { (offset: $0.offset, key: try key($0.element), item: $0.element) }
        var failure: Error?
        let sorted = keyed.sorted { left, right in
            do {
                if try left.key.isLess(than: right.key) { return true }
                if try right.key.isLess(than: left.key) { return false }
            } catch {
                failure = error
            }
            return left.offset < right.offset
        }
        if let failure { throw failure }
        return sorted.map(\.item)
    }

    /// Jinja sorts strings case-insensitively unless asked otherwise.
    private static func sortKey(_ value: JinjaValue, caseSensitive: Bool) -> JinjaValue {
        if case .string(let text) = value, !caseSensitive { return .string(text.lowercased()) }
        return value
    }

    private func attributeOrItem(_ key: JinjaValue, of value: JinjaValue) throws -> JinjaValue {
        var current = value
        for part in key.text.split(separator: ".", omittingEmptySubsequences: false) {
            if case .dictionary(let dictionary) = current {
                current = dictionary[String(part)] ?? .undefined(String(part))
            } else if case .list(let items) = current, let index = Int(part), items.indices.contains(index) {
                current = items[index]
            } else {
                return .undefined(String(part))
            }
        }
        return current
    }

    /// Jinja's `indent`: every line but the first (unless `first`) gets the indentation; blank lines
    /// only with `blank`.
    private static func indent(_ text: String, width: JinjaValue, first: Bool, blank: Bool) -> String {
        let indentation = width.isString ? width.text : String(repeating: " ", count: width.integer ?? 4)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if text.hasSuffix("\n") { lines.removeLast() }
        guard !lines.isEmpty else { return first ? indentation : "" }
        let rest = lines.dropFirst().map { blank || !$0.isEmpty ? indentation + $0 : $0 }
        let joined = ([lines[0]] + rest).joined(separator: "\n")
        return first && (blank || !lines[0].isEmpty) ? indentation + joined : joined
    }

    // MARK: Tests

    func applyTest(_ name: String, to value: JinjaValue, with arguments: [JinjaValue]) throws -> Bool {
        let other = arguments.first ?? .undefined("test argument")
        switch name {
        case "defined": return !value.isUndefined
        case "undefined": return value.isUndefined
        case "none": if case .none = value { return true } else { return false }
        case "boolean": if case .bool = value { return true } else { return false }
        case "true": if case .bool(true) = value { return true } else { return false }
        case "false": if case .bool(false) = value { return true } else { return false }
        case "integer": if case .int = value { return true } else { return false }
        case "float": if case .double = value { return true } else { return false }
        case "number": switch value { case .int, .double, .bool: return true; default: return false }
        case "string": return value.isString
        case "mapping": if case .dictionary = value { return true } else { return false }
        case "sequence", "iterable": switch value { case .list, .string, .dictionary: return true; default: return false }
        case "callable": switch value { case .macro, .function, .method: return true; default: return false }
        case "sameas": return value.isIdentical(to: other)
        case "eq", "equalto", "==": return value.isEqual(to: other)
        case "ne", "!=": return !value.isEqual(to: other)
        case "lt", "lessthan", "<": return try value.isLess(than: other)
        case "gt", "greaterthan", ">": return try other.isLess(than: value)
        case "le", "<=": return try !other.isLess(than: value)
        case "ge", ">=": return try !value.isLess(than: other)
        case "in": return try contains(other, value)
        case "even", "odd":
            guard let number = value.integer else { throw JinjaRuntimeError("\(name) needs an integer") }
            return (number % 2 == 0) == (name == "even")
        case "divisibleby":
            guard let number = value.integer, let divisor = other.integer, divisor != 0 else {
                throw JinjaRuntimeError("divisibleby needs integers")
            }
            return number % divisor == 0
        case "lower": return value.text == value.text.lowercased()
        case "upper": return value.text == value.text.uppercased()
        default: throw JinjaRuntimeError("unsupported test '\(name)'")
        }
    }

    // MARK: Methods

    func callMethod(_ name: String, on receiver: JinjaValue, with arguments: EvaluatedArguments) throws -> JinjaValue {
        let argument = { (position: Int) in position < arguments.positional.count ? arguments.positional[position] : nil }
        switch (receiver, name) {
        case (.string(let text), "strip"), (.string(let text), "lstrip"), (.string(let text), "rstrip"):
            let characters = argument(0).flatMap { $0.isString ? $0.text : nil }
            return .string(Self.strip(text, characters: characters, leading: name != "rstrip", trailing: name != "lstrip"))
        case (.string(let text), "upper"): return .string(text.uppercased())
        case (.string(let text), "lower"): return .string(text.lowercased())
        case (.string(let text), "capitalize"): return .string(text.prefix(1).uppercased() + text.dropFirst().lowercased())
        case (.string(let text), "title"): return .string(Self.titleCased(text))
        case (.string(let text), "startswith"), (.string(let text), "endswith"):
            let candidates: [JinjaValue] = if case .list(let items)? = argument(0) { items } else { [argument(0) ?? .string("")] }
            return .bool(candidates.contains { candidate in
                let part = Array(candidate.text.unicodeScalars)
                let scalars = Array(text.unicodeScalars)
                return name == "startswith" ? scalars.starts(with: part) : scalars.reversed().starts(with: part.reversed())
            })
        case (.string(let text), "split"):
            let separator = argument(0).flatMap { $0.isString ? $0.text : nil }
            let limit = argument(1)?.integer ?? -1
            return .list(Self.split(text, separator: separator, limit: limit).map { .string($0) })
        case (.string(let text), "replace"):
            guard let old = argument(0)?.text, let new = argument(1)?.text else { throw JinjaRuntimeError("replace needs two strings") }
            let limit = argument(2)?.integer ?? arguments.value("count", at: Int.max)?.integer ?? -1
            return .string(Self.replace(old, with: new, in: text, limit: limit))
        case (.string(let text), "find"):
            let scalars = Array(text.unicodeScalars)
            let part = Array((argument(0)?.text ?? "").unicodeScalars)
            guard !part.isEmpty else { return .int(0) }
            let index = scalars.indices.first { scalars[$0...].starts(with: part) }
            return .int(index ?? -1)
        case (.string(let text), "count"):
            return .int(Self.split(text, separator: argument(0)?.text ?? "", limit: -1).count - 1)
        case (.string(let separator), "join"):
            return .string(try iterate(argument(0) ?? .list([])).map(\.text).joined(separator: separator))
        case (.list(let items), "index"):
            guard let index = items.firstIndex(where: { $0.isEqual(to: argument(0) ?? .none) }) else {
                throw JinjaRuntimeError("value is not in list")
            }
            return .int(index)
        case (.list(let items), "count"):
            return .int(items.filter { $0.isEqual(to: argument(0) ?? .none) }.count)
        case (.dictionary(let dictionary), "items"):
            return .list(dictionary.pairs.map { .list([.string($0.key), $0.value]) })
        case (.dictionary(let dictionary), "keys"):
            return .list(dictionary.pairs.map { .string($0.key) })
        case (.dictionary(let dictionary), "values"):
            return .list(dictionary.pairs.map(\.value))
        case (.dictionary(let dictionary), "get"):
            return dictionary[argument(0)?.text ?? ""] ?? argument(1) ?? .none
        default:
            throw JinjaRuntimeError("'\(receiver.typeName)' object has no method '\(name)'")
        }
    }

    /// Python's `str.strip`: whitespace by default (which includes U+001C…U+001F), else the given characters.
    static func strip(_ text: String, characters: String?, leading: Bool, trailing: Bool) -> String {
        let strippable: (Unicode.Scalar) -> Bool = if let characters {
            { characters.unicodeScalars.contains($0) }
        } else {
            { $0.properties.isWhitespace || (0x1C...0x1F).contains($0.value) }
        }
        var scalars = text.unicodeScalars[...]
        if leading { scalars = scalars.drop(while: strippable) }
        if trailing { while let last = scalars.last, strippable(last) { scalars = scalars.dropLast() } }
        return String(String.UnicodeScalarView(scalars))
    }

    /// Python's `str.split`: on runs of whitespace (dropping empty pieces) without a separator.
    private static func split(_ text: String, separator: String?, limit: Int) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var pieces: [String] = []
        var start = 0
        var index = 0
        func piece(_ range: Range<Int>) -> String { String(String.UnicodeScalarView(scalars[range])) }
        guard let separator else {
            while index < scalars.count {
                while index < scalars.count, scalars[index].properties.isWhitespace { index += 1 }
                guard index < scalars.count else { break }
                if limit >= 0, pieces.count == limit {
                    pieces.append(piece(index..<scalars.count))
                    return pieces
                }
                start = index
                while index < scalars.count, !scalars[index].properties.isWhitespace { index += 1 }
                pieces.append(piece(start..<index))
            }
            return pieces
        }
        let part = Array(separator.unicodeScalars)
        guard !part.isEmpty else { return [text] }
        while index + part.count <= scalars.count, limit < 0 || pieces.count < limit {
            if scalars[index..<index + part.count].elementsEqual(part) {
                pieces.append(piece(start..<index))
                index += part.count
                start = index
            } else {
                index += 1
            }
        }
        pieces.append(piece(start..<scalars.count))
        return pieces
    }

    private static func replace(_ old: String, with new: String, in text: String, limit: Int) -> String {
        let pieces = split(text, separator: old, limit: limit)
        guard !old.isEmpty else { return text }
        return pieces.joined(separator: new)
    }

    private static func titleCased(_ text: String) -> String {
        var result = ""
        var previousIsLetter = false
        for scalar in text.unicodeScalars {
            let isLetter = scalar.properties.isAlphabetic
            result += previousIsLetter ? String(scalar).lowercased() : String(scalar).uppercased()
            previousIsLetter = isLetter
        }
        return result
    }
}

extension JinjaValue {
    /// Python's `is`: the same singleton (None, True, False) or, for other values, equal and of one type.
    func isIdentical(to other: JinjaValue) -> Bool {
        switch (self, other) {
        case (.none, .none), (.undefined, .undefined): true
        case (.bool(let a), .bool(let b)): a == b
        case (.namespace(let a), .namespace(let b)): a == b
        default: typeName == other.typeName && isEqual(to: other)
        }
    }
}

extension String {
    var trimmingWhitespace: String { JinjaRenderer.strip(self, characters: nil, leading: true, trailing: true) }
}
