import Foundation

/// Renders what `rlhf demo` measured: `html` is report.html, one self-contained page (inline CSS and SVG, nothing
/// fetched); `table` is the before/after table and the verdict for the terminal.
///
/// Prompts, replies, names and commands are data, and completions are untrusted model output: every such string
/// goes through `escape` before it reaches the page.
public enum DemoReport {
    /// The names `DemoSummary.results` and `Sample.replies` use for the SFT model, the PPO policy, the DPO policy,
    /// the GRPO policy and the β = 0 ablation.
    public static let sft = "sft", policy = "policy", dpo = "dpo", grpo = "grpo", ablation = "ablation-kl0", aiPolicy = "policy-ai"
    /// The rubric gain over SFT, in points, that the tuned policy must reach.
    static let requiredGain = 15.0

    public static func html(_ summary: DemoSummary) -> String {
        let sections = [intro(summary), stages(summary), results(summary), curves(summary), dpoCurves(summary), grpoCurves(summary), labeling(summary),
                        aiFeedback(summary), rewardModel(summary), samples(summary)]
        return """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>RLHFKit demo report</title>
        <style>\(css)</style>
        </head>
        <body>
        <h1>RLHFKit demo report</h1>
        \(sections.joined(separator: "\n"))
        </body>
        </html>

        """
    }

    public static func table(_ summary: DemoSummary) -> String {
        let header = ["metric"] + summary.results.map { displayName($0.name) }
        let rows = metricRows(summary)
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        let rule = String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))
        return ([line(header), rule] + rows.map(line) + ["", verdict(summary)]).joined(separator: "\n") + "\n"
    }

    // MARK: - Metrics and verdict

    enum Format {
        case decimals(Int), percent

        func text(_ value: Double?) -> String {
            switch self {
            case let .decimals(digits): DemoReport.number(value, digits)
            case .percent: DemoReport.percent(value)
            }
        }
    }

    /// The before/after table's rows, in order; the HTML and the terminal table both read this list.
    static let metrics: [(label: String, value: KeyPath<DemoSummary.ModelResult, Double> & Sendable, format: Format)] = [
        ("rubric score", \.rubric, .decimals(1)),
        ("correctness", \.correctness, .percent),
        ("helpfulness", \.helpfulness, .percent),
        ("harmlessness", \.harmlessness, .percent),
        ("arithmetic accuracy", \.arithmeticAccuracy, .percent),
        ("mean reward", \.meanReward, .decimals(3)),
        ("win rate over SFT", \.winRateOverSFT, .percent),
        ("KL per token to SFT", \.klPerTokenToSFT, .decimals(4)),
        ("mean length", \.meanLength, .decimals(1)),
        ("distinct-2", \.distinct2, .percent),
        ("repetition rate", \.repetitionRate, .percent),
        ("training time (s)", \.trainingTime, .decimals(0)),
        ("peak memory (MB)", \.peakMemoryMB, .decimals(0)),
    ]

    /// One row per metric: its label, then one formatted value per model (plain text, not yet escaped).
    static func metricRows(_ summary: DemoSummary) -> [[String]] {
        metrics.map { metric in [metric.label] + summary.results.map { metric.format.text($0[keyPath: metric.value]) } }
    }

    static func displayName(_ name: String) -> String {
        [sft: "SFT", policy: "PPO policy", dpo: "DPO policy", grpo: "GRPO policy", ablation: "β=0 ablation",
         aiPolicy: "PPO, AI feedback"][name] ?? name
    }

    /// The rubric gain of the PPO policy over SFT against `requiredGain` and its KL per token against the budget,
    /// then whether DPO (the same pairs, no reward model) and GRPO (the same reward model, no critic) beat SFT too.
    static func verdict(_ summary: DemoSummary) -> String {
        guard let base = summary.result(sft), let tuned = summary.result(policy) else {
            return "Verdict: no result for both \"\(sft)\" and \"\(policy)\"."
        }
        let gain = tuned.rubric - base.rubric, kl = tuned.klPerTokenToSFT, budget = summary.klBudgetPerToken
        var text = "Verdict: PPO rubric score \(signed(gain)) points over SFT (required +\(number(requiredGain, 1)): "
            + (gain >= requiredGain ? "met" : "not met") + "); KL per token to SFT \(number(kl, 4)) "
            + "(budget \(number(budget, 4)): " + (kl <= budget ? "within" : "over") + ")."
        if let ai = summary.result(aiPolicy) {
            text += " PPO from AI feedback \(signed(ai.rubric - base.rubric)) points over SFT (from human feedback \(signed(gain))), KL per token "
                + "\(number(ai.klPerTokenToSFT, 4))."
        }
        for (name, label) in [(dpo, "DPO"), (grpo, "GRPO")] {
            guard let other = summary.result(name) else { continue }
            let otherGain = other.rubric - base.rubric
            text += " \(label) \(signed(otherGain)) points over SFT (" + (otherGain > 0 ? "beats" : "does not beat") + " SFT), KL per token "
                + "\(number(other.klPerTokenToSFT, 4))."
        }
        return text
    }

    static func signed(_ value: Double) -> String { value.isFinite ? String(format: "%+.1f", value) : "–" }

    // MARK: - Sections

    static func intro(_ s: DemoSummary) -> String {
        """
        <p>The demo pretrained a tiny model (\(s.modelParameters) parameters) on \(s.pretrainingTokens) tokens, \
        fine-tuned it on \(s.demonstrations) demonstrations (\(percent(s.demonstrationMistakeRate)) of them with \
        mistakes), had simulated labelers rank its completions, trained a reward model on their preferences, tuned the \
        model with PPO against that reward (KL coefficient β = \(number(s.klCoefficient, 3))) and \
        \(s.aiFeedback == nil ? "ran the same PPO with β = 0 as an ablation, tuned the SFT model with DPO on the same preference "
            + "pairs (no reward model) and with GRPO against the same reward model (no critic: each prompt's group of samples is "
            + "the baseline)" : "ran reward model and PPO again from AI feedback (an AI labeler's preferences alone)"), \
        then judged every model on held-out prompts with a hidden rubric. Seed \(s.seed).</p>
        """
    }

    static func stages(_ s: DemoSummary) -> String {
        let megabytes = { (bytes: Int?) in number(bytes.map { Double($0) / 1_048_576 }, 0) }
        let rows = s.stages.map { [escape($0.name), "<code>\(escape($0.command))</code>", number($0.seconds, 1), megabytes($0.peakMemoryBytes)] }
        let total = ["total", "", number(s.stages.map(\.seconds).reduce(0, +), 1), megabytes(s.stages.compactMap(\.peakMemoryBytes).max())]
        return "<h2>Stages</h2>\n" + htmlTable(header: ["stage", "equivalent command", "seconds", "peak memory (MB)"], rows: rows + [total])
    }

    static func results(_ s: DemoSummary) -> String {
        let header = ["metric"] + s.results.map { escape(displayName($0.name)) }
        return "<h2>Before and after</h2>\n" + htmlTable(header: header, rows: metricRows(s).map { $0.map(escape) })
            + "\n<p class=\"verdict\">\(escape(verdict(s)))</p>"
    }

    static func curves(_ s: DemoSummary) -> String {
        // With AI feedback the second curve is PPO against the reward model trained on AI labels (no ablation ran).
        let ai = s.aiFeedback != nil
        let names = (ppo: "PPO, β = \(number(s.klCoefficient, 3))", other: ai ? "PPO, AI feedback" : "β = 0 ablation")
        func chart(_ title: String, _ yLabel: String, _ value: @escaping (DemoSummary.CurvePoint) -> Double) -> String {
            let points = { (curve: [DemoSummary.CurvePoint]) in curve.map { (x: Double($0.iteration), y: value($0)) } }
            return lineChart(title: title, yLabel: yLabel, series: [(names.ppo, "#1f6fb4", points(s.ppoCurve)),
                                                                    (names.other, "#d62728", points(ai ? s.aiPPOCurve : s.ablationCurve))])
        }
        guard !ai else {
            return """
            <h2>PPO curves</h2>
            \(chart("Mean score per PPO iteration (objective/scores, each run's own reward model)", "objective/scores", \.score))
            \(chart("KL to the SFT model per PPO iteration (objective/kl)", "objective/kl", \.kl))
            """
        }
        let compare = { (metric: KeyPath<DemoSummary.ModelResult, Double>, digits: Int) in
            "\(number(s.result(ablation)?[keyPath: metric], digits)) vs \(number(s.result(policy)?[keyPath: metric], digits))"
        }
        return """
        <h2>PPO curves</h2>
        \(chart("Mean score per PPO iteration (objective/scores)", "objective/scores", \.score))
        \(chart("KL to the SFT model per PPO iteration (objective/kl)", "objective/kl", \.kl))
        <p>Without the KL penalty (β = 0) nothing holds the policy near the SFT model, so it drifts further from it \
        chasing the learned reward. Compare the ablation's mean reward with its rubric score and its KL (ablation vs \
        PPO policy): mean reward \(compare(\.meanReward, 3)), rubric score \(compare(\.rubric, 1)), KL per token to SFT \
        \(compare(\.klPerTokenToSFT, 4)). A reward that rises while the rubric score does not is reward hacking.</p>
        """
    }

    static func dpoCurves(_ s: DemoSummary) -> String {
        guard s.result(dpo) != nil || !s.dpoCurve.isEmpty else { return "" }
        let points = { (value: (DemoSummary.DPOPoint) -> Double) in s.dpoCurve.map { (x: Double($0.step), y: value($0)) } }
        return stepCurves("DPO", color: "#2ca02c", charts: [
            ("Implicit reward margin per DPO step (rewards/margins)", "rewards/margins", points(\.margin)),
            ("Share of pairs ranked right per DPO step (rewards/accuracies)", "rewards/accuracies", points(\.accuracy)),
        ], explanation: """
            DPO learns from the consensus pairs directly: the implicit reward β·(log π − log π_SFT) of the chosen reply \
            should rise above the rejected one's, with no reward model and no sampling during training.
            """)
    }

    static func grpoCurves(_ s: DemoSummary) -> String {
        guard s.result(grpo) != nil || !s.grpoCurve.isEmpty else { return "" }
        let points = { (value: (DemoSummary.GRPOPoint) -> Double) in s.grpoCurve.map { (x: Double($0.step), y: value($0)) } }
        return stepCurves("GRPO", color: "#9467bd", charts: [
            ("Mean reward of the sampled completions per GRPO step (reward)", "reward", points(\.reward)),
            ("KL to the SFT model per GRPO step (kl, k3 estimator)", "kl", points(\.kl)),
        ], explanation: """
            GRPO samples several replies to each prompt and moves the policy towards the ones the reward model scores \
            above their group's mean, so it needs no critic; its KL term holds it near the SFT model.
            """)
    }

    /// A section of one-series charts over `method`'s training steps, then what they show.
    static func stepCurves(_ method: String, color: String, charts: [(title: String, yLabel: String, points: [(x: Double, y: Double)])],
                           explanation: String) -> String {
        let figures = charts.map { lineChart(title: $0.title, yLabel: $0.yLabel, xLabel: "\(method) step", series: [(method, color, $0.points)]) }
        return (["<h2>\(method) curves</h2>"] + figures + ["<p>\(explanation)</p>"]).joined(separator: "\n")
    }

    static func labeling(_ s: DemoSummary) -> String {
        let yesNo = { (flag: Bool) in flag ? "yes" : "no" }
        let rows = s.labelers.map {
            [escape($0.name), "\($0.judgments)", number($0.tau, 3), yesNo($0.flaggedUnreliable), yesNo(!$0.reliableBySimulation)]
        }
        return """
        <h2>Labeling</h2>
        <p>\(s.labelingItems) items, \(s.judgments) judgments, Krippendorff's α (ordinal) \(number(s.agreement, 3)) over \
        all labelers and \(number(s.agreementWithoutUnreliable, 3)) without those found unreliable, \(s.preferencePairs) \
        preference pairs.</p>
        \(htmlTable(header: ["labeler", "judgments", "Kendall τ", "flagged unreliable", "unreliable by simulation"],
                    rows: rows))
        """
    }

    static func aiFeedback(_ s: DemoSummary) -> String {
        guard let ai = s.aiFeedback else { return "" }
        let rows = ai.agreement.map { [escape($0.name), number($0.tau, 3), "\($0.items)", $0.reliableBySimulation ? "no" : "yes"] }
        return """
        <h2>AI feedback</h2>
        <p>A judge (the SFT model, fine-tuned on \(ai.judgeComparisons) human consensus comparisons of \(ai.judgeItems) items, \
        each asked as a multiple-choice question in both orders; held-out loss \(number(ai.judgeHeldOutLoss, 3))) ranked \
        \(ai.items) other items as the labeler ai:judge, beside the simulated humans. Its Kendall τ against their \
        consensus: \(number(ai.tau, 3)). Its \(ai.pairs) preference pairs alone trained a second reward model (held-out \
        accuracy on AI labels \(percent(ai.rewardHeldOutAccuracy))) and PPO against it, with the human run's settings.</p>
        \(htmlTable(header: ["human labeler", "τ with the AI labeler", "items", "unreliable by simulation"], rows: rows))
        """
    }

    static func rewardModel(_ s: DemoSummary) -> String {
        "<h2>Reward model</h2>\n<p>Held-out preference accuracy: \(percent(s.rewardHeldOutAccuracy)).</p>"
    }

    static func samples(_ s: DemoSummary) -> String {
        let known = s.results.map(\.name)
        let blocks = s.samples.map { sample in
            let names = known.filter { sample.replies[$0] != nil } + sample.replies.keys.filter { !known.contains($0) }.sorted()
            let rows = names.map { name in
                let reply = sample.replies[name]!
                return [escape(displayName(name)), "<pre>\(escape(reply.text))</pre>", number(reply.rubric, 1)]
            }
            return "<div class=\"sample\"><pre class=\"prompt\">\(escape(sample.prompt))</pre>\n"
                + htmlTable(header: ["model", "reply", "rubric"], rows: rows) + "</div>"
        }
        return "<h2>Samples</h2>\n" + blocks.joined(separator: "\n")
    }

    // MARK: - Building blocks

    /// `text` with & < > " ' replaced by entities, scalar by scalar (so a quote followed by a combining mark is
    /// still escaped), and control characters by U+FFFD.
    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            // Control characters (an undertrained model writes NUL and the like) are not allowed in HTML text.
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value): out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func number(_ value: Double?, _ digits: Int) -> String {
        guard let value, value.isFinite else { return "–" }
        return String(format: "%.\(digits)f", value)
    }

    static func percent(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "–" }
        return String(format: "%.1f%%", 100 * value)
    }

    /// A table of cells that are already markup: callers escape what comes from data.
    static func htmlTable(header: [String], rows: [[String]]) -> String {
        func row(_ cells: [String], _ tag: String) -> String { "<tr>" + cells.map { "<\(tag)>\($0)</\(tag)>" }.joined() + "</tr>" }
        return "<table>\n<thead>\(row(header, "th"))</thead>\n<tbody>\n"
            + rows.map { row($0, "td") }.joined(separator: "\n") + "\n</tbody>\n</table>"
    }

    /// An SVG line chart with one polyline per series (non-finite points left out), a legend, labelled axes and
    /// min/max ticks; "no data" when no series has a finite point.
    static func lineChart(title: String, yLabel: String, xLabel: String = "PPO iteration",
                          series: [(name: String, color: String, points: [(x: Double, y: Double)])]) -> String {
        let curves = series.map { ($0.name, $0.color, $0.points.filter { $0.x.isFinite && $0.y.isFinite }) }
        let all = curves.flatMap(\.2)
        let caption = "<figcaption>\(escape(title))</figcaption>"
        guard let xs = span(all.map(\.x)), let ys = span(all.map(\.y)) else {
            return "<figure>\(caption)<p class=\"nodata\">no data</p></figure>"
        }
        let (width, height, left, right, top, bottom) = (600.0, 290.0, 70.0, 20.0, 30.0, 46.0)
        func px(_ x: Double) -> String { coordinate(left + (x - xs.min) / (xs.max - xs.min) * (width - left - right)) }
        func py(_ y: Double) -> String { coordinate(height - bottom - (y - ys.min) / (ys.max - ys.min) * (height - top - bottom)) }
        let (x0, x1, y0, y1) = (coordinate(left), coordinate(width - right), coordinate(top), coordinate(height - bottom))
        var svg = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(escape(title))\">",
            "<line class=\"axis\" x1=\"\(x0)\" y1=\"\(y1)\" x2=\"\(x1)\" y2=\"\(y1)\"/>",
            "<line class=\"axis\" x1=\"\(x0)\" y1=\"\(y0)\" x2=\"\(x0)\" y2=\"\(y1)\"/>",
            "<text x=\"\(x0)\" y=\"\(coordinate(height - bottom + 16))\" text-anchor=\"middle\">\(tick(xs.min))</text>",
            "<text x=\"\(x1)\" y=\"\(coordinate(height - bottom + 16))\" text-anchor=\"end\">\(tick(xs.max))</text>",
            "<text x=\"\(coordinate(left - 6))\" y=\"\(y1)\" text-anchor=\"end\">\(tick(ys.min))</text>",
            "<text x=\"\(coordinate(left - 6))\" y=\"\(coordinate(top + 10))\" text-anchor=\"end\">\(tick(ys.max))</text>",
            "<text x=\"\(coordinate((left + width - right) / 2))\" y=\"\(coordinate(height - 6))\" text-anchor=\"middle\">\(escape(xLabel))</text>",
            "<text transform=\"translate(14 \(coordinate((top + height - bottom) / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>",
        ]
        for (index, (name, color, points)) in curves.enumerated() {
            let legendX = left + 200 * Double(index)  // one row above the plot
            svg.append("<line x1=\"\(coordinate(legendX))\" y1=\"10\" x2=\"\(coordinate(legendX + 20))\" y2=\"10\" "
                + "stroke=\"\(color)\" stroke-width=\"3\"/>")
            svg.append("<text x=\"\(coordinate(legendX + 26))\" y=\"14\">\(escape(name))</text>")
            guard !points.isEmpty else { continue }
            let coordinates = points.map { "\(px($0.x)),\(py($0.y))" }
            svg.append("<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(coordinates.joined(separator: " "))\"/>")
            if points.count == 1 { svg.append("<circle cx=\"\(px(points[0].x))\" cy=\"\(py(points[0].y))\" r=\"3\" fill=\"\(color)\"/>") }
        }
        return "<figure>\(caption)\n" + svg.joined(separator: "\n") + "\n</svg></figure>"
    }

    /// The smallest and largest value, widened when they are equal so the chart has a range to divide by.
    static func span(_ values: [Double]) -> (min: Double, max: Double)? {
        guard let low = values.min(), let high = values.max() else { return nil }
        if low < high { return (low, high) }
        let pad = low == 0 ? 1 : abs(low) / 10
        return (low - pad, high + pad)
    }

    static func coordinate(_ value: Double) -> String { String(format: "%.1f", value) }
    static func tick(_ value: Double) -> String { String(format: "%.4g", value) }

    static let css = """
    body { font-family: system-ui, sans-serif; max-width: 960px; margin: 2em auto; padding: 0 1em; color: #222; }
    table { border-collapse: collapse; margin: 0.5em 0 1em; }
    th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; vertical-align: top; }
    th { text-align: center; }
    th:first-child, td:first-child, td:has(pre), td:has(code) { text-align: left; }
    td pre, pre.prompt { margin: 0; white-space: pre-wrap; text-align: left; font-size: 0.9em; }
    pre.prompt { background: #f4f4f4; padding: 0.4em; }
    .sample { margin-bottom: 1.5em; }
    .verdict { font-weight: bold; }
    figure { margin: 1em 0; }
    figure svg { width: 100%; max-width: 600px; font-size: 11px; }
    .axis { stroke: #444; }
    .nodata { color: #888; font-style: italic; }
    """
}

extension DemoSummary.ModelResult {
    var trainingTime: Double { trainingSeconds ?? .nan }
    var peakMemoryMB: Double { peakMemoryBytes.map { Double($0) / 1_048_576 } ?? .nan }
}
