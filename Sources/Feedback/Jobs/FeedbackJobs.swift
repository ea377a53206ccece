import Data
import Foundation

/// Items for labeling added to a project from a completions file, as `rlhf feedback import` does it.
public struct FeedbackImportConfig: JobConfiguration {
    public static let command = "feedback import"

    /// The SQLite database of `rlhf serve`.
    public var db = ""
    public var project: Int64 = 0
    /// Completions (JSONL or a JSON array) of {"id"?, "prompt", "completions": [...]}, as `rlhf complete` writes.
    public var file = ""

    public init() {}

    public init(db: String, project: Int64, file: String) { (self.db, self.project, self.file) = (db, project, file) }

    public func validate() throws {
        try Check.required(db, "db")
        try Check.required(file, "file")
    }

    /// Adds every item or, on any error, none; returns how many.
    public func run() throws -> Int {
        try validate()
        guard let data = FileManager.default.contents(atPath: file) else { throw FeedbackError.notFound("\(file): cannot read the file") }
        let items = try ItemUpload.parse(data, source: file)
        let (store, project) = (try FeedbackStore(existing: db), self.project)
        return try runAsync { try await store.addItems(items, to: project) }
    }
}

/// A project's judgments as JSONL, as `rlhf feedback export` writes them.
public struct FeedbackExportConfig: JobConfiguration {
    public static let command = "feedback export"

    public var db = ""
    public var project: Int64 = 0
    /// pairs, hh, thumbs or rankings.
    public var format = ExportFormat.pairs
    /// Leave out labelers whose mean Kendall τ against the consensus is below `minTau`.
    public var excludeUnreliable = false
    public var minTau = LabelerReliability<Int64>.defaultThreshold
    /// Whose rankings the consensus is made of: the humans' (AI labelers left out), the AI labelers' only, or all.
    public var labelers = LabelSource.human
    /// The output file; empty: the data is only returned.
    public var out = ""

    public init() {}

    public func validate() throws { try Check.required(db, "db") }

    /// The exported lines (also written to `out` when set).
    @discardableResult
    public func run() throws -> Data {
        try validate()
        let (store, project, threshold, exclude, format, source) = (try FeedbackStore(existing: db), project, minTau, excludeUnreliable, format, labelers)
        let data = try runAsync {
            let analysis = ProjectAnalysis(snapshot: try await store.snapshot(project: project), reliabilityThreshold: threshold, source: source)
            return try (exclude ? analysis.excludingUnreliable() : analysis).export(format)
        }
        if !out.isEmpty { try data.write(to: URL(fileURLWithPath: out), options: .atomic) }
        return data
    }
}

/// Progress, agreement and each labeler's reliability, as `rlhf feedback stats` reports them.
public struct FeedbackStatsConfig: JobConfiguration {
    public static let command = "feedback stats"

    public var db = ""
    public var project: Int64 = 0
    /// Labelers whose mean τ is below this are reported as unreliable.
    public var minTau = LabelerReliability<Int64>.defaultThreshold

    public init() {}

    public init(db: String, project: Int64) { (self.db, self.project) = (db, project) }

    public func validate() throws { try Check.required(db, "db") }

    public func run() throws -> ProjectStats { ProjectStats(try analysis()) }

    /// The analysis the stats come from (consensus, agreement, reliability), for callers that need more of it.
    public func analysis() throws -> ProjectAnalysis {
        try validate()
        let (store, project, threshold) = (try FeedbackStore(existing: db), project, minTau)
        return try runAsync { ProjectAnalysis(snapshot: try await store.snapshot(project: project), reliabilityThreshold: threshold) }
    }
}

extension FeedbackStore {
    /// Opens a database that must exist already (the offline commands never create one).
    public convenience init(existing path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw FeedbackError.notFound("\(path): no such database") }
        try self.init(path: path)
    }
}
