import Foundation

/// The settings of one job `rlhf` can do (train a tokenizer, sample completions, fine-tune, evaluate, …): Codable,
/// with the library's only defaults. The CLI maps its flags onto the fields; `commandLine` maps a configuration
/// back onto flags, so a pipeline can print the command that does the same job.
public protocol JobConfiguration: Codable, Sendable, Equatable {
    /// The `rlhf` command that does this job, e.g. "reward train".
    static var command: String { get }
    /// A configuration with every default.
    init()
    /// Throws one line naming the field when a value is out of range or a required field is missing.
    func validate() throws
}

extension JobConfiguration {
    /// `rlhf <command>` and a flag for every field that differs from its default, named after the field's key
    /// (`lr` is `--lr`, `batch_size` is `--batch-size`; booleans are `--flag` or `--no-flag`; a list repeats its flag).
    public var commandLine: String {
        let (defaults, values) = ((try? ConfigCoding.tree(Self()).leaves) ?? [:], (try? ConfigCoding.tree(self).leaves) ?? [:])
        let arguments = values.keys.sorted(by: Self.flagOrder).flatMap { key -> [String] in
            let value = values[key]!
            guard value != defaults[key] ?? .null else { return [] }
            let flag = "--" + key.replacingOccurrences(of: "_", with: "-")
            switch value {
            case .null: return []
            case .bool(let on): return [on ? flag : "--no-" + flag.dropFirst(2)]
            case .array(let items): return items.flatMap { [flag, Self.quoted($0.description)] }
            default: return [flag, Self.quoted(value.description)]
            }
        }
        return (["rlhf", Self.command] + arguments).joined(separator: " ")
    }

    /// Inputs first, then the output, then the rest alphabetically: the order a person writes a command in.
    private static func flagOrder(_ a: String, _ b: String) -> Bool {
        let first = ["model", "policy", "adapter", "reward", "baseline", "db", "project", "data", "prompts", "file", "out"]
        let (i, j) = (first.firstIndex(of: a) ?? first.count, first.firstIndex(of: b) ?? first.count)
        return i != j ? i < j : a < b
    }

    private static func quoted(_ text: String) -> String {
        let plain = !text.isEmpty && text.allSatisfy { $0.isLetter || $0.isNumber || "-_./:,=+@".contains($0) }
        return plain ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// A job that cannot start or go on, in one line: bad settings, unreadable inputs, a refused resume.
public struct JobError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Checks that configurations' `validate()` share, each failing with the field's key.
public enum Check {
    public static func required(_ value: String, _ key: String) throws {
        if value.isEmpty { throw JobError("\(key) is required") }
    }

    public static func positive<T: Comparable & Numeric>(_ value: T, _ key: String) throws {
        if value <= 0 { throw JobError("\(key) must be positive (got \(value))") }
    }

    public static func nonNegative<T: Comparable & Numeric>(_ value: T, _ key: String) throws {
        if value < 0 { throw JobError("\(key) must not be negative (got \(value))") }
    }

    /// An AdamW learning rate: above 1 every weight moves by more than 1 a step, and training only destroys the model.
    public static func learningRate(_ value: Float, _ key: String = "lr") throws {
        if !(value > 0 && value <= 1) { throw JobError("\(key) must be in (0, 1] (got \(value)): AdamW moves each weight by about lr a step") }
    }

    public static func fraction(_ value: Double, _ key: String) throws {
        if !(0..<1).contains(value) { throw JobError("\(key) must be in [0, 1) (got \(value))") }
    }
}
