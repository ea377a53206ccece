/// A model on the Hugging Face Hub, `owner/name` with an optional `@revision` (a branch, tag or commit).
public struct HubModelID: Hashable, Sendable, CustomStringConvertible {
    public let owner: String
    public let name: String
    /// The branch, tag or commit asked for; `main` when none was.
    public let revision: String

    public init(owner: String, name: String, revision: String = "main") {
        (self.owner, self.name, self.revision) = (owner, name, revision)
    }

    /// Parses `owner/name[@revision]`, or nil when `text` does not look like one (huggingface_hub's rules: letters,
    /// digits, `-`, `_`, `.`; no `--` or `..`; neither part starts or ends with `-` or `.`; at most 96 characters).
    public init?(parsing text: String) {
        let (repository, revision) = text.firstIndex(of: "@").map { (String(text[..<$0]), String(text[text.index(after: $0)...])) }
            ?? (text, "main")
        let parts = repository.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, repository.count <= 96, parts.allSatisfy(Self.isValidPart),
              !revision.isEmpty, !revision.contains(".."), !revision.hasPrefix("/"),
              revision.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_./".contains($0)) }) else { return nil }
        self.init(owner: parts[0], name: parts[1], revision: revision)
    }

    private static func isValidPart(_ part: String) -> Bool {
        guard let first = part.first, let last = part.last else { return false }
        return part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
            && !part.contains("--") && !part.contains("..") && !"-.".contains(first) && !"-.".contains(last)
    }

    /// `owner/name`, the repository without the revision.
    public var repository: String { "\(owner)/\(name)" }

    /// The cache folder's name, as huggingface_hub writes it.
    public var folderName: String { "models--\(owner)--\(name)" }

    /// Whether the revision is a full commit hash (a snapshot's name) rather than a branch or tag.
    public var revisionIsCommit: Bool { Self.isCommit(revision) }

    static func isCommit(_ text: String) -> Bool { text.utf8.count == 40 && text.allSatisfy(\.isHexDigit) }

    public var description: String { revision == "main" ? repository : "\(repository)@\(revision)" }

    public func at(revision: String) -> HubModelID { HubModelID(owner: owner, name: name, revision: revision) }
}
