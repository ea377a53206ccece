import Data
import Foundation

/// The rules `--reward-fn NAME[:ARG]` names:
/// - `contains`: the share of the row's `answers` (a list of strings or numbers) that the completion states as a
///   whole word or number ("12" is not found in "123" or "1.2");
/// - `regex:PATTERN`: 1 when the pattern matches somewhere in the completion, else 0;
/// - `length:N`: closeness to N tokens, 1 − |tokens − N| / N, at least 0.
public final class BuiltinReward: RewardFunction {
    enum Rule {
        case contains
        case regex(NSRegularExpression)
        case length(Int)
    }

    public let name: String
    let rule: Rule

    /// Parses `NAME[:ARG]`; throws one line for an unknown name or a bad argument.
    public init(_ spec: String) throws {
        let (head, argument) = spec.firstIndex(of: ":").map { (String(spec[..<$0]), String(spec[spec.index(after: $0)...])) } ?? (spec, nil)
        name = head
        switch (head, argument) {
        case ("contains", nil):
            rule = .contains
        case ("regex", let pattern?) where !pattern.isEmpty:
            do { rule = .regex(try NSRegularExpression(pattern: pattern)) } catch {
                throw JobError("reward_fn \(spec): not a valid regular expression")
            }
        case ("length", let count?):
            guard let target = Int(count), target > 0 else { throw JobError("reward_fn \(spec): length needs a positive token count, e.g. length:20") }
            rule = .length(target)
        default:
            throw JobError("reward_fn \(spec): unknown; the built-ins are contains, regex:PATTERN and length:N")
        }
    }

    public func rewards(_ inputs: [RewardInput]) throws -> [Float?] {
        try inputs.map { input in
            switch rule {
            case .contains:
                let answers = try Self.answers(in: input.row)
                guard !answers.isEmpty else { return nil }
                let found = answers.filter { Self.states(input.completion, $0) }.count
                return Float(found) / Float(answers.count)
            case .regex(let expression):
                let text = input.completion
                return expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil ? 0 : 1
            case .length(let target):
                return max(0, 1 - Float(abs(input.completionIDs.count - target)) / Float(target))
            }
        }
    }

    /// The row's `answers` as text; a row without the column is not this rule's to score (nil reward).
    static func answers(in row: [String: Any]) throws -> [String] {
        guard let value = row["answers"], !(value is NSNull) else { return [] }
        guard let list = value as? [Any] else { throw JobError("contains: the prompt's \"answers\" must be a list (got \(value))") }
        return try list.map { item in
            switch item {
            case let text as String: return text
            case let number as NSNumber: return number.stringValue
            default: throw JobError("contains: every answer must be a string or a number (got \(item))")
            }
        }
    }

    /// Whether `answer` occurs in `text` as a whole word or number: no letter or digit joined to either end, and for
    /// a number no "-" either ("2" is not stated by "2-0" or "-2") nor a decimal point with digits ("1.2").
    static func states(_ text: String, _ answer: String) -> Bool {
        let answer = answer.trimmingCharacters(in: .whitespaces)
        guard let first = answer.first, let last = answer.last else { return false }
        var searchRange = text.startIndex..<text.endIndex
        while let found = text.range(of: answer, options: .caseInsensitive, range: searchRange) {
            let before = found.lowerBound > text.startIndex ? text[text.index(before: found.lowerBound)] : nil
            let after = found.upperBound < text.endIndex ? text[found.upperBound] : nil
            let joinedBefore = before.map { $0.isLetter || $0.isNumber || (first.isNumber && ($0 == "-" || $0 == ".")) } ?? false
            let joinedAfter = after.map {
                $0.isLetter || $0.isNumber || (last.isNumber && ($0 == "-" || ($0 == "." && Self.continuesNumber(text, after: found.upperBound))))
            } ?? false
            if !joinedBefore && !joinedAfter { return true }
            searchRange = text.index(after: found.lowerBound)..<text.endIndex
        }
        return false
    }

    /// A "." after a number continues it only when a digit follows ("1.2"), not at a sentence's end ("is 2.").
    private static func continuesNumber(_ text: String, after index: String.Index) -> Bool {
        let next = text.index(after: index)
        return next < text.endIndex && text[next].isNumber
    }
}
