/// The JSONL files a project exports (`?format=` in the API, `--format` in the CLI).
public enum ExportFormat: String, CaseIterable, Codable, Sendable {
    /// Consensus preference pairs `{"prompt", "chosen", "rejected", "margin"}`, for reward models and DPO.
    case pairs
    /// The same pairs as HH-RLHF transcripts `{"chosen": "\n\nHuman: ...\n\nAssistant: ...", "rejected": ...}`.
    case hh
    /// Unpaired feedback `{"prompt", "completion", "label"}` from a thumbs project, by majority per completion.
    case thumbs
    /// Every stored ranking as it was submitted, one line per labeler and item.
    case rankings
}
