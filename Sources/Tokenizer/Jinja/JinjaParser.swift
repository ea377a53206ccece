/// A parsed Jinja template: text, `{{ }}` outputs and `{% %}` statements.
indirect enum JinjaNode: Sendable {
    case text(String)
    case output(JinjaExpression)
    case conditional(branches: [(condition: JinjaExpression, body: [JinjaNode])], otherwise: [JinjaNode])
    case loop(JinjaLoop)
    case assignment(target: JinjaTarget, value: JinjaExpression)
    case blockAssignment(name: String, body: [JinjaNode])
    case macro(JinjaMacro)
    case breakLoop
    case continueLoop
}

struct JinjaLoop: Sendable {
    let target: JinjaTarget
    let iterable: JinjaExpression
    let filter: JinjaExpression?
    let body: [JinjaNode]
    let otherwise: [JinjaNode]
}

struct JinjaMacro: Sendable {
    let name: String
    let parameters: [(name: String, defaultValue: JinjaExpression?)]
    let body: [JinjaNode]
}

enum JinjaTarget: Sendable {
    case name(String)
    case tuple([String])
    /// `ns.attribute`, assignable when `ns` is a namespace.
    case attribute(object: String, name: String)
}

indirect enum JinjaExpression: Sendable {
    case literal(JinjaValue)
    case variable(String)
    case list([JinjaExpression])
    case dictionary([(key: JinjaExpression, value: JinjaExpression)])
    case attribute(JinjaExpression, String)
    case item(JinjaExpression, JinjaExpression)
    case slice(JinjaExpression, start: JinjaExpression?, stop: JinjaExpression?, step: JinjaExpression?)
    case call(JinjaExpression, JinjaArguments)
    case filter(JinjaExpression, name: String, JinjaArguments)
    case test(JinjaExpression, name: String, JinjaArguments, negated: Bool)
    case not(JinjaExpression)
    case negate(JinjaExpression)
    case binary(String, JinjaExpression, JinjaExpression)
    case and(JinjaExpression, JinjaExpression)
    case or(JinjaExpression, JinjaExpression)
    case comparison(JinjaExpression, [(symbol: String, operand: JinjaExpression)])
    case conditional(then: JinjaExpression, condition: JinjaExpression, otherwise: JinjaExpression?)
}

struct JinjaArguments: Sendable {
    var positional: [JinjaExpression] = []
    var named: [(name: String, value: JinjaExpression)] = []
}

/// Recursive descent over the lexer's segments, following Jinja's operator precedence: conditional,
/// `or`, `and`, `not`, comparisons, `+ -`, `~`, `* / // %`, `**`, unary minus, then postfix access,
/// filters and tests.
struct JinjaParser {
    private let segments: [JinjaSegment]
    private var segmentIndex = 0
    private var tokens: [JinjaToken] = []
    private var tokenIndex = 0
    private var line = 1

    static func parse(_ source: String) throws -> [JinjaNode] {
        var parser = JinjaParser(segments: try JinjaLexer.segments(source))
        let (nodes, end) = try parser.parseBlock(until: [])
        if let end { throw JinjaSyntaxError(line: parser.line, message: "unexpected {% \(end) %}") }
        return nodes
    }

    private init(segments: [JinjaSegment]) { self.segments = segments }

    // MARK: Statements

    /// Nodes up to one of the `terminators` statements (returned, with its tokens still to read), or
    /// to the end of the template (nil).
    private mutating func parseBlock(until terminators: Set<String>) throws -> ([JinjaNode], String?) {
        var nodes: [JinjaNode] = []
        while segmentIndex < segments.count {
            let segment = segments[segmentIndex]
            segmentIndex += 1
            switch segment {
            case .text(let text):
                nodes.append(.text(text))
            case .expression(let expressionTokens, let line):
                begin(expressionTokens, line: line)
                nodes.append(.output(try parseExpression()))
                try expectEnd()
            case .statement(let statementTokens, let line):
                begin(statementTokens, line: line)
                let keyword = try name()
                if terminators.contains(keyword) { return (nodes, keyword) }
                if let node = try parseStatement(keyword) { nodes.append(node) }
            }
        }
        guard terminators.isEmpty else {
            throw JinjaSyntaxError(line: line, message: "missing {% \(terminators.sorted().joined(separator: " or ")) %}")
        }
        return (nodes, nil)
    }

    private mutating func begin(_ newTokens: [JinjaToken], line newLine: Int) {
        tokens = newTokens
        tokenIndex = 0
        line = newLine
    }

    private mutating func parseStatement(_ keyword: String) throws -> JinjaNode? {
        switch keyword {
        case "if":
            var branches = [(condition: try parseExpression(), body: [JinjaNode]())]
            try expectEnd()
            while true {
                let (body, end) = try parseBlock(until: ["elif", "else", "endif"])
                branches[branches.count - 1].body = body
                switch end {
                case "elif":
                    branches.append((try parseExpression(), []))
                    try expectEnd()
                case "else":
                    try expectEnd()
                    let (otherwise, _) = try parseBlock(until: ["endif"])
                    try expectEnd()
                    return .conditional(branches: branches, otherwise: otherwise)
                default:
                    try expectEnd()
                    return .conditional(branches: branches, otherwise: [])
                }
            }
        case "for":
            let target = try parseTarget()
            try expectName("in")
            let iterable = try parseExpression(allowConditional: false)
            let filter = try accept(.name("if")) ? try parseExpression(allowConditional: false) : nil
            _ = try accept(.name("recursive"))
            try expectEnd()
            let (body, end) = try parseBlock(until: ["else", "endfor"])
            var otherwise: [JinjaNode] = []
            try expectEnd()
            if end == "else" {
                (otherwise, _) = try parseBlock(until: ["endfor"])
                try expectEnd()
            }
            return .loop(JinjaLoop(target: target, iterable: iterable, filter: filter, body: body, otherwise: otherwise))
        case "set":
            let target = try parseTarget()
            if try accept(.symbol("=")) {
                let value = try parseTupleOrExpression()
                try expectEnd()
                return .assignment(target: target, value: value)
            }
            guard case .name(let name) = target else { throw error("a block set needs a plain name") }
            try expectEnd()
            let (body, _) = try parseBlock(until: ["endset"])
            try expectEnd()
            return .blockAssignment(name: name, body: body)
        case "macro":
            let name = try self.name()
            try expect(.symbol("("))
            var parameters: [(name: String, defaultValue: JinjaExpression?)] = []
            while !(try accept(.symbol(")"))) {
                if !parameters.isEmpty { try expect(.symbol(",")) }
                if try accept(.symbol(")")) { break }
                let parameter = try self.name()
                parameters.append((parameter, try accept(.symbol("=")) ? try parseExpression() : nil))
            }
            try expectEnd()
            let (body, _) = try parseBlock(until: ["endmacro"])
            try expectEnd()
            return .macro(JinjaMacro(name: name, parameters: parameters, body: body))
        case "generation":
            // transformers' {% generation %} marks assistant text for masks; it renders its body.
            try expectEnd()
            let (body, _) = try parseBlock(until: ["endgeneration"])
            try expectEnd()
            return .conditional(branches: [(.literal(.bool(true)), body)], otherwise: [])
        case "break":
            try expectEnd()
            return .breakLoop
        case "continue":
            try expectEnd()
            return .continueLoop
        default:
            throw error("unsupported statement {% \(keyword) %}")
        }
    }

    private mutating func parseTarget() throws -> JinjaTarget {
        let first = try name()
        if try accept(.symbol(".")) { return .attribute(object: first, name: try name()) }
        guard try accept(.symbol(",")) else { return .name(first) }
        var names = [first]
        repeat { names.append(try name()) } while try accept(.symbol(","))
        return .tuple(names)
    }

    // MARK: Expressions

    /// `a, b` without brackets makes a tuple (a list here), as in `{% set x = 1, 2 %}`.
    private mutating func parseTupleOrExpression() throws -> JinjaExpression {
        let first = try parseExpression()
        guard peek == .symbol(",") else { return first }
        var items = [first]
        while try accept(.symbol(",")) { items.append(try parseExpression()) }
        return .list(items)
    }

    private mutating func parseExpression(allowConditional: Bool = true) throws -> JinjaExpression {
        let value = try parseOr()
        guard allowConditional, try accept(.name("if")) else { return value }
        let condition = try parseOr()
        let otherwise = try accept(.name("else")) ? try parseExpression() : nil
        return .conditional(then: value, condition: condition, otherwise: otherwise)
    }

    private mutating func parseOr() throws -> JinjaExpression {
        var left = try parseAnd()
        while try accept(.name("or")) { left = .or(left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws -> JinjaExpression {
        var left = try parseNot()
        while try accept(.name("and")) { left = .and(left, try parseNot()) }
        return left
    }

    private mutating func parseNot() throws -> JinjaExpression {
        if try accept(.name("not")) { return .not(try parseNot()) }
        return try parseComparison()
    }

    private mutating func parseComparison() throws -> JinjaExpression {
        let left = try parseSum()
        var operations: [(symbol: String, operand: JinjaExpression)] = []
        while true {
            if case .symbol(let symbol) = peek, ["==", "!=", "<", ">", "<=", ">="].contains(symbol) {
                tokenIndex += 1
                operations.append((symbol, try parseSum()))
            } else if try accept(.name("in")) {
                operations.append(("in", try parseSum()))
            } else if peek == .name("not"), tokenIndex + 1 < tokens.count, tokens[tokenIndex + 1] == .name("in") {
                tokenIndex += 2
                operations.append(("not in", try parseSum()))
            } else {
                break
            }
        }
        return operations.isEmpty ? left : .comparison(left, operations)
    }

    private mutating func parseSum() throws -> JinjaExpression {
        var left = try parseConcatenation()
        while case .symbol(let symbol) = peek, symbol == "+" || symbol == "-" {
            tokenIndex += 1
            left = .binary(symbol, left, try parseConcatenation())
        }
        return left
    }

    private mutating func parseConcatenation() throws -> JinjaExpression {
        var left = try parseProduct()
        while try accept(.symbol("~")) { left = .binary("~", left, try parseProduct()) }
        return left
    }

    private mutating func parseProduct() throws -> JinjaExpression {
        var left = try parsePower()
        while case .symbol(let symbol) = peek, ["*", "/", "//", "%"].contains(symbol) {
            tokenIndex += 1
            left = .binary(symbol, left, try parsePower())
        }
        return left
    }

    private mutating func parsePower() throws -> JinjaExpression {
        var left = try parseUnary()
        while try accept(.symbol("**")) { left = .binary("**", left, try parseUnary()) }
        return left
    }

    /// Unary minus or plus, then postfix access, then (unless right after a sign) filters and tests.
    private mutating func parseUnary(withFilters: Bool = true) throws -> JinjaExpression {
        let base: JinjaExpression
        if try accept(.symbol("-")) {
            base = .negate(try parseUnary(withFilters: false))
        } else if try accept(.symbol("+")) {
            base = try parseUnary(withFilters: false)
        } else {
            base = try parsePrimary()
        }
        let value = try parsePostfix(base)
        return withFilters ? try parseFilters(value) : value
    }

    /// `| filter(args)` and `is [not] test(args)`, each followed by more postfix access.
    private mutating func parseFilters(_ base: JinjaExpression) throws -> JinjaExpression {
        var value = base
        while true {
            if try accept(.symbol("|")) {
                let name = try dottedName()
                value = try parsePostfix(.filter(value, name: name, try parseArgumentsIfPresent()))
            } else if try accept(.name("is")) {
                let negated = try accept(.name("not"))
                let name = try dottedName()
                var arguments = try parseArgumentsIfPresent()
                if arguments.positional.isEmpty, startsTestArgument {
                    arguments.positional = [try parsePostfix(try parsePrimary())]
                }
                value = .test(value, name: name, arguments, negated: negated)
            } else {
                return value
            }
        }
    }

    /// Jinja lets a test take one argument without parentheses: `x is divisibleby 3`.
    private var startsTestArgument: Bool {
        switch peek {
        case .string, .integer, .float: true
        case .name(let name): !["and", "or", "else", "if", "in", "not", "is"].contains(name)
        case .symbol(let symbol): symbol == "[" || symbol == "{"
        case nil: false
        }
    }

    private mutating func dottedName() throws -> String {
        var name = try self.name()
        while try accept(.symbol(".")) { name += "." + (try self.name()) }
        return name
    }

    private mutating func parseArgumentsIfPresent() throws -> JinjaArguments {
        guard try accept(.symbol("(")) else { return JinjaArguments() }
        return try parseArguments()
    }

    /// After `(`: positional and `name=value` arguments up to `)`.
    private mutating func parseArguments() throws -> JinjaArguments {
        var arguments = JinjaArguments()
        while !(try accept(.symbol(")"))) {
            if !arguments.positional.isEmpty || !arguments.named.isEmpty {
                try expect(.symbol(","))
                if try accept(.symbol(")")) { break }
            }
            if case .name(let name) = peek, tokenIndex + 1 < tokens.count, tokens[tokenIndex + 1] == .symbol("=") {
                tokenIndex += 2
                arguments.named.append((name, try parseExpression()))
            } else {
                arguments.positional.append(try parseExpression())
            }
        }
        return arguments
    }

    private mutating func parsePostfix(_ base: JinjaExpression) throws -> JinjaExpression {
        var value = base
        while true {
            if try accept(.symbol(".")) {
                if case .integer(let index) = peek {
                    tokenIndex += 1
                    value = .item(value, .literal(.int(index)))
                } else {
                    value = .attribute(value, try name())
                }
            } else if try accept(.symbol("[")) {
                value = try parseSubscript(value)
            } else if try accept(.symbol("(")) {
                value = .call(value, try parseArguments())
            } else {
                return value
            }
        }
    }

    /// After `[`: an index, or a slice `start:stop:step` with any part left out.
    private mutating func parseSubscript(_ base: JinjaExpression) throws -> JinjaExpression {
        var parts: [JinjaExpression?] = [nil]
        var isSlice = false
        while !(try accept(.symbol("]"))) {
            if try accept(.symbol(":")) {
                isSlice = true
                parts.append(nil)
            } else {
                guard parts[parts.count - 1] == nil else { throw error("expected ']'") }
                parts[parts.count - 1] = try parseExpression()
            }
        }
        guard isSlice else {
            guard let index = parts[0] else { throw error("empty subscript") }
            return .item(base, index)
        }
        guard parts.count <= 3 else { throw error("a slice has at most three parts") }
        return .slice(base, start: parts[0], stop: parts.count > 1 ? parts[1] : nil, step: parts.count > 2 ? parts[2] : nil)
    }

    private mutating func parsePrimary() throws -> JinjaExpression {
        guard let token = peek else { throw error("unexpected end of expression") }
        tokenIndex += 1
        switch token {
        case .string(var text):
            // Adjacent string literals concatenate, as in Python.
            while case .string(let more) = peek {
                text += more
                tokenIndex += 1
            }
            return .literal(.string(text))
        case .integer(let value):
            return .literal(.int(value))
        case .float(let value):
            return .literal(.double(value))
        case .name(let name):
            switch name {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .variable(name)
            }
        case .symbol("("):
            if try accept(.symbol(")")) { return .list([]) }
            let first = try parseExpression()
            if try accept(.symbol(")")) { return first }
            var items = [first]
            while try accept(.symbol(",")) {
                if peek == .symbol(")") { break }
                items.append(try parseExpression())
            }
            try expect(.symbol(")"))
            return .list(items)
        case .symbol("["):
            var items: [JinjaExpression] = []
            while !(try accept(.symbol("]"))) {
                if !items.isEmpty {
                    try expect(.symbol(","))
                    if try accept(.symbol("]")) { break }
                }
                items.append(try parseExpression())
            }
            return .list(items)
        case .symbol("{"):
            var pairs: [(key: JinjaExpression, value: JinjaExpression)] = []
            while !(try accept(.symbol("}"))) {
                if !pairs.isEmpty {
                    try expect(.symbol(","))
                    if try accept(.symbol("}")) { break }
                }
                let key = try parseExpression()
                try expect(.symbol(":"))
                pairs.append((key, try parseExpression()))
            }
            return .dictionary(pairs)
        default:
            throw error("unexpected \(describe(token))")
        }
    }

    // MARK: Tokens

    private var peek: JinjaToken? { tokenIndex < tokens.count ? tokens[tokenIndex] : nil }

    private mutating func accept(_ token: JinjaToken) throws -> Bool {
        guard peek == token else { return false }
        tokenIndex += 1
        return true
    }

    private mutating func expect(_ token: JinjaToken) throws {
        guard try accept(token) else {
            throw error("expected \(describe(token))\(peek.map { ", found \(describe($0))" } ?? " before the end of the tag")")
        }
    }

    private mutating func expectName(_ name: String) throws { try expect(.name(name)) }

    private mutating func expectEnd() throws {
        if let token = peek { throw error("unexpected \(describe(token))") }
    }

    private mutating func name() throws -> String {
        guard case .name(let name) = peek else {
            throw error("expected a name\(peek.map { ", found \(describe($0))" } ?? "")")
        }
        tokenIndex += 1
        return name
    }

    private func describe(_ token: JinjaToken) -> String {
        switch token {
        case .name(let name): "'\(name)'"
        case .string(let text): text.debugDescription
        case .integer(let value): "\(value)"
        case .float(let value): "\(value)"
        case .symbol(let symbol): "'\(symbol)'"
        }
    }

    private func error(_ message: String) -> JinjaSyntaxError { JinjaSyntaxError(line: line, message: message) }
}
