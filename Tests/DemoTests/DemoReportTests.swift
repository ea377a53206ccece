@testable import Demo
import XCTest

final class DemoReportTests: XCTestCase {
    static let prompt = "User: What's 7-3 & \"9-4\"? It's 'urgent'\nAssistant:"

    func summary(policyRubric: Double = 80, policyKL: Double = 0.02) -> DemoSummary {
        func result(_ name: String, rubric: Double, reward: Double, kl: Double) -> DemoSummary.ModelResult {
            .init(name: name, rubric: rubric, correctness: rubric / 100, helpfulness: 0.9, harmlessness: 1,
                  arithmeticAccuracy: rubric / 160, meanReward: reward, winRateOverSFT: 0.5, klPerTokenToSFT: kl,
                  meanLength: 12.25, distinct2: 0.8, repetitionRate: 0.05, trainingSeconds: rubric, peakMemoryBytes: 300 * 1_048_576)
        }
        func curve(_ scores: [Double]) -> [DemoSummary.CurvePoint] {
            scores.enumerated().map { .init(iteration: $0 + 1, score: $1, kl: 0.01 * Double($0), rlhfReward: $1) }
        }
        var summary = DemoSummary(seed: 42)
        summary.stages = [.init(name: "ppo", command: "rlhf ppo --kl-coef 0 && echo \"<done>\"", seconds: 12.5)]
        summary.klCoefficient = 0.05
        summary.klBudgetPerToken = 0.05
        summary.results = [result("sft", rubric: 60, reward: 0.1, kl: 0),
                           result("policy", rubric: policyRubric, reward: 0.9, kl: policyKL),
                           result("dpo", rubric: 70, reward: 0.7, kl: 0.1),
                           result("grpo", rubric: 58, reward: 0.8, kl: 0.2),
                           result("ablation-kl0", rubric: 55, reward: 2.5, kl: 0.4)]
        summary.ppoCurve = curve([0.1, 0.4, 0.7, 0.9])
        summary.ablationCurve = curve([0.2, 1.5, 2.5])
        summary.labelingItems = 30
        summary.judgments = 90
        summary.agreement = 0.61
        summary.agreementWithoutUnreliable = 0.84
        summary.preferencePairs = 120
        summary.labelers = [.init(name: "ada", reliableBySimulation: true, judgments: 30, tau: 0.7, flaggedUnreliable: false),
                            .init(name: "<b>cy</b>", reliableBySimulation: false, judgments: 30, tau: nil, flaggedUnreliable: true)]
        summary.rewardHeldOutAccuracy = 0.875
        summary.samples = [.init(prompt: Self.prompt, replies: [
            "sft": .init(text: "<script>alert(1)</script>", rubric: 33.3),
            "policy": .init(text: "<img src=x onerror=alert(1)>", rubric: 100),
            "ablation-kl0": .init(text: "7-3 is 4 & 9-4 is 5", rubric: 100),
        ])]
        return summary
    }

    func testEscapeReplacesAllFiveCharactersEvenBeforeCombiningMarks() {
        XCTAssertEqual(DemoReport.escape("a & b < c > d \"e\" 'f'"), "a &amp; b &lt; c &gt; d &quot;e&quot; &#39;f&#39;")
        // A quote followed by a combining accent is one Character in Swift, but the HTML parser still sees the quote.
        XCTAssertEqual(DemoReport.escape("\"\u{301}<\u{338}"), "&quot;\u{301}&lt;\u{338}")
        XCTAssertEqual(DemoReport.escape("τ = 0.5 – ok"), "τ = 0.5 – ok")
        // Control characters from gibberish replies become U+FFFD; line breaks and tabs stay.
        XCTAssertEqual(DemoReport.escape("a\u{0}b\u{1F}c\u{7F}d\n\te"), "a\u{FFFD}b\u{FFFD}c\u{FFFD}d\n\te")
    }

    func testHTMLEscapesEveryStringThatComesFromData() {
        let html = DemoReport.html(summary())
        XCTAssertTrue(html.contains("<title>RLHFKit demo report</title>"))
        XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        XCTAssertTrue(html.contains("&lt;img src=x onerror=alert(1)&gt;"))
        XCTAssertTrue(html.contains("What&#39;s 7-3 &amp; &quot;9-4&quot;? It&#39;s &#39;urgent&#39;"))
        XCTAssertTrue(html.contains("<code>rlhf ppo --kl-coef 0 &amp;&amp; echo &quot;&lt;done&gt;&quot;</code>"))
        XCTAssertTrue(html.contains("&lt;b&gt;cy&lt;/b&gt;"))
        XCTAssertFalse(html.contains("<script"))
        XCTAssertFalse(html.contains("<img"))
        XCTAssertFalse(html.contains("<b>cy"))
        for external in ["src=\"", "href=", "url(", "@import", "<link"] { XCTAssertFalse(html.contains(external), external) }
        // Nil τ and every model's reply with its rubric score.
        XCTAssertTrue(html.contains("<td>–</td>"))
        XCTAssertTrue(html.contains("7-3 is 4 &amp; 9-4 is 5"))
        // Replies follow the results' order: SFT, PPO policy, ablation (the DPO policy has no sample here).
        let replyOrder = ["&lt;script", "&lt;img", "7-3 is 4"].map { html.range(of: $0)?.lowerBound }
        XCTAssertEqual(replyOrder.compactMap { $0 }, replyOrder.compactMap { $0 }.sorted())
        XCTAssertEqual(replyOrder.compactMap { $0 }.count, 3)
        // The ablation paragraph compares the β = 0 model with the PPO policy.
        XCTAssertTrue(html.contains("mean reward 2.500 vs 0.900, rubric score 55.0 vs 80.0, KL per token to SFT 0.4000 vs 0.0200"))
        XCTAssertTrue(html.contains("87.5%"))
        XCTAssertTrue(html.contains("α (ordinal) 0.610 over all labelers and 0.840 without those found unreliable"))
    }

    func testChartsDrawOnePolylinePerCurveWithEveryPoint() throws {
        let html = DemoReport.html(summary())
        let charts = html.matches(of: /<svg.*?<\/svg>/.dotMatchesNewlines()).map { String($0.output) }
        XCTAssertEqual(charts.count, 2)
        for chart in charts {
            let polylines = chart.matches(of: /<polyline[^>]*points="([^"]*)"/).map { $0.output.1.split(separator: " ").count }
            XCTAssertEqual(polylines, [4, 3])
            XCTAssertTrue(chart.contains("PPO iteration"))
            XCTAssertTrue(chart.contains("β = 0 ablation"))
        }
        XCTAssertTrue(charts[0].contains("objective/scores"))
        XCTAssertTrue(charts[1].contains("objective/kl"))
        // Min/max ticks of the score chart: iterations 1–4, scores 0.1–2.5.
        for tick in [">1<", ">4<", ">0.1<", ">2.5<"] { XCTAssertTrue(charts[0].contains(tick), tick) }
    }

    func testGRPOChartsDrawRewardAndKLPerStep() {
        var withGRPO = summary()
        withGRPO.grpoCurve = [.init(step: 1, reward: -0.3, kl: 0), .init(step: 2, reward: 0.4, kl: 0.02), .init(step: 3, reward: .nan, kl: 0.05)]
        let charts = DemoReport.html(withGRPO).matches(of: /<svg.*?<\/svg>/.dotMatchesNewlines()).map { String($0.output) }
        XCTAssertEqual(charts.count, 4, "two PPO charts and two GRPO charts (no DPO curve here)")
        let counts = charts[2...].map { $0.matches(of: /<polyline[^>]*points="([^"]*)"/).map { $0.output.1.split(separator: " ").count } }
        XCTAssertEqual(counts, [[2], [3]], "the NaN reward is left out, every KL point drawn")
        XCTAssertTrue(charts[2].contains("GRPO step") && charts[2].contains(">-0.3<") && charts[2].contains(">0.4<"))
        XCTAssertTrue(charts[3].contains(">0.05<"))
    }

    func testEmptyOrNaNCurvesShowNoData() {
        var empty = summary()
        empty.ppoCurve = []
        empty.ablationCurve = [.init(iteration: 1, score: .nan, kl: .nan, rlhfReward: .nan)]
        empty.agreement = nil
        empty.agreementWithoutUnreliable = nil
        let html = DemoReport.html(empty)
        XCTAssertFalse(html.contains("<svg"))
        XCTAssertEqual(html.matches(of: /no data/).count, 6, "two PPO, two DPO and two GRPO charts")
        XCTAssertFalse(html.contains("nan"))
        XCTAssertTrue(html.contains("α (ordinal) – over all labelers and – without"))

        var oneNaN = summary()
        oneNaN.ppoCurve[2].kl = .nan
        let klChart = String(DemoReport.html(oneNaN).matches(of: /<svg.*?<\/svg>/.dotMatchesNewlines())[1].output)
        XCTAssertEqual(klChart.matches(of: /<polyline[^>]*points="([^"]*)"/).map { $0.output.1.split(separator: " ").count }, [3, 3])
    }

    func testTableHasARowPerMetricAndAColumnPerModel() {
        let lines = DemoReport.table(summary()).split(separator: "\n").map(String.init)
        let cells = { (line: String) in line.split(separator: #/ {2,}/#).map { $0.trimmingCharacters(in: .whitespaces) } }
        XCTAssertEqual(cells(lines[0]), ["metric", "SFT", "PPO policy", "DPO policy", "GRPO policy", "β=0 ablation"])
        let labels = ["rubric score", "correctness", "helpfulness", "harmlessness", "arithmetic accuracy", "mean reward",
                      "win rate over SFT", "KL per token to SFT", "mean length", "distinct-2", "repetition rate",
                      "training time (s)", "peak memory (MB)"]
        let rows = lines.filter { line in labels.contains { line.hasPrefix($0) } }.map(cells)
        XCTAssertEqual(rows.map(\.first), labels)
        XCTAssertTrue(rows.allSatisfy { $0.count == 6 }, "\(rows)")
        XCTAssertEqual(rows[0], ["rubric score", "60.0", "80.0", "70.0", "58.0", "55.0"])
        XCTAssertEqual(rows[4], ["arithmetic accuracy", "37.5%", "50.0%", "43.8%", "36.2%", "34.4%"])
        XCTAssertEqual(rows[7], ["KL per token to SFT", "0.0000", "0.0200", "0.1000", "0.2000", "0.4000"])
        XCTAssertEqual(rows[11], ["training time (s)", "60", "80", "70", "58", "55"])
        XCTAssertEqual(rows[12], ["peak memory (MB)", "300", "300", "300", "300", "300"])
        // Columns are aligned: every row is as wide as the header.
        XCTAssertEqual(Set(([lines[0]] + lines.filter { line in labels.contains { line.hasPrefix($0) } }).map(\.count)).count, 1)
    }

    func testVerdictReportsGainAgainstRequirementAndKLAgainstBudget() {
        let passing = DemoReport.table(summary())
        XCTAssertTrue(passing.contains("rubric score +20.0 points over SFT (required +15.0: met)"), passing)
        XCTAssertTrue(passing.contains("DPO +10.0 points over SFT (beats SFT), KL per token 0.1000."), passing)
        XCTAssertTrue(passing.contains("GRPO -2.0 points over SFT (does not beat SFT), KL per token 0.2000."), passing)
        XCTAssertTrue(passing.contains("KL per token to SFT 0.0200 (budget 0.0500: within)"), passing)
        XCTAssertTrue(DemoReport.html(summary()).contains("+20.0 points over SFT"))

        let failing = DemoReport.table(summary(policyRubric: 70, policyKL: 0.08))
        XCTAssertTrue(failing.contains("+10.0 points over SFT (required +15.0: not met)"), failing)
        XCTAssertTrue(failing.contains("0.0800 (budget 0.0500: over)"), failing)
    }
}
