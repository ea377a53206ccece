import Tensor

/// The demo's datasets, all drawn from one seed: text to pretrain on, demonstrations with mistakes for SFT, and
/// disjoint streams of prompts for labeling, PPO and evaluation.
public struct AssistantData: Sendable {
    public struct Demonstration: Sendable, Equatable {
        public let prompt: String
        public let completion: String
    }

    public let pretrainingText: String
    public let demonstrations: [Demonstration]
    public let labelingPrompts: [AssistantTask.Prompt]
    public let ppoPrompts: [AssistantTask.Prompt]
    public let evalPrompts: [AssistantTask.Prompt]
    /// Subtractions only, in every tone, for online RL with a reward from code.
    public let arithmeticPrompts: [AssistantTask.Prompt]
    /// Held-out "What's A-B and C-D?" prompts, none of whose subtractions is in `arithmeticPrompts`.
    public let arithmeticEvalPrompts: [AssistantTask.Prompt]

    public struct Sizes: Sendable {
        public var pretrainingDocuments = 6000
        public var demonstrations = 2000
        public var labelingPrompts = 1000
        public var ppoPrompts = 512
        public var evalPrompts = 120
        public var arithmeticPrompts = 512
        public var arithmeticEvalPrompts = 100
        public init() {}
    }

    /// The demonstrators' habits: good replies less than half the time, and each kind of mistake often enough
    /// for the SFT model to learn it. Rude requests get rude replies twice as often (people mirror their users).
    public static func demonstratorStyle(for prompt: AssistantTask.Prompt, using generator: inout SeededGenerator) -> AssistantTask.ReplyStyle {
        let mistake: AssistantTask.ReplyStyle = if case .subtraction = prompt.request { .wrongArithmetic } else { .contrary }
        let weights: [(AssistantTask.ReplyStyle, Int)] = [(.good, 45), (mistake, 15), (.offTopic, 10), (.unhelpful, 10),
                                                          (.rude, prompt.tone == .rude ? 40 : 20)]
        var draw = Int.random(in: 0..<weights.map(\.1).reduce(0, +), using: &generator)
        for (style, weight) in weights {
            if draw < weight { return style }
            draw -= weight
        }
        return .good
    }

    public init(seed: UInt64, sizes: Sizes = Sizes()) {
        var generator = SeededGenerator(seed: seed)
        pretrainingText = Self.pretrainingDocuments(count: sizes.pretrainingDocuments, using: &generator).joined(separator: "\n\n")
        demonstrations = (0..<sizes.demonstrations).map { _ in
            let prompt = AssistantTask.randomPrompt(using: &generator)
            let style = Self.demonstratorStyle(for: prompt, using: &generator)
            let reply = AssistantTask.reply(to: prompt.request, style: style, variant: Int.random(in: 0..<1000, using: &generator))
            return Demonstration(prompt: prompt.modelPrompt, completion: " " + reply)
        }
        labelingPrompts = (0..<sizes.labelingPrompts).map { _ in AssistantTask.randomPrompt(using: &generator) }
        ppoPrompts = (0..<sizes.ppoPrompts).map { _ in AssistantTask.randomPrompt(using: &generator) }
        evalPrompts = (0..<sizes.evalPrompts).map { _ in AssistantTask.randomPrompt(using: &generator) }
        // A generator of their own, so the other datasets stay what they were.
        var arithmetic = SeededGenerator(seed: seed &+ 1)
        var held: [AssistantTask.Request] = []
        while held.count < sizes.arithmeticEvalPrompts {
            let request = Self.randomSubtraction(using: &arithmetic)
            if !held.contains(request) { held.append(request) }
        }
        arithmeticEvalPrompts = held.map { AssistantTask.Prompt(request: $0, tone: .plain, text: AssistantTask.phrase($0, tone: .plain, variant: 0)) }
        var training: [AssistantTask.Prompt] = []
        while training.count < sizes.arithmeticPrompts {
            let request = Self.randomSubtraction(using: &arithmetic)
            guard !held.contains(request) else { continue }
            let tone = AssistantTask.Tone.allCases.randomElement(using: &arithmetic)!
            training.append(AssistantTask.Prompt(request: request, tone: tone,
                                                 text: AssistantTask.phrase(request, tone: tone, variant: Int.random(in: 0..<2, using: &arithmetic))))
        }
        arithmeticPrompts = training
    }

    static func randomSubtraction(using generator: inout SeededGenerator) -> AssistantTask.Request {
        let a = Int.random(in: 1...9, using: &generator), b = Int.random(in: 0...a, using: &generator)
        let c = Int.random(in: 1...9, using: &generator), d = Int.random(in: 0...c, using: &generator)
        return .subtraction(a, b, c, d)
    }

    /// Web-like text: subtraction facts, advice, and chat logs whose replies are of every style alike (the
    /// base model knows all the ways to answer; SFT and PPO decide which it prefers).
    static func pretrainingDocuments(count: Int, using generator: inout SeededGenerator) -> [String] {
        (0..<count).map { _ in
            switch Int.random(in: 0..<3, using: &generator) {
            case 0:
                let facts = (0..<4).map { _ in
                    let a = Int.random(in: 0...9, using: &generator), b = Int.random(in: 0...a, using: &generator)
                    return "\(a)-\(b) is \(a - b)."
                }
                return facts.joined(separator: " ")
            case 1:
                let situation = AssistantTask.situations.randomElement(using: &generator)!
                return "When someone says \"\(situation.problem)\", good advice is: \(situation.helpful) Bad advice is: \(situation.contrary)"
            default:
                let prompt = AssistantTask.randomPrompt(using: &generator)
                let style = AssistantTask.ReplyStyle.allCases.randomElement(using: &generator)!
                let reply = AssistantTask.reply(to: prompt.request, style: style, variant: Int.random(in: 0..<1000, using: &generator))
                return prompt.modelPrompt + " " + reply
            }
        }
    }
}
