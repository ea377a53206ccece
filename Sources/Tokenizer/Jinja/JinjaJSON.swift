/// The `tojson` filter as transformers defines it: Python's `json.dumps` with `ensure_ascii=False`
/// (no HTML escaping, unlike Jinja's own filter).
enum JSONText {
    static func serialize(_ value: JinjaValue, indent: Int?, sortKeys: Bool) throws -> String {
        var output = ""
        try write(value, indent: indent, sortKeys: sortKeys, level: 0, into: &output)
        return output
    }

    private static func write(_ value: JinjaValue, indent: Int?, sortKeys: Bool, level: Int, into output: inout String) throws {
        switch value {
        case .none: output += "null"
        case .bool(let flag): output += flag ? "true" : "false"
        case .int(let number): output += String(number)
        case .double(let number):
            output += number.isNaN ? "NaN" : number.isInfinite ? (number < 0 ? "-Infinity" : "Infinity") : JinjaValue.pythonFloat(number)
        case .string(let text): output += quoted(text)
        case .list(let items):
            try writeContainer(items.map { (nil, $0) }, brackets: ("[", "]"), indent: indent, sortKeys: sortKeys, level: level, into: &output)
        case .dictionary(let dictionary):
            var pairs = dictionary.pairs
            if sortKeys { pairs.sort { $0.key.unicodeScalars.lexicographicallyPrecedes($1.key.unicodeScalars) { $0.value < $1.value } } }
            try writeContainer(pairs.map { ($0.key, $0.value) }, brackets: ("{", "}"), indent: indent, sortKeys: sortKeys, level: level, into: &output)
        default:
            throw JinjaRuntimeError("Object of type \(value.typeName) is not JSON serializable")
        }
    }

    /// Python's layout: `[1, 2]` and `{"a": 1}` on one line, or one item per line under `indent`.
    private static func writeContainer(_ items: [(key: String?, value: JinjaValue)], brackets: (String, String),
                                       indent: Int?, sortKeys: Bool, level: Int, into output: inout String) throws {
        output += brackets.0
        guard !items.isEmpty else { return output += brackets.1 }
        let newline = indent.map { "\n" + String(repeating: " ", count: $0 * (level + 1)) }
        for (index, item) in items.enumerated() {
            if index > 0 { output += indent == nil ? ", " : "," }
            if let newline { output += newline }
            if let key = item.key { output += quoted(key) + ": " }
            try write(item.value, indent: indent, sortKeys: sortKeys, level: level + 1, into: &output)
        }
        if let indent { output += "\n" + String(repeating: " ", count: indent * level) }
        output += brackets.1
    }

    private static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{08}": result += "\\b"
            case "\u{0C}": result += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
