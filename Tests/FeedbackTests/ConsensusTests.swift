import Feedback
import Foundation
import Tensor
import XCTest

/// Consensus and quality: ranked pairs, flags, Kendall τ-b, Krippendorff's α, pairs export and
/// Bradley–Terry. Reference numbers come from scripts/fixtures/check_agreement.py (krippendorff,
/// scipy and choix).
final class ConsensusTests: XCTestCase {
    /// Ranks from a best-first list; inner arrays are ties.
    private func ranking(_ order: [[Int64]], flagged: Set<Int64> = []) -> Ranking<Int64> {
        var ranks: [Int64: Int] = [:]
        for (index, tied) in order.enumerated() { for completion in tied { ranks[completion] = index + 1 } }
        return Ranking(ranks: ranks, flagged: flagged)
    }

    private func consensus(_ rankings: [Ranking<Int64>]) -> [Int64: Int] { ItemConsensus(rankings: rankings).ranks }

    // MARK: Issue #5's scenario

    func testReversedLabelerIsOutvotedAndReportedUnreliable() throws {
        var rankings: [Int: [String: Ranking<Int64>]] = [:]
        for item in 0..<6 {
            let best = Int64(10 * item)
            let careful = [best, best + 1, best + 2, best + 3]
            // The second careful labeler disagrees once, on a close call between the top two.
            let second = item == 2 ? [best + 1, best, best + 2, best + 3] : careful
            rankings[item] = [
                "careful-a": ranking(careful.map { [$0] }),
                "careful-b": ranking(second.map { [$0] }),
                "reverser": ranking(careful.reversed().map { [$0] }),
            ]
        }
        let report = ConsensusReport(rankings: rankings)

        for item in 0..<6 where item != 2 {
            let best = Int64(10 * item)
            XCTAssertEqual(report.items[item]?.ranks, [best: 1, best + 1: 2, best + 2: 3, best + 3: 4])
        }
        // On the split item the reverser sides with careful-b on the top pair and loses everywhere else.
        XCTAssertEqual(report.items[2]?.ranks, [21: 1, 20: 2, 22: 3, 23: 4])

        XCTAssertEqual(report.unreliableLabelers, ["reverser"])
        let tau = Dictionary(uniqueKeysWithValues: report.labelers.map { ($0.labeler, $0.meanTau!) })
        XCTAssertEqual(tau["careful-a"]!, (5 + 2.0 / 3) / 6, accuracy: 1e-12)
        XCTAssertEqual(tau["careful-b"]!, 1, accuracy: 1e-12)
        XCTAssertEqual(tau["reverser"]!, (-5 - 2.0 / 3) / 6, accuracy: 1e-12)
        XCTAssertLessThan(tau["reverser"]!, -0.9)
        XCTAssertEqual(report.labelers.map(\.itemsScored), [6, 6, 6])
        // Krippendorff's α (krippendorff 0.9.0): below chance with the reverser, near 1 without it.
        XCTAssertEqual(try XCTUnwrap(report.agreement), -0.31481481481481466, accuracy: 1e-12)
        let filtered = rankings.mapValues { $0.filter { !report.unreliableLabelers.contains($0.key) } }
        XCTAssertEqual(try XCTUnwrap(ConsensusReport(rankings: filtered).agreement), 0.9673611111111111, accuracy: 1e-12)
    }

    // MARK: Ranked pairs

    func testCondorcetCycleIsBrokenAtItsWeakestMajority() {
        let (a, b, c): (Int64, Int64, Int64) = (1, 2, 3)
        // a > b 6:3, b > c 7:2, c > a 5:4: a cycle. Ranked pairs locks b > c, then a > b, and skips
        // c > a, the weakest majority, because it would close the cycle.
        let ballots = Array(repeating: ranking([[a], [b], [c]]), count: 4)
            + Array(repeating: ranking([[b], [c], [a]]), count: 3)
            + Array(repeating: ranking([[c], [a], [b]]), count: 2)
        let pairs = RankedPairs(rankings: ballots, candidates: [a, b, c])
        XCTAssertEqual(pairs.majorities.map { [$0.winner, $0.loser, Int64($0.votesFor), Int64($0.votesAgainst)] },
                       [[b, c, 7, 2], [a, b, 6, 3], [c, a, 5, 4]])
        XCTAssertEqual(pairs.locked.map { [$0.winner, $0.loser] }, [[b, c], [a, b]])
        XCTAssertEqual(pairs.ranks, [a: 1, b: 2, c: 3])
    }

    func testEqualMajoritiesAreLockedInIdOrder() {
        // Every majority is 2:1, so the tie-break decides: a > b (smallest winner) and b > c lock,
        // c > a would close the cycle.
        let ballots = [ranking([[1], [2], [3]]), ranking([[2], [3], [1]]), ranking([[3], [1], [2]])]
        XCTAssertEqual(consensus(ballots), [1: 1, 2: 2, 3: 3])
        XCTAssertEqual(consensus(Array(ballots.reversed())), [1: 1, 2: 2, 3: 3])
    }

    func testTiesSurvive() {
        // Split votes: neither a > b nor b > a has a majority.
        XCTAssertEqual(consensus([ranking([[1], [2], [3]]), ranking([[2], [1], [3]])]), [1: 1, 2: 1, 3: 2])
        // Labelers' own ties vote for neither side.
        XCTAssertEqual(consensus([ranking([[1, 2], [3]]), ranking([[1, 2], [3]])]), [1: 1, 2: 1, 3: 2])
        // 1 > 2 locks; 3 splits the votes against both, so no locked chain puts anything above it.
        XCTAssertEqual(consensus([ranking([[1], [2], [3]]), ranking([[3], [1], [2]])]), [1: 1, 3: 1, 2: 2])
        XCTAssertEqual(consensus([ranking([[5], [6]])]), [5: 1, 6: 2])
        XCTAssertEqual(consensus([]), [:])
    }

    func testCompletionFlaggedByMajorityIsDropped() {
        let item = ItemConsensus(rankings: [
            ranking([[1], [2], [3], [4]], flagged: [4]),
            ranking([[2], [1], [3]], flagged: [4]),
            ranking([[1], [2], [4]], flagged: [3]),
        ])
        // 4 is flagged by 2 of 3 labelers: dropped. 3 is flagged by one (and unranked by it, so
        // last in that labeler's order): kept, and below 1 and 2 in every order.
        XCTAssertEqual(item.dropped, [4])
        XCTAssertEqual(item.ranks, [1: 1, 2: 2, 3: 3])

        // One flag of two labelers is not a strict majority.
        let split = ItemConsensus(rankings: [ranking([[1], [2]], flagged: [2]), ranking([[1], [2]])])
        XCTAssertEqual(split.dropped, [])
        XCTAssertEqual(split.ranks, [1: 1, 2: 2])
    }

    func testRankingDenseRanksPutUnrankedFlagsLast() {
        let labeler = Ranking<Int64>(ranks: [1: 2, 2: 2, 3: 7], flagged: [3, 4, 5])
        XCTAssertEqual(labeler.denseRanks, [1: 1, 2: 1, 3: 2, 4: 3, 5: 3])
    }

    // MARK: Agreement

    func testKendallTauBMatchesScipy() throws {
        let x: [Int: Int] = [0: 1, 1: 2, 2: 2, 3: 3, 4: 4, 5: 4]
        let y: [Int: Int] = [0: 1, 1: 3, 2: 2, 3: 2, 4: 5, 5: 4]
        XCTAssertEqual(try XCTUnwrap(KendallTau.b(x, y)), 0.7412493166611013, accuracy: 1e-12)
        XCTAssertEqual(KendallTau.b([0: 1, 1: 2, 2: 3], [0: 3, 1: 2, 2: 1]), -1)
        XCTAssertNil(KendallTau.b([0: 1, 1: 1], [0: 1, 1: 2]), "undefined when one side ties everything")
        XCTAssertNil(KendallTau.b([0: 1, 1: 2], [0: 1, 2: 2]), "undefined with fewer than two shared")
    }

    func testKrippendorffAlphaMatchesTheWorkedExample() throws {
        // Krippendorff (2011), "Computing Krippendorff's alpha-reliability", p. 8: 4 coders, 12
        // units, missing values left out. The paper gives 0.815; krippendorff 0.9.0 gives the digits.
        let units: [[Int]] = [
            [1, 1, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4],
            [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [5, 5, 5], [1, 1], [3],
        ]
        XCTAssertEqual(try XCTUnwrap(KrippendorffAlpha.ordinal(units: units)), 0.8153875037548814, accuracy: 1e-12)
    }

    func testPerfectAgreementGivesAlphaOne() throws {
        XCTAssertEqual(try XCTUnwrap(KrippendorffAlpha.ordinal(units: [[1, 1], [2, 2], [3, 3], [1, 1], [2, 2]])), 1, accuracy: 1e-15)
        let same = ranking([[1], [2], [3]])
        let report = ConsensusReport(rankings: [7: ["x": same, "y": same, "z": same]])
        XCTAssertEqual(try XCTUnwrap(report.agreement), 1, accuracy: 1e-15)
        XCTAssertNil(KrippendorffAlpha.ordinal(units: [[1, 1], [1]]), "undefined with one value")
        XCTAssertNil(KrippendorffAlpha.ordinal(units: [[1], [2]]), "undefined with nothing pairable")
    }

    func testProjectAgreementMatchesKrippendorffPackage() throws {
        // Units are an item's completions, values each labeler's dense ranks; labeler 1's ranks on
        // item 3 have a gap (1, 2, 5) that densifies to 1, 2, 3; labeler 3 skipped item 2.
        let project: [Int: [Int: Ranking<Int64>]] = [
            1: [1: Ranking(ranks: [1: 1, 2: 2, 3: 3, 4: 4]), 2: Ranking(ranks: [1: 1, 2: 3, 3: 2, 4: 4]),
                3: Ranking(ranks: [1: 2, 2: 1, 3: 3, 4: 3])],
            2: [1: Ranking(ranks: [5: 1, 6: 1, 7: 2]), 2: Ranking(ranks: [5: 2, 6: 1, 7: 3])],
            3: [1: Ranking(ranks: [8: 1, 9: 2, 10: 5]), 2: Ranking(ranks: [8: 3, 9: 1, 10: 2]),
                3: Ranking(ranks: [8: 3, 9: 2, 10: 1])],
        ]
        XCTAssertEqual(try XCTUnwrap(ConsensusReport(rankings: project).agreement), 0.3226698409155724, accuracy: 1e-12)
    }

    // MARK: Pairs export

    func testPairsAreEveryUntiedPairPreferredFirst() {
        let ranks: [Int64: Int] = [10: 1, 11: 2, 12: 2, 13: 3, 14: 4]
        let pairs = ConsensusPair.all(ranks: ranks)
        XCTAssertEqual(pairs.count, 5 * 4 / 2 - 1, "N choose 2 minus the one tied pair")
        for pair in pairs {
            XCTAssertLessThan(ranks[pair.chosen]!, ranks[pair.rejected]!)
            XCTAssertEqual(pair.margin, ranks[pair.rejected]! - ranks[pair.chosen]!)
        }
        XCTAssertEqual(pairs.map { [$0.chosen, $0.rejected, Int64($0.margin)] }, [
            [10, 11, 1], [10, 12, 1], [10, 13, 2], [10, 14, 3],
            [11, 13, 1], [11, 14, 2], [12, 13, 1], [12, 14, 2], [13, 14, 1],
        ])
        XCTAssertEqual(ConsensusPair.all(ranks: [1: 1, 2: 1] as [Int64: Int]), [])
    }

    // MARK: Bradley–Terry

    /// The reference data of check_agreement.py: wins[a][b] = how often a's completion was preferred.
    private let referenceWins: [String: [String: Int]] = [
        "alpha": ["beta": 7, "gamma": 8, "delta": 9], "beta": ["alpha": 3, "gamma": 6, "delta": 7],
        "gamma": ["alpha": 2, "beta": 4, "delta": 6], "delta": ["alpha": 1, "beta": 3, "gamma": 5],
    ]

    private var referenceComparisons: [ModelComparison<String>] {
        referenceWins.flatMap { winner, losses in
            losses.flatMap { loser, count in Array(repeating: ModelComparison(winner: winner, loser: loser), count: count) }
        }
    }

    private func assertRatings(_ ratings: [String: Double], _ expected: [Double], accuracy: Double,
                               file: StaticString = #filePath, line: UInt = #line) {
        for (model, value) in zip(["alpha", "beta", "gamma", "delta"], expected) {
            XCTAssertEqual(ratings[model]!, value, accuracy: accuracy, model, file: file, line: line)
        }
    }

    func testBradleyTerryMatchesChoix() {
        let comparisons = referenceComparisons
        assertRatings(BradleyTerry(comparisons: comparisons).ratings,
                      [1162.807456678, 1015.514784082, 936.483531903, 885.194227336], accuracy: 1e-6)
        assertRatings(BradleyTerry(comparisons: comparisons, virtualTies: 2).ratings,
                      [1145.633065535, 1014.310563033, 943.151185251, 896.905186182], accuracy: 1e-6)
        // A vanishing prior gives the maximum-likelihood fit.
        assertRatings(BradleyTerry(comparisons: comparisons, virtualTies: 1e-9).ratings,
                      [1185.327989165, 1016.870294069, 927.748483057, 870.053233709], accuracy: 1e-5)

        let anchored = BradleyTerry(comparisons: comparisons, anchor: "gamma").ratings
        XCTAssertEqual(anchored["gamma"]!, 1000, accuracy: 1e-9)
        XCTAssertEqual(anchored["alpha"]! - anchored["gamma"]!, 1162.807456678 - 936.483531903, accuracy: 1e-6)
    }

    func testBradleyTerryStaysFiniteForAnUndefeatedModel() {
        let comparisons = Array(repeating: ModelComparison(winner: "new", loser: "old"), count: 5)
        let fit = BradleyTerry(comparisons: comparisons)
        XCTAssertTrue(fit.ratings.values.allSatisfy(\.isFinite))
        // With one virtual tie the odds are (5 + 0.5) : 0.5 = 11, i.e. 400·log10(11) Elo apart.
        XCTAssertEqual(fit.ratings["new"]! - fit.ratings["old"]!, 400 * log10(11), accuracy: 1e-9)
    }

    func testBradleyTerryRecoversSimulatedModelsWithinIntervals() {
        // Four models 100 Elo apart (mean 1000); 2,000 comparisons between random pairs.
        let truth: [String: Double] = ["v1": 850, "v2": 950, "v3": 1050, "v4": 1150]
        let models = truth.keys.sorted()
        var generator = SeededGenerator(seed: 5)
        let comparisons = (0..<2000).map { _ in
            let pair = models.shuffled(using: &generator).prefix(2)
            let (a, b) = (pair.first!, pair.last!)
            let aWins = Double.random(in: 0..<1, using: &generator) < 1 / (1 + pow(10, (truth[b]! - truth[a]!) / 400))
            return aWins ? ModelComparison(winner: a, loser: b) : ModelComparison(winner: b, loser: a)
        }
        let fit = BradleyTerry(comparisons: comparisons)
        XCTAssertEqual(fit.models.sorted { fit.ratings[$0]! < fit.ratings[$1]! }, models)

        let intervals = fit.bootstrapIntervals(resamples: 1000, seed: 1)
        for model in models {
            let interval = intervals[model]!
            XCTAssertTrue(interval.contains(truth[model]!), "\(model): \(interval) misses \(truth[model]!)")
            XCTAssertTrue(interval.contains(fit.ratings[model]!))
            XCTAssertLessThan(interval.upperBound - interval.lowerBound, 100)
        }
        XCTAssertEqual(fit.bootstrapIntervals(resamples: 50, seed: 3), fit.bootstrapIntervals(resamples: 50, seed: 3))
    }

    func testModelComparisonsComeFromPairsAcrossModels() {
        let model: [Int64: String] = [1: "new", 2: "old", 3: "new"]
        let pairs = ConsensusPair.all(ranks: [1: 1, 2: 2, 3: 3, 4: 4] as [Int64: Int])
        // 1 > 3 is within one model and 4 has no model: only 1 > 2 and 2 > 3 compare models.
        XCTAssertEqual(ModelComparison.from(pairs) { model[$0] },
                       [ModelComparison(winner: "new", loser: "old"), ModelComparison(winner: "old", loser: "new")])
    }
}
