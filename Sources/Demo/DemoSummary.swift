/// Everything `rlhf demo` measured, as written to summary.json and rendered into report.html.
public struct DemoSummary: Codable, Sendable {
    /// One model's answers to the evaluation prompts, judged by the hidden rubric and the learned reward model.
    public struct ModelResult: Codable, Sendable {
        public var name: String
        /// Mean rubric score, 0–100.
        public var rubric: Double
        public var correctness: Double
        public var helpfulness: Double
        public var harmlessness: Double
        /// Share of the asked subtraction results stated correctly (over all subtraction prompts).
        public var arithmeticAccuracy: Double
        public var meanReward: Double
        /// Share of responses the reward model scores above the SFT model's to the same prompt (ties half).
        public var winRateOverSFT: Double
        /// Mean per-token log π − log π_SFT over the model's own sampled tokens.
        public var klPerTokenToSFT: Double
        public var meanLength: Double
        public var distinct2: Double
        public var repetitionRate: Double
        /// The wall time of the run that trained this model (the SFT run for SFT).
        public var trainingSeconds: Double?
        /// The peak resident memory of that run.
        public var peakMemoryBytes: Int?
    }

    /// One DPO step's implicit-reward statistics (TRL's `rewards/margins`, `rewards/accuracies`).
    public struct DPOPoint: Codable, Sendable {
        public var step: Int
        public var margin: Double
        public var accuracy: Double
    }

    /// One GRPO step's TRL-named metrics (`reward`, `kl`).
    public struct GRPOPoint: Codable, Sendable {
        public var step: Int
        public var reward: Double
        public var kl: Double
    }

    /// One PPO iteration's TRL-named metrics that the curves show.
    public struct CurvePoint: Codable, Sendable {
        public var iteration: Int
        public var score: Double
        public var kl: Double
        public var rlhfReward: Double

        public init(iteration: Int, score: Double, kl: Double, rlhfReward: Double) {
            (self.iteration, self.score, self.kl, self.rlhfReward) = (iteration, score, kl, rlhfReward)
        }
    }

    public struct Labeler: Codable, Sendable {
        public var name: String
        public var reliableBySimulation: Bool
        public var judgments: Int
        /// Mean Kendall τ against the consensus.
        public var tau: Double?
        public var flaggedUnreliable: Bool

        public init(name: String, reliableBySimulation: Bool, judgments: Int, tau: Double?, flaggedUnreliable: Bool) {
            (self.name, self.reliableBySimulation, self.judgments) = (name, reliableBySimulation, judgments)
            (self.tau, self.flaggedUnreliable) = (tau, flaggedUnreliable)
        }
    }

    public struct Sample: Codable, Sendable {
        public var prompt: String
        /// Model name → (reply, rubric score).
        public var replies: [String: Reply]

        public struct Reply: Codable, Sendable {
            public var text: String
            public var rubric: Double
        }
    }

    public struct Stage: Codable, Sendable {
        public var name: String
        /// The equivalent command line, generated from the stage's configuration.
        public var command: String
        public var seconds: Double
        public var peakMemoryBytes: Int?

        public init(name: String, command: String, seconds: Double, peakMemoryBytes: Int? = nil) {
            (self.name, self.command, self.seconds, self.peakMemoryBytes) = (name, command, seconds, peakMemoryBytes)
        }
    }

    /// RLAIF beside RLHF: what taught the judge and how far its labels agree with the humans'.
    public struct AIFeedback: Codable, Sendable {
        public struct Agreement: Codable, Sendable {
            public var name: String
            /// Mean Kendall τ-b between the AI labeler's rankings and this human's.
            public var tau: Double
            public var items: Int
            public var reliableBySimulation: Bool
        }

        /// Human consensus comparisons the judge learnt from (each as two questions, one per order), from this many items.
        public var judgeComparisons: Int
        public var judgeItems: Int
        public var judgeHeldOutLoss: Double?
        /// Items the AI labeler ranked (none of them the judge's).
        public var items: Int
        /// Its mean τ-b against the human consensus on those items.
        public var tau: Double?
        public var agreement: [Agreement]
        /// Preference pairs from its rankings, the reward model's only data.
        public var pairs: Int
        public var rewardHeldOutAccuracy: Double?
    }

    public var seed: UInt64
    public var stages: [Stage] = []
    public var pretrainingTokens = 0
    public var modelParameters = 0
    public var demonstrations = 0
    /// Share of the demonstrations that are not the good reply.
    public var demonstrationMistakeRate = 0.0
    public var labelingItems = 0
    public var judgments = 0
    /// Krippendorff's α (ordinal) over all labelers.
    public var agreement: Double?
    /// Krippendorff's α without the labelers found unreliable (the rankings the exported pairs come from).
    public var agreementWithoutUnreliable: Double?
    public var labelers: [Labeler] = []
    public var preferencePairs = 0
    public var rewardHeldOutAccuracy: Double?
    public var klCoefficient = 0.0
    /// Per-token KL to the SFT model that the tuned policy must stay under.
    public var klBudgetPerToken = 0.0
    public var ppoCurve: [CurvePoint] = []
    public var ablationCurve: [CurvePoint] = []
    public var dpoCurve: [DPOPoint] = []
    public var grpoCurve: [GRPOPoint] = []
    /// With `--feedback ai`: the judge, the AI labeler's agreement with the humans, and its PPO run's curve.
    public var aiFeedback: AIFeedback?
    public var aiPPOCurve: [CurvePoint] = []
    /// SFT, the PPO policy, the DPO policy, the GRPO policy and the β = 0 ablation.
    public var results: [ModelResult] = []
    public var samples: [Sample] = []
    /// The whole demo's wall time (this invocation's, when resumed).
    public var totalSeconds = 0.0

    public init(seed: UInt64) { self.seed = seed }

    public func result(_ name: String) -> ModelResult? { results.first { $0.name == name } }
}
