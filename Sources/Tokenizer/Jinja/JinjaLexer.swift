/// The lexical pieces of a Jinja template, in the environment `transformers` renders chat templates
/// with: `trim_blocks` and `lstrip_blocks` on, newlines normalized, one trailing newline dropped.
enum JinjaSegment: Sendable {
    case text(String)
    case expression([JinjaToken], line: Int)
    case statement([JinjaToken], line: Int)
}

enum JinjaToken: Sendable, Equatable {
    case name(String)
    case string(String)
    case integer(Int)
    case float(Double)
    case symbol(String)
}

struct JinjaSyntaxError: Error {
    let line: Int
    let message: String
}

enum JinjaLexer {
    private enum TagKind { case expression, statement, comment }

    static func segments(_ source: String) throws -> [JinjaSegment] {
        var text = source.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        if text.hasSuffix("\n") { text.removeLast() }
        let scalars = Array(text.unicodeScalars)
        var segments: [JinjaSegment] = []
        var pendingText = String.UnicodeScalarView()
        var position = 0
        var line = 1
        /// Set by `-%}` (strip all following whitespace) or a block end under trim_blocks (one newline).
        var stripNextText = false
        var dropNextNewline = false
        /// Whether the text since the last tag starts a line (Jinja's `line_starting`, for lstrip_blocks).
        var lineStarting = true

        func flushText() {
            segments.append(.text(String(pendingText)))
            pendingText = String.UnicodeScalarView()
        }

        while position < scalars.count {
            guard let kind = tagKind(scalars, at: position) else {
                let scalar = scalars[position]
                if stripNextText, scalar.properties.isWhitespace {
                    lineStarting = scalar == "\n"
                } else if dropNextNewline, scalar == "\n" {
                    dropNextNewline = false
                    lineStarting = true
                } else {
                    stripNextText = false
                    dropNextNewline = false
                    pendingText.append(scalar)
                }
                if scalar == "\n" { line += 1 }
                position += 1
                continue
            }
            position += 2
            let modifier = position < scalars.count ? scalars[position] : nil
            if modifier == "-" || modifier == "+" { position += 1 }
            if modifier == "-" {
                while let last = pendingText.last, last.properties.isWhitespace { pendingText.removeLast() }
            } else if kind != .expression, modifier != "+" {
                stripLineIndent(&pendingText, lineStarting: lineStarting)
            }
            flushText()
            (stripNextText, dropNextNewline, lineStarting) = (false, false, false)
            let tagLine = line
            if kind == .comment {
                guard let end = find(["#", "}"], in: scalars, from: position) else {
                    throw JinjaSyntaxError(line: tagLine, message: "unclosed comment")
                }
                line += scalars[position..<end].filter { $0 == "\n" }.count
                let closing = end > position ? scalars[end - 1] : nil
                position = end + 2
                (stripNextText, dropNextNewline) = (closing == "-", closing != "+")
                continue
            }
            var tokens: [JinjaToken] = []
            let closer: Unicode.Scalar = kind == .expression ? "}" : "%"
            /// Open brackets: `{{ {'a': {}} }}` does not end at the first `}}`.
            var depth = 0
            while true {
                while position < scalars.count, scalars[position].properties.isWhitespace {
                    if scalars[position] == "\n" { line += 1 }
                    position += 1
                }
                guard position < scalars.count else { throw JinjaSyntaxError(line: tagLine, message: "unclosed tag") }
                if depth == 0, let length = closingLength(scalars, at: position, closer: closer) {
                    let closing = length == 3 ? scalars[position] : nil
                    position += length
                    if closing == "-" {
                        stripNextText = true
                    } else if kind == .statement, closing != "+" {
                        dropNextNewline = true
                    }
                    break
                }
                let token = try token(scalars, at: &position, line: line)
                if case .symbol(let symbol) = token {
                    if ["(", "[", "{"].contains(symbol) { depth += 1 }
                    if [")", "]", "}"].contains(symbol) { depth = max(depth - 1, 0) }
                }
                tokens.append(token)
            }
            segments.append(kind == .expression ? .expression(tokens, line: tagLine) : .statement(tokens, line: tagLine))
        }
        flushText()
        return segments.filter { if case .text(let text) = $0 { !text.isEmpty } else { true } }
    }

    private static func tagKind(_ scalars: [Unicode.Scalar], at position: Int) -> TagKind? {
        guard scalars[position] == "{", position + 1 < scalars.count else { return nil }
        switch scalars[position + 1] {
        case "{": return .expression
        case "%": return .statement
        case "#": return .comment
        default: return nil
        }
    }

    /// lstrip_blocks: whitespace between the start of a line and a block tag is dropped.
    private static func stripLineIndent(_ text: inout String.UnicodeScalarView, lineStarting: Bool) {
        var index = text.endIndex
        while index > text.startIndex {
            let previous = text.index(before: index)
            let scalar = text[previous]
            if scalar == "\n" { break }
            guard scalar.properties.isWhitespace else { return }
            index = previous
        }
        if index == text.startIndex, !lineStarting { return }
        text.removeSubrange(index...)
    }

    /// The length of `}}`/`%}`, optionally preceded by `-` or `+`, at `position`.
    private static func closingLength(_ scalars: [Unicode.Scalar], at position: Int, closer: Unicode.Scalar) -> Int? {
        func matches(_ offset: Int) -> Bool {
            position + offset + 1 < scalars.count && scalars[position + offset] == closer && scalars[position + offset + 1] == "}"
        }
        if matches(0) { return 2 }
        if scalars[position] == "-" || scalars[position] == "+", matches(1) { return 3 }
        return nil
    }

    private static func find(_ pair: [Unicode.Scalar], in scalars: [Unicode.Scalar], from start: Int) -> Int? {
        var index = start
        while index + 1 < scalars.count {
            if scalars[index] == pair[0], scalars[index + 1] == pair[1] { return index }
            index += 1
        }
        return nil
    }

    private static let symbols = ["**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=",
                                  "(", ")", "[", "]", "{", "}", ",", ".", ":", "|"]

    private static func token(_ scalars: [Unicode.Scalar], at position: inout Int, line: Int) throws -> JinjaToken {
        let scalar = scalars[position]
        if scalar.properties.isAlphabetic || scalar == "_" {
            var name = String.UnicodeScalarView()
            while position < scalars.count, scalars[position].properties.isAlphabetic || scalars[position] == "_"
                    || ("0"..."9").contains(scalars[position]) {
                name.append(scalars[position])
                position += 1
            }
            return .name(String(name))
        }
        if ("0"..."9").contains(scalar) {
            var digits = ""
            while position < scalars.count, ("0"..."9").contains(scalars[position]) || scalars[position] == "_" {
                if scalars[position] != "_" { digits.unicodeScalars.append(scalars[position]) }
                position += 1
            }
            var isFloat = false
            if position + 1 < scalars.count, scalars[position] == ".", ("0"..."9").contains(scalars[position + 1]) {
                isFloat = true
                digits += "."
                position += 1
                while position < scalars.count, ("0"..."9").contains(scalars[position]) {
                    digits.unicodeScalars.append(scalars[position])
                    position += 1
                }
            }
            // An exponent, as in 1e3 or 2.5E-4.
            if position + 1 < scalars.count, scalars[position] == "e" || scalars[position] == "E" {
                var end = position + 1
                if end < scalars.count, scalars[end] == "+" || scalars[end] == "-" { end += 1 }
                if end < scalars.count, ("0"..."9").contains(scalars[end]) {
                    isFloat = true
                    while end < scalars.count, ("0"..."9").contains(scalars[end]) { end += 1 }
                    digits += String(String.UnicodeScalarView(scalars[position..<end]))
                    position = end
                }
            }
            if isFloat { return .float(Double(digits)!) }
            guard let value = Int(digits) else { throw JinjaSyntaxError(line: line, message: "integer \(digits) is too large") }
            return .integer(value)
        }
        if scalar == "'" || scalar == "\"" {
            return .string(try stringLiteral(scalars, at: &position, line: line))
        }
        for symbol in symbols where position + symbol.unicodeScalars.count <= scalars.count
            && symbol.unicodeScalars.elementsEqual(scalars[position..<position + symbol.unicodeScalars.count]) {
            position += symbol.unicodeScalars.count
            return .symbol(symbol)
        }
        throw JinjaSyntaxError(line: line, message: "unexpected character \"\(scalar)\"")
    }

    /// A quoted string with Python's escapes (`\n`, `\t`, `\xhh`, `\uXXXX`, ...); unknown escapes
    /// keep their backslash, as in Python.
    private static func stringLiteral(_ scalars: [Unicode.Scalar], at position: inout Int, line: Int) throws -> String {
        let quote = scalars[position]
        position += 1
        var result = String.UnicodeScalarView()
        while position < scalars.count {
            let scalar = scalars[position]
            position += 1
            if scalar == quote { return String(result) }
            guard scalar == "\\", position < scalars.count else {
                result.append(scalar)
                continue
            }
            let escape = scalars[position]
            position += 1
            switch escape {
            case "n": result.append("\n")
            case "t": result.append("\t")
            case "r": result.append("\r")
            case "\\", "'", "\"": result.append(escape)
            case "\n": break
            case "a": result.append("\u{07}")
            case "b": result.append("\u{08}")
            case "f": result.append("\u{0C}")
            case "v": result.append("\u{0B}")
            case "0"..."7":
                var value = escape.value - 0x30
                var count = 1
                while count < 3, position < scalars.count, ("0"..."7").contains(scalars[position]) {
                    value = value * 8 + scalars[position].value - 0x30
                    position += 1
                    count += 1
                }
                result.append(Unicode.Scalar(value)!)
            case "x", "u", "U":
                let width = escape == "x" ? 2 : escape == "u" ? 4 : 8
                guard position + width <= scalars.count,
                      let value = UInt32(String(String.UnicodeScalarView(scalars[position..<position + width])), radix: 16),
                      let decoded = Unicode.Scalar(value)
                else { throw JinjaSyntaxError(line: line, message: "invalid \\\(escape) escape in string") }
                result.append(decoded)
                position += width
            default:
                result.append("\\")
                result.append(escape)
            }
        }
        throw JinjaSyntaxError(line: line, message: "unterminated string")
    }
}
