/// What one client may take of the server: the largest request bodies it reads (past them, or when a request
/// declares more in Content-Length, it answers 413 and reads no further), how long a connection may sit without a
/// request, and how many connections it holds at once.
public struct RequestLimits: Sendable {
    /// Projects, labelers, members, rankings, thumbs.
    public var json: Int
    /// Item uploads (JSON array or JSONL).
    public var items: Int
    /// Seconds a connection may stay idle (no request, or a request's head not finished) before it is closed.
    public var idleSeconds: Int64
    /// Open connections past which new ones wait to be accepted, so slow clients cannot use up file descriptors.
    public var maxConnections: Int

    public init(json: Int = 64 * 1024, items: Int = 32 * 1024 * 1024, idleSeconds: Int64 = 30, maxConnections: Int = 512) {
        (self.json, self.items, self.idleSeconds, self.maxConnections) = (json, items, idleSeconds, maxConnections)
    }
}
