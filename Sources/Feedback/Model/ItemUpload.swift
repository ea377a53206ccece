import Data
import Foundation

/// Parses items for labeling from a JSON array or from JSON Lines, one `{"prompt", "completions": [...]}` object
/// each (optional `"id"`, a string or number). A completion is a string or `{"text", "model"}`. Errors name the
/// line (JSONL) or the 1-based position in the array, prefixed with `source` (a file path) when given.
public enum ItemUpload {
    public static func parse(_ data: Data, source: String? = nil) throws -> [NewItem] {
        let prefix = source.map { "\($0): " } ?? ""
        let firstCharacter = data.first { !" \t\r\n".utf8.contains($0) }
        guard firstCharacter != nil else { throw FeedbackError.invalid("\(prefix)no items") }
        let items: [NewItem]
        if firstCharacter == UInt8(ascii: "[") {
            let elements: [ItemSlot]
            do {
                elements = try JSONDecoder().decode([ItemSlot].self, from: data)
            } catch {
                throw FeedbackError.invalid("\(prefix)not a valid JSON array")
            }
            items = try elements.enumerated().map { index, slot in try slot.item(at: "\(prefix)item \(index + 1)") }
        } else {
            items = try jsonLines(data, source: source)
        }
        guard !items.isEmpty else { throw FeedbackError.invalid("\(prefix)no items") }
        return items
    }

    private static func jsonLines(_ data: Data, source: String?) throws -> [NewItem] {
        let lines: [(number: Int, bytes: Data)]
        do { lines = try JSONLines.lines(of: data, file: source ?? "upload") } catch let error as DataError {
            throw FeedbackError.invalid(source == nil ? "line \(error.line ?? 0): \(error.message)" : error.description)
        }
        return try lines.map { number, line in
            let location = source.map { "\($0):\(number)" } ?? "line \(number)"
            let slot: ItemSlot
            do {
                slot = try JSONDecoder().decode(ItemSlot.self, from: line)
            } catch {
                throw FeedbackError.invalid("\(location): not valid JSON")
            }
            return try slot.item(at: location)
        }
    }
}

/// One decoded element, kept so that field errors can say where the element was.
private struct ItemSlot: Decodable {
    let result: Result<NewItem, FeedbackError>

    init(from decoder: any Decoder) throws {
        do {
            result = .success(try ItemFields(from: decoder).item)
        } catch let error as FeedbackError {
            result = .failure(error)
        } catch let error as DecodingError {
            result = .failure(.invalid(error.shortDescription))
        }
    }

    func item(at location: String) throws -> NewItem {
        switch result {
        case .success(let item): return item
        case .failure(let error): throw FeedbackError.invalid("\(location): \(error.description)")
        }
    }
}

private struct ItemFields: Decodable {
    let item: NewItem

    enum CodingKeys: String, CodingKey { case id, prompt, completions }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let id: String?
        if let number = try? container.decodeIfPresent(Int.self, forKey: .id) {
            id = String(number)
        } else {
            id = try container.decodeIfPresent(String.self, forKey: .id)
        }
        let completions = try container.decode([CompletionField].self, forKey: .completions).map(\.completion)
        guard !completions.isEmpty else { throw FeedbackError.invalid("\"completions\" is empty") }
        let prompt = try container.decode(String.self, forKey: .prompt)
        item = NewItem(externalID: id?.withoutNUL, prompt: prompt.withoutNUL,
                       completions: completions.map { NewCompletion(text: $0.text.withoutNUL, model: $0.model?.withoutNUL) })
    }
}

private struct CompletionField: Decodable {
    let completion: NewCompletion

    enum CodingKeys: String, CodingKey { case text, model }

    init(from decoder: any Decoder) throws {
        if let text = try? decoder.singleValueContainer().decode(String.self) {
            completion = NewCompletion(text: text)
        } else {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            completion = NewCompletion(text: try container.decode(String.self, forKey: .text),
                                       model: try container.decodeIfPresent(String.self, forKey: .model))
        }
    }
}

extension String {
    /// SQLite keeps text only up to a NUL, so the rest would be lost silently; a model's gibberish can hold one.
    /// It becomes U+FFFD, the character a page shows for what it cannot show, and nothing after it is lost.
    var withoutNUL: String { contains("\u{0}") ? replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : self }
}

extension DecodingError {
    /// One line naming the field at fault, for API and CLI errors.
    var shortDescription: String {
        // Leading array indexes are dropped: the caller already names the element.
        func path(_ context: Context) -> String {
            context.codingPath.drop { $0.intValue != nil }.reduce(into: "") { path, key in
                if let index = key.intValue { path += "[\(index)]" } else { path += path.isEmpty ? key.stringValue : "." + key.stringValue }
            }
        }
        switch self {
        case .keyNotFound(let key, _): return "missing field \"\(key.stringValue)\""
        case .typeMismatch(_, let context) where path(context).isEmpty: return "expected a JSON object"
        case .typeMismatch(let type, let context): return "field \"\(path(context))\" must be \(Self.name(of: type))"
        case .valueNotFound(let type, let context): return "field \"\(path(context))\" must be \(Self.name(of: type))"
        case .dataCorrupted(let context): return context.codingPath.isEmpty ? "not valid JSON" : "field \"\(path(context))\" is invalid"
        @unknown default: return "invalid input"
        }
    }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Bool.Type: "true or false"
        case is Double.Type: "a number"
        case is [String: Any].Type: "an object"
        case is [Any].Type: "a list"
        default: "\(type)"
        }
    }
}
