/// Largest request bodies the server reads; past them it answers 413 and reads no further.
public struct RequestLimits: Sendable {
    /// Projects, labelers, members, rankings, thumbs.
    public var json: Int
    /// Item uploads (JSON array or JSONL).
    public var items: Int

    public init(json: Int = 64 * 1024, items: Int = 32 * 1024 * 1024) {
        self.json = json
        self.items = items
    }
}
