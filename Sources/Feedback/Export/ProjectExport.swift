import Foundation

extension ProjectAnalysis {
    /// The export as JSON Lines: one object per line, keys sorted so files diff cleanly.
    public func export(_ format: ExportFormat) throws -> Data {
        switch format {
        case .pairs: try jsonLines(consensusPairRecords { item, chosen, rejected, margin in
            ExportRecord.Pair(prompt: item.prompt, chosen: chosen.text, rejected: rejected.text, margin: margin)
        })
        case .hh: try jsonLines(consensusPairRecords { item, chosen, rejected, _ in
            ExportRecord.Transcripts(prompt: item.prompt, chosen: chosen.text, rejected: rejected.text)
        })
        case .thumbs: try jsonLines(thumbRecords)
        case .rankings: try jsonLines(rankingRecords)
        }
    }

    private func consensusPairRecords<Record>(
        _ record: (ProjectSnapshot.Item, ProjectSnapshot.Completion, ProjectSnapshot.Completion, Int) -> Record
    ) -> [Record] {
        consensusPairs.flatMap { item, pairs in
            let completions = Dictionary(uniqueKeysWithValues: item.completions.map { ($0.id, $0) })
            return pairs.map { record(item, completions[$0.chosen]!, completions[$0.rejected]!, $0.margin) }
        }
    }

    /// One line per completion with thumbs from the included labelers, labelled by majority; even splits
    /// say nothing and are left out.
    private var thumbRecords: [ExportRecord.Thumb] {
        var votes: [Int64: Int] = [:]
        for thumb in snapshot.thumbs where !excluded.contains(thumb.labelerID) {
            votes[thumb.completionID, default: 0] += thumb.up ? 1 : -1
        }
        return snapshot.items.flatMap { item in
            item.completions.compactMap { completion in
                guard let balance = votes[completion.id], balance != 0 else { return nil }
                return ExportRecord.Thumb(prompt: item.prompt, completion: completion.text, label: balance > 0)
            }
        }
    }

    private var rankingRecords: [ExportRecord.StoredRanking] {
        let items = Dictionary(uniqueKeysWithValues: snapshot.items.map { ($0.id, $0) })
        return includedRankings.map { ranking in
            let item = items[ranking.itemID]!
            return ExportRecord.StoredRanking(
                itemID: item.id, item: item.externalID, labelerID: ranking.labelerID,
                labeler: snapshot.labelerNames[ranking.labelerID] ?? "", prompt: item.prompt,
                completions: item.completions.map { .init(id: String($0.id), text: $0.text, model: $0.model) },
                ranks: Dictionary(uniqueKeysWithValues: ranking.ranks.map { (String($0.key), $0.value) }),
                flagged: ranking.flagged.sorted().map(String.init), submittedAt: ranking.submittedAt)
        }
    }

    private func jsonLines(_ records: [some Encodable]) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for record in records {
            data.append(try encoder.encode(record))
            data.append(UInt8(ascii: "\n"))
        }
        return data
    }
}
