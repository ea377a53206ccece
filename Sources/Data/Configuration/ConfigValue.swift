import Foundation

/// A job's configuration as a JSON tree: what config files, checkpoints, the resume check and generated command
/// lines read. Numbers keep their decimal text, so a UInt64 seed or a Float learning rate survives exactly.
public indirect enum ConfigValue: Codable, Sendable, Equatable, CustomStringConvertible {
    case null, bool(Bool), number(String), string(String), array([ConfigValue]), object([String: ConfigValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int64.self) { self = .number(String(value)) }
        else if let value = try? container.decode(UInt64.self) { self = .number(String(value)) }
        else if let value = try? container.decode(Double.self) { self = .number(Self.text(value)) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([ConfigValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: ConfigValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let text):
            if let value = Int64(text) { try container.encode(value) }
            else if let value = UInt64(text) { try container.encode(value) }
            else { try container.encode(Double(text) ?? .nan) }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The value as a flag argument or in a message: numbers and strings as they are, arrays comma-separated.
    public var description: String {
        switch self {
        case .null: "null"
        case .bool(let value): "\(value)"
        case .number(let text), .string(let text): text
        case .array(let values): values.map(\.description).joined(separator: ",")
        case .object: "{…}"
        }
    }

    /// Shortest text that reads back as the same Float when the value came from one (JSONEncoder writes Floats
    /// through Double, e.g. 2e-05 as 2.0000000000000002e-05).
    static func text(_ value: Double) -> String {
        let single = Float(value)
        if Double(single) == value || Double("\(single)") == value { return "\(single)" }
        return "\(value)"
    }

    /// Every leaf of nested objects under its own key (job configurations keep leaf keys unique, so a leaf key is
    /// also its flag name).
    public var leaves: [String: ConfigValue] {
        guard case .object(let members) = self else { return [:] }
        var result: [String: ConfigValue] = [:]
        for (key, value) in members {
            if case .object = value { result.merge(value.leaves) { a, _ in a } } else { result[key] = value }
        }
        return result
    }

    /// `overlay`'s members replacing this object's, recursively: a config file over the defaults.
    func merging(_ overlay: ConfigValue) -> ConfigValue {
        guard case .object(var members) = self, case .object(let overrides) = overlay else { return overlay }
        for (key, value) in overrides { members[key] = members[key].map { $0.merging(value) } ?? value }
        return .object(members)
    }

    /// Key paths ("training.lr") of this tree's non-null leaves that `other` lacks: misspelt or unknown fields.
    func paths(missingFrom other: ConfigValue, prefix: String = "") -> [String] {
        guard case .object(let members) = self else { return [] }
        let theirs: [String: ConfigValue]
        if case .object(let members) = other { theirs = members } else { theirs = [:] }
        return members.sorted { $0.key < $1.key }.flatMap { key, value -> [String] in
            let path = prefix + key
            if case .null = value { return [] }
            guard let counterpart = theirs[key] else { return [path] }
            return value.paths(missingFrom: counterpart, prefix: path + ".")
        }
    }
}

/// How job configurations are written and read: snake_case keys, sorted, so files and checkpoints diff cleanly.
public enum ConfigCoding {
    public static func encode<C: Encodable>(_ config: C) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(config)
    }

    public static func decode<C: Decodable>(_ type: C.Type, from data: Data) throws -> C {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(type, from: data)
    }

    public static func tree<C: Encodable>(_ config: C) throws -> ConfigValue {
        try JSONDecoder().decode(ConfigValue.self, from: encode(config))
    }

    /// A configuration file over `defaults`: fields it leaves out keep their default; a field the configuration
    /// does not have, or a value of the wrong type, fails with one line naming the file, the line and the field.
    public static func load<C: Codable>(_ file: URL, over defaults: C) throws -> C {
        let document = try JSONDocument(contentsOf: file)
        let overlay = try document.decode(ConfigValue.self)
        guard case .object = overlay else { throw document.error(at: [], "not a JSON object") }
        let merged = try tree(defaults).merging(overlay)
        let config: C
        let field = { (path: [CodingKey]) in path.map { snakeCased($0.stringValue) } }
        do { config = try decode(C.self, from: try JSONEncoder().encode(merged)) } catch let DecodingError.typeMismatch(_, context) {
            throw document.error(at: field(context.codingPath), "field \(field(context.codingPath).joined(separator: ".")) has the wrong type")
        } catch let DecodingError.dataCorrupted(context) {
            throw document.error(at: field(context.codingPath), "field \(field(context.codingPath).joined(separator: ".")): \(context.debugDescription)")
        }
        let unknown = overlay.paths(missingFrom: try tree(config))
        guard let first = unknown.first else { return config }
        throw document.error(at: first.components(separatedBy: "."), "unknown field\(unknown.count > 1 ? "s" : "") \(unknown.joined(separator: ", "))")
    }

    /// `learningRate` as the file spells it, `learning_rate`.
    private static func snakeCased(_ key: String) -> String {
        key.reduce(into: "") { result, character in
            if character.isUppercase { result += "_" + character.lowercased() } else { result.append(character) }
        }
    }
}
