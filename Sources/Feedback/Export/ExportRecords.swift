/// One line of each export format, with the field names the files use.
enum ExportRecord {
    struct Pair: Encodable {
        let prompt: String
        let chosen: String
        let rejected: String
        let margin: Int
    }

    struct Transcripts: Encodable {
        let chosen: String
        let rejected: String

        /// HH-RLHF's layout: the whole dialogue in each field, differing only in the last assistant turn.
        init(prompt: String, chosen: String, rejected: String) {
            self.chosen = "\n\nHuman: \(prompt)\n\nAssistant: \(chosen)"
            self.rejected = "\n\nHuman: \(prompt)\n\nAssistant: \(rejected)"
        }
    }

    struct Thumb: Encodable {
        let prompt: String
        let completion: String
        let label: Bool
    }

    struct StoredRanking: Encodable {
        struct Completion: Encodable {
            let id: String
            let text: String
            let model: String?
        }

        let itemID: Int64
        let item: String?
        let labelerID: Int64
        let labeler: String
        let prompt: String
        let completions: [Completion]
        let ranks: [String: Int]
        let flagged: [String]
        let submittedAt: String

        enum CodingKeys: String, CodingKey {
            case item, labeler, prompt, completions, ranks, flagged
            case itemID = "item_id"
            case labelerID = "labeler_id"
            case submittedAt = "submitted_at"
        }
    }
}
