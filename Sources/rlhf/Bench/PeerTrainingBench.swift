import Alignment
import Foundation
import Tensor

/// Times `steps` optimizer steps of `task` after 2 warm-up steps and prints tokens/s (the median step's), s/step and
/// peak RSS, as a line or one JSON object: what `rlhf bench dpo` and `rlhf bench reward` report on the peer workloads.
func runPeerTrainingBench(_ name: String, task: any TrainingTask, config: TrainingConfig, steps: Int, parameters: Int,
                          examplesPerStep: Int, tokensPerStep: Int, json: Bool) throws {
    let progress = ProgressLine(enabled: !json)
    PeakMemory.reset()
    let rates = try timedSteps(GradientDescent(task: task, config: config, totalSteps: steps + 2), steps: steps, progress: progress)
    progress.clear()
    let tokensPerSecond = rates.sorted()[rates.count / 2]
    let peakMB = Double(PeakMemory.bytes) / 1_048_576
    if json {
        struct Output: Encodable {
            let parameters: Int, pairsPerStep: Int, tokensPerStep: Int, steps: Int, tokensPerSecond: Double, secondsPerStep: Double
            let peakRssMb: Double, threads: Int
        }
        try printJSON(Output(parameters: parameters, pairsPerStep: examplesPerStep, tokensPerStep: tokensPerStep, steps: steps,
                             tokensPerSecond: tokensPerSecond, secondsPerStep: Double(tokensPerStep) / tokensPerSecond,
                             peakRssMb: peakMB, threads: Parallel.coreCount))
    } else {
        print(String(format: "%@ (peer workload): %.0f tokens/s (%.3f s/step, %d tokens/step), peak RSS %.0f MB",
                     name, tokensPerSecond, Double(tokensPerStep) / tokensPerSecond, tokensPerStep, peakMB))
    }
}
