import Foundation

/// Renders a parsed template against a set of variables, as Jinja's sandboxed environment does
/// for `transformers`: undefined names render as "", `raise_exception` stops with a message.
struct JinjaRenderer {
    /// Raised by the template's `raise_exception(message)`.
    struct RaisedError: Error {
        let message: String
    }

    private enum Flow { case normal, breakLoop, continueLoop }

    /// Innermost last. Each loop iteration and each macro call opens one.
    private var scopes: [[String: JinjaValue]]
    private var namespaces: [JinjaDictionary] = []
    private var output = ""

    static func render(_ nodes: [JinjaNode], variables: [String: JinjaValue]) throws -> String {
        var renderer = JinjaRenderer(scopes: [variables])
        _ = try renderer.render(nodes)
        return renderer.output
    }

    private init(scopes: [[String: JinjaValue]]) { self.scopes = scopes }

    // MARK: Statements

    private mutating func render(_ nodes: [JinjaNode]) throws -> Flow {
        for node in nodes {
            let flow = try render(node)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private mutating func render(_ node: JinjaNode) throws -> Flow {
        switch node {
        case .text(let text):
            output += text
        case .output(let expression):
            output += try evaluate(expression).text
        case .conditional(let branches, let otherwise):
            for branch in branches where try evaluate(branch.condition).isTrue {
                return try render(branch.body)
            }
            return try render(otherwise)
        case .loop(let loop):
            try render(loop)
        case .assignment(let target, let value):
            try assign(try evaluate(value), to: target)
        case .blockAssignment(let name, let body):
            scopes[scopes.count - 1][name] = .string(try capture { _ = try $0.render(body) })
        case .macro(let macro):
            scopes[scopes.count - 1][macro.name] = .macro(macro)
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        }
        return .normal
    }

    private mutating func render(_ loop: JinjaLoop) throws {
        var items = try iterate(try evaluate(loop.iterable))
        if let filter = loop.filter {
            // The filter sees each item under the loop's names, before `loop` exists.
            scopes.append([:])
            defer { scopes.removeLast() }
            items = try items.filter { item in
                try assign(item, to: loop.target)
                return try evaluate(filter).isTrue
            }
        }
        guard !items.isEmpty else {
            _ = try render(loop.otherwise)
            return
        }
        for (index, item) in items.enumerated() {
            // Each iteration has a scope of its own: a `set` in the body does not outlive it.
            scopes.append([:])
            defer { scopes.removeLast() }
            try assign(item, to: loop.target)
            scopes[scopes.count - 1]["loop"] = .dictionary(JinjaDictionary(pairs: [
                ("index", .int(index + 1)), ("index0", .int(index)),
                ("revindex", .int(items.count - index)), ("revindex0", .int(items.count - index - 1)),
                ("first", .bool(index == 0)), ("last", .bool(index == items.count - 1)),
                ("length", .int(items.count)),
                ("previtem", index > 0 ? items[index - 1] : .undefined("loop.previtem")),
                ("nextitem", index + 1 < items.count ? items[index + 1] : .undefined("loop.nextitem")),
            ]))
            if try render(loop.body) == .breakLoop { break }
        }
    }

    private mutating func assign(_ value: JinjaValue, to target: JinjaTarget) throws {
        switch target {
        case .name(let name):
            scopes[scopes.count - 1][name] = value
        case .tuple(let names):
            let items = try iterate(value)
            guard items.count == names.count else {
                throw JinjaRuntimeError("cannot unpack \(items.count) values into \(names.count) names")
            }
            for (name, item) in zip(names, items) { scopes[scopes.count - 1][name] = item }
        case .attribute(let object, let name):
            guard case .namespace(let index) = lookup(object) else {
                throw JinjaRuntimeError("cannot assign attribute \(name) on \(object), which is not a namespace")
            }
            namespaces[index][name] = value
        }
    }

    /// Runs `body` with a fresh output and returns what it wrote.
    private mutating func capture(_ body: (inout JinjaRenderer) throws -> Void) rethrows -> String {
        let saved = output
        output = ""
        defer { output = saved }
        try body(&self)
        return output
    }

    private func lookup(_ name: String) -> JinjaValue {
        for scope in scopes.reversed() {
            if let value = scope[name] { return value }
        }
        switch name {
        case "range", "namespace", "raise_exception", "strftime_now", "dict": return .function(name)
        default: return .undefined(name)
        }
    }

    // MARK: Expressions

    mutating func evaluate(_ expression: JinjaExpression) throws -> JinjaValue {
        switch expression {
        case .literal(let value):
            return value
        case .variable(let name):
            return lookup(name)
        case .list(let items):
            return .list(try items.map { try evaluate($0) })
        case .dictionary(let pairs):
            var dictionary = JinjaDictionary()
            for pair in pairs { dictionary[try evaluate(pair.key).text] = try evaluate(pair.value) }
            return .dictionary(dictionary)
        case .attribute(let object, let name):
            return try attribute(name, of: try evaluate(object))
        case .item(let object, let key):
            return try item(try evaluate(key), of: try evaluate(object))
        case .slice(let object, let start, let stop, let step):
            return try slice(try evaluate(object), start: try start.map { try evaluate($0) },
                             stop: try stop.map { try evaluate($0) }, step: try step.map { try evaluate($0) })
        case .call(let callee, let arguments):
            return try call(try evaluate(callee), with: try evaluate(arguments))
        case .filter(let value, let name, let arguments):
            return try applyFilter(name, to: try evaluate(value), with: try evaluate(arguments))
        case .test(let value, let name, let arguments, let negated):
            return .bool(try applyTest(name, to: try evaluate(value), with: try evaluate(arguments).positional) != negated)
        case .not(let operand):
            return .bool(!(try evaluate(operand).isTrue))
        case .negate(let operand):
            switch try evaluate(operand) {
            case .int(let value): return .int(-value)
            case .double(let value): return .double(-value)
            case let value: throw JinjaRuntimeError("bad operand type for unary -: \(value.typeName)")
            }
        case .binary(let symbol, let left, let right):
            return try binary(symbol, try evaluate(left), try evaluate(right))
        case .and(let left, let right):
            let value = try evaluate(left)
            return value.isTrue ? try evaluate(right) : value
        case .or(let left, let right):
            let value = try evaluate(left)
            return value.isTrue ? value : try evaluate(right)
        case .comparison(let first, let operations):
            var left = try evaluate(first)
            for operation in operations {
                let right = try evaluate(operation.operand)
                guard try compare(left, operation.symbol, right) else { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .conditional(let then, let condition, let otherwise):
            if try evaluate(condition).isTrue { return try evaluate(then) }
            return try otherwise.map { try evaluate($0) } ?? .undefined("conditional without else")
        }
    }

    struct EvaluatedArguments {
        var positional: [JinjaValue]
        var named: [(name: String, value: JinjaValue)]

        /// The argument passed by `name`, or else the one at `position`.
        func value(_ name: String, at position: Int) -> JinjaValue? {
            named.first { $0.name == name }?.value ?? (position < positional.count ? positional[position] : nil)
        }
    }

    private mutating func evaluate(_ arguments: JinjaArguments) throws -> EvaluatedArguments {
        EvaluatedArguments(positional: try arguments.positional.map { try evaluate($0) },
                           named: try arguments.named.map { ($0.name, try evaluate($0.value)) })
    }

    private func attribute(_ name: String, of value: JinjaValue) throws -> JinjaValue {
        switch value {
        case .undefined(let what):
            throw JinjaRuntimeError("'\(what)' is undefined, so it has no attribute '\(name)'")
        case .dictionary(let dictionary):
            // Jinja looks for a Python attribute first: `d.items` is the method even if "items" is a key.
            if Self.dictionaryMethods.contains(name) { return .method(value, name) }
            return dictionary[name] ?? .undefined(name)
        case .namespace(let index):
            return namespaces[index][name] ?? .undefined(name)
        case .string where Self.stringMethods.contains(name), .list where Self.listMethods.contains(name):
            return .method(value, name)
        default:
            return .undefined(name)
        }
    }

    private func item(_ key: JinjaValue, of value: JinjaValue) throws -> JinjaValue {
        switch (value, key) {
        case (.undefined(let what), _):
            throw JinjaRuntimeError("'\(what)' is undefined, so it has no item \(key.representation)")
        case (.list(let items), .int(let index)):
            let position = index < 0 ? items.count + index : index
            return items.indices.contains(position) ? items[position] : .undefined("index \(index)")
        case (.string(let text), .int(let index)):
            let scalars = Array(text.unicodeScalars)
            let position = index < 0 ? scalars.count + index : index
            return scalars.indices.contains(position) ? .string(String(scalars[position])) : .undefined("index \(index)")
        case (.dictionary(let dictionary), _):
            return dictionary[key.text] ?? .undefined(key.text)
        case (_, .string(let name)):
            return try attribute(name, of: value)
        default:
            return .undefined(key.text)
        }
    }

    private func slice(_ value: JinjaValue, start: JinjaValue?, stop: JinjaValue?, step: JinjaValue?) throws -> JinjaValue {
        func bound(_ value: JinjaValue?) throws -> Int? {
            switch value {
            case nil, .none?: return nil
            case .int(let number)?: return number
            case let other?: throw JinjaRuntimeError("slice indices must be integers, not \(other.typeName)")
            }
        }
        let step = try bound(step) ?? 1
        guard step != 0 else { throw JinjaRuntimeError("slice step cannot be zero") }
        func indices(count: Int) throws -> [Int] {
            func clamp(_ index: Int?, _ fallback: Int) -> Int {
                guard let index else { return fallback }
                let position = index < 0 ? index + count : index
                return step > 0 ? min(max(position, 0), count) : min(max(position, -1), count - 1)
            }
            let first = clamp(try bound(start), step > 0 ? 0 : count - 1)
            let end = clamp(try bound(stop), step > 0 ? count : -1)
            return Array(stride(from: first, to: end, by: step))
        }
        switch value {
        case .list(let items):
            return .list(try indices(count: items.count).map { items[$0] })
        case .string(let text):
            let scalars = Array(text.unicodeScalars)
            return .string(String(String.UnicodeScalarView(try indices(count: scalars.count).map { scalars[$0] })))
        default:
            throw JinjaRuntimeError("cannot slice \(value.typeName)")
        }
    }

    func iterate(_ value: JinjaValue) throws -> [JinjaValue] {
        switch value {
        case .list(let items): return items
        case .dictionary(let dictionary): return dictionary.pairs.map { .string($0.key) }
        case .string(let text): return text.unicodeScalars.map { .string(String($0)) }
        case .undefined: return []
        default: throw JinjaRuntimeError("'\(value.typeName)' object is not iterable")
        }
    }

    private func binary(_ symbol: String, _ left: JinjaValue, _ right: JinjaValue) throws -> JinjaValue {
        switch (symbol, left, right) {
        case ("~", _, _):
            return .string(left.text + right.text)
        case ("+", .string(let a), .string(let b)):
            return .string(a + b)
        case ("+", .list(let a), .list(let b)):
            return .list(a + b)
        case ("*", .string(let text), .int(let count)), ("*", .int(let count), .string(let text)):
            return .string(String(repeating: text, count: max(count, 0)))
        case ("*", .list(let items), .int(let count)), ("*", .int(let count), .list(let items)):
            return .list(Array([[JinjaValue]](repeating: items, count: max(count, 0)).joined()))
        default:
            if let a = left.integer, let b = right.integer { return try integerArithmetic(symbol, a, b) }
        }
        guard let a = left.number, let b = right.number else {
            throw JinjaRuntimeError("unsupported operand types for \(symbol): '\(left.typeName)' and '\(right.typeName)'")
        }
        switch symbol {
        case "+": return .double(a + b)
        case "-": return .double(a - b)
        case "*": return .double(a * b)
        case "/":
            guard b != 0 else { throw JinjaRuntimeError("division by zero") }
            return .double(a / b)
        case "//":
            guard b != 0 else { throw JinjaRuntimeError("division by zero") }
            return .double((a / b).rounded(.down))
        case "%":
            guard b != 0 else { throw JinjaRuntimeError("modulo by zero") }
            return .double(a - b * (a / b).rounded(.down))
        case "**": return .double(pow(a, b))
        default: throw JinjaRuntimeError("unknown operator \(symbol)")
        }
    }

    private func integerArithmetic(_ symbol: String, _ a: Int, _ b: Int) throws -> JinjaValue {
        switch symbol {
        case "+": return .int(a + b)
        case "-": return .int(a - b)
        case "*": return .int(a * b)
        case "/":
            guard b != 0 else { throw JinjaRuntimeError("division by zero") }
            return .double(Double(a) / Double(b))
        case "//", "%":
            guard b != 0 else { throw JinjaRuntimeError("integer division or modulo by zero") }
            // Python rounds toward negative infinity, so the remainder has the divisor's sign.
            var quotient = a / b
            if (a % b != 0) && ((a < 0) != (b < 0)) { quotient -= 1 }
            return .int(symbol == "//" ? quotient : a - b * quotient)
        case "**":
            guard b >= 0 else { return .double(pow(Double(a), Double(b))) }
            return .int((0..<b).reduce(1) { product, _ in product * a })
        default: throw JinjaRuntimeError("unknown operator \(symbol)")
        }
    }

    private func compare(_ left: JinjaValue, _ symbol: String, _ right: JinjaValue) throws -> Bool {
        switch symbol {
        case "==": return left.isEqual(to: right)
        case "!=": return !left.isEqual(to: right)
        case "<": return try left.isLess(than: right)
        case ">": return try right.isLess(than: left)
        case "<=": return try !right.isLess(than: left)
        case ">=": return try !left.isLess(than: right)
        case "in": return try contains(right, left)
        case "not in": return try !contains(right, left)
        default: throw JinjaRuntimeError("unknown comparison \(symbol)")
        }
    }

    func contains(_ container: JinjaValue, _ element: JinjaValue) throws -> Bool {
        switch (container, element) {
        case (.string(let text), .string(let part)):
            return part.isEmpty || text.unicodeScalars.firstRange(of: part.unicodeScalars) != nil
        case (.list(let items), _):
            return items.contains { $0.isEqual(to: element) }
        case (.dictionary(let dictionary), _):
            return dictionary[element.text] != nil && element.isString
        case (.undefined(let name), _):
            throw JinjaRuntimeError("'\(name)' is undefined")
        default:
            throw JinjaRuntimeError("argument of type '\(container.typeName)' is not iterable")
        }
    }

    // MARK: Calls

    private mutating func call(_ callee: JinjaValue, with arguments: EvaluatedArguments) throws -> JinjaValue {
        switch callee {
        case .macro(let macro):
            return .string(try callMacro(macro, with: arguments))
        case .function(let name):
            return try callGlobal(name, with: arguments)
        case .method(let receiver, let name):
            return try callMethod(name, on: receiver, with: arguments)
        case .undefined(let name):
            throw JinjaRuntimeError("'\(name)' is undefined")
        default:
            throw JinjaRuntimeError("'\(callee.typeName)' object is not callable")
        }
    }

    private mutating func callMacro(_ macro: JinjaMacro, with arguments: EvaluatedArguments) throws -> String {
        var scope: [String: JinjaValue] = [:]
        for (position, parameter) in macro.parameters.enumerated() {
            if let value = arguments.value(parameter.name, at: position) {
                scope[parameter.name] = value
            } else if let defaultValue = parameter.defaultValue {
                scope[parameter.name] = try evaluate(defaultValue)
            } else {
                scope[parameter.name] = .undefined(parameter.name)
            }
        }
        // A macro sees the template's top-level names and its arguments, not its caller's locals.
        let callerScopes = scopes
        scopes = [scopes[0], scope]
        defer { scopes = callerScopes }
        return try capture { _ = try $0.render(macro.body) }
    }

    private mutating func callGlobal(_ name: String, with arguments: EvaluatedArguments) throws -> JinjaValue {
        switch name {
        case "raise_exception":
            throw RaisedError(message: arguments.positional.first?.text ?? "")
        case "range":
            let bounds = try arguments.positional.map { value -> Int in
                guard case .int(let number) = value else { throw JinjaRuntimeError("range() takes integers") }
                return number
            }
            let (start, stop, step) = switch bounds.count {
            case 1: (0, bounds[0], 1)
            case 2: (bounds[0], bounds[1], 1)
            case 3: (bounds[0], bounds[1], bounds[2])
            default: throw JinjaRuntimeError("range() takes 1 to 3 arguments")
            }
            guard step != 0 else { throw JinjaRuntimeError("range() step cannot be zero") }
            return .list(stride(from: start, to: stop, by: step).map { .int($0) })
        case "namespace", "dict":
            var dictionary = JinjaDictionary()
            if case .dictionary(let initial)? = arguments.positional.first { dictionary = initial }
            for (key, value) in arguments.named { dictionary[key] = value }
            guard name == "namespace" else { return .dictionary(dictionary) }
            namespaces.append(dictionary)
            return .namespace(namespaces.count - 1)
        case "strftime_now":
            return .string(Self.formatNow(arguments.positional.first?.text ?? ""))
        default:
            throw JinjaRuntimeError("unknown function \(name)")
        }
    }

    private static func formatNow(_ format: String) -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 256)
        let length = strftime(&buffer, buffer.count, format, &parts)
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension JinjaValue {
    var isString: Bool { if case .string = self { true } else { false } }

    /// The value as an integer when it is an int or a bool (Python's bool is an int).
    var integer: Int? {
        switch self {
        case .int(let value): value
        case .bool(let value): value ? 1 : 0
        default: nil
        }
    }
}
