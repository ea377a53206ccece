/// A model on the Hugging Face Hub, `owner/name` with an optional `@revision` (a branch, tag or commit).
public struct HubModelID: Hashable, Sendable, CustomStringConvertible {
    public let owner: String
    public let name: String
    /// The branch, tag or commit asked for; `main` when none was.
    public let revision: String

    /// Nil unless each part follows huggingface_hub's rules (letters, digits, `-`, `_`, `.`; no `--` or `..`; not
    /// starting or ending with `-` or `.`; at most 96 characters; the name not ending in `.git`) and the revision is
    /// a relative path of such characters (`refs/pr/1`), as it becomes a file under `refs/`.
    public init?(owner: String, name: String, revision: String = "main") {
        guard Self.isValidPart(owner), Self.isValidPart(name), !name.hasSuffix(".git"), Self.isValidRevision(revision) else { return nil }
        (self.owner, self.name, self.revision) = (owner, name, revision)
    }

    /// Parses `owner/name[@revision]`, or nil when `text` is not one.
    public init?(parsing text: String) {
        let (repository, revision) = text.firstIndex(of: "@").map { (String(text[..<$0]), String(text[text.index(after: $0)...])) }
            ?? (text, "main")
        let parts = repository.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else { return nil }
        self.init(owner: parts[0], name: parts[1], revision: revision)
    }

    private static func isValidPart(_ part: String) -> Bool {
        guard let first = part.first, let last = part.last, part.count <= 96 else { return false }
        return part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
            && !part.contains("--") && !part.contains("..") && !"-.".contains(first) && !"-.".contains(last)
    }

    private static func isValidRevision(_ revision: String) -> Bool {
        revision.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_./".contains($0)) }
            && revision.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { !["", ".", ".."].contains($0) }
    }

    /// `owner/name`, the repository without the revision.
    public var repository: String { "\(owner)/\(name)" }

    /// The cache folder's name, as huggingface_hub writes it.
    public var folderName: String { "models--\(owner)--\(name)" }

    /// Whether the revision is a full commit hash (a snapshot's name) rather than a branch or tag.
    public var revisionIsCommit: Bool { Self.isCommit(revision) }

    static func isCommit(_ text: String) -> Bool {
        text.utf8.count == 40 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) || (65...70).contains($0) }
    }

    public var description: String { revision == "main" ? repository : "\(repository)@\(revision)" }

    /// The same model at another revision, or nil when `revision` is not a valid one.
    public func at(revision: String) -> HubModelID? { HubModelID(owner: owner, name: name, revision: revision) }
}
