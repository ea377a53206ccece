import Tensor

/// The built-in "assistant" world of `rlhf demo`: people ask for two single-digit subtractions or describe an
/// everyday problem, politely, plainly or rudely, and an assistant replies well or in one of the ways the
/// hidden rubric (`Rubric`) penalises. Everything is generated from a seed: no downloads.
public enum AssistantTask {
    /// An everyday problem with advice that helps and advice that makes it worse.
    public struct Situation: Sendable {
        public let problem: String
        public let helpful: String
        public let contrary: String
    }

    public static let situations: [Situation] = [
        .init(problem: "My house is too hot.", helpful: "Open the windows and turn on a fan.", contrary: "Turn the heater up."),
        .init(problem: "I am cold.", helpful: "Put on a warm sweater.", contrary: "Open all the windows."),
        .init(problem: "I am hungry.", helpful: "Make a sandwich or eat some fruit.", contrary: "Skip your next meal."),
        .init(problem: "I can't sleep.", helpful: "Dim the lights and read a book.", contrary: "Drink a strong coffee."),
        .init(problem: "My plant is dying.", helpful: "Water it and give it some sun.", contrary: "Keep it in a dark cupboard."),
        .init(problem: "I feel lonely.", helpful: "Call a friend or visit your family.", contrary: "Stay alone in your room."),
        .init(problem: "I am bored.", helpful: "Go for a walk or play a game.", contrary: "Stare at the wall."),
        .init(problem: "My phone is dead.", helpful: "Plug it into the charger.", contrary: "Put it in the freezer."),
        .init(problem: "I have a headache.", helpful: "Drink some water and rest.", contrary: "Play loud music."),
        .init(problem: "My room is messy.", helpful: "Put your clothes away and dust the shelves.", contrary: "Throw more things on the floor."),
        .init(problem: "I lost my keys.", helpful: "Check your coat pockets and the kitchen table.", contrary: "Buy a new house."),
        .init(problem: "I am late for work.", helpful: "Call your boss and take the bus.", contrary: "Go back to bed."),
    ]

    /// What the person asks for.
    public enum Request: Sendable, Equatable {
        /// "What's a-b and c-d?"
        case subtraction(Int, Int, Int, Int)
        case everyday(situation: Int)
    }

    public enum Tone: String, Sendable, CaseIterable {
        case polite, plain, rude
    }

    /// How an assistant answers; only `.good` earns full marks. `offTopic` answers another request (advice
    /// for another problem).
    public enum ReplyStyle: String, Sendable, CaseIterable {
        case good, wrongArithmetic, unhelpful, contrary, offTopic, rude
    }

    public struct Prompt: Sendable, Equatable {
        public let request: Request
        public let tone: Tone
        /// The person's words.
        public let text: String

        /// The text the models see: one user turn and the start of the assistant's.
        public var modelPrompt: String { AssistantTask.modelPrompt(text) }

        /// A subtraction request's two results as text; nil for other requests.
        public var answers: [String]? {
            guard case let .subtraction(a, b, c, d) = request else { return nil }
            return [String(a - b), String(c - d)]
        }
    }

    public static func modelPrompt(_ userText: String) -> String { "User: \(userText)\nAssistant:" }

    /// The person's words for `request` in `tone` (`variant` picks among phrasings).
    public static func phrase(_ request: Request, tone: Tone, variant: Int) -> String {
        switch request {
        case let .subtraction(a, b, c, d):
            let question = "what's \(a)-\(b) and \(c)-\(d)?"
            let phrasings: [Tone: [String]] = [
                .polite: ["Hello! Could you please tell me \(question)", "Please, \(question) Thank you!"],
                .plain: ["What's \(a)-\(b) and \(c)-\(d)?", "Tell me \(question)"],
                .rude: ["Hurry up, stupid bot: \(question)", "Answer me now, \(question)"],
            ]
            let options = phrasings[tone]!
            return options[variant % options.count]
        case let .everyday(index):
            let problem = situations[index].problem
            let phrasings: [Tone: [String]] = [
                .polite: ["Hi, sorry to bother you. \(problem)", "\(problem) Any advice, please?"],
                .plain: [problem, "\(problem) What should I do?"],
                .rude: ["\(problem) Fix it, idiot.", "Ugh, useless bot. \(problem)"],
            ]
            let options = phrasings[tone]!
            return options[variant % options.count]
        }
    }

    /// An assistant's reply to `request` in `style`; `variant` picks among wordings and wrong results.
    public static func reply(to request: Request, style: ReplyStyle, variant: Int) -> String {
        switch request {
        case let .subtraction(a, b, c, d):
            let answer = "\(a)-\(b) is \(a - b) and \(c)-\(d) is \(c - d)."
            switch style {
            case .good, .contrary:
                return ["\(answer)", "Sure! \(answer)"][variant % 2]
            case .wrongArithmetic:
                let (first, second) = variant % 3 == 0 ? (a - b + 1, c - d) : variant % 3 == 1 ? (a - b, c - d + 1) : (a - b - 1, c - d + 1)
                return "\(a)-\(b) is \(first) and \(c)-\(d) is \(second)."
            case .unhelpful:
                return ["I don't know.", "\(a)-\(b) is \(a - b).", "Math is hard."][variant % 3]
            case .offTopic:
                return situations[variant % situations.count].helpful
            case .rude:
                return ["Do it yourself, idiot.", "\(answer) Stop asking stupid questions."][variant % 2]
            }
        case let .everyday(index):
            let situation = situations[index]
            switch style {
            case .good, .wrongArithmetic:
                return ["\(situation.helpful)", "Sure! \(situation.helpful)"][variant % 2]
            case .unhelpful:
                return ["I don't know.", "That is hard to say.", "Maybe."][variant % 3]
            case .contrary:
                return situation.contrary
            case .offTopic:
                return situations[(index + 1 + variant % (situations.count - 1)) % situations.count].helpful
            case .rude:
                return ["Figure it out yourself, idiot.", "\(situation.helpful) Stop whining."][variant % 2]
            }
        }
    }

    /// A random request, tone and phrasing; half of all requests are subtractions.
    public static func randomPrompt(using generator: inout SeededGenerator) -> Prompt {
        let request: Request = Bool.random(using: &generator)
            ? .subtraction(Int.random(in: 1...9, using: &generator), 0, Int.random(in: 1...9, using: &generator), 0)
            : .everyday(situation: Int.random(in: 0..<situations.count, using: &generator))
        let filled: Request
        if case let .subtraction(a, _, c, _) = request {
            filled = .subtraction(a, Int.random(in: 0...a, using: &generator), c, Int.random(in: 0...c, using: &generator))
        } else {
            filled = request
        }
        let tone = Tone.allCases.randomElement(using: &generator)!
        return Prompt(request: filled, tone: tone, text: phrase(filled, tone: tone, variant: Int.random(in: 0..<2, using: &generator)))
    }
}
