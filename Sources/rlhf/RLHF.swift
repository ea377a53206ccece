import ArgumentParser

@main
struct RLHF: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rlhf",
        abstract: "RLHFKit: reinforcement learning from human feedback for language models, in Swift.",
        version: RLHFVersion.current,
        subcommands: [TokenizeCommand.self, PerplexityCommand.self, GenerateCommand.self, ClassifyCommand.self, ChatCommand.self,
                      CompleteCommand.self, ConvertCommand.self, DownloadCommand.self, CacheCommand.self, TokenizerCommand.self, PretrainCommand.self,
                      SFTCommand.self, MergeCommand.self, RewardCommand.self, PPOCommand.self, GRPOCommand.self, DPOCommand.self, KTOCommand.self, ConstitutionCommand.self,
                      EvalCommand.self, BenchAlignCommand.self,
                      ServeCommand.self, FeedbackCommand.self, DemoCommand.self, Bench.self]
    )
}

enum RLHFVersion {
    static let current = "0.1.0"
}
