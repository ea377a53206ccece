import ArgumentParser

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure throughput (build with -c release for meaningful figures).",
        subcommands: [EngineBench.self, GenerateBench.self, TrainBench.self, RewardBench.self, DPOBench.self, PPOBench.self, GRPOBench.self]
    )
}
