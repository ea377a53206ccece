import Alignment
import Data
import Foundation

/// The shared loop on a `TrainingTask` built in memory (the run configurations read their data from files): what
/// these tests use to train a task exactly as a run would, checkpoints and resume included.
struct TaskRun: RunConfiguration {
    static let command = "test"
    var out = ""
    var logging = LoggingConfig()
    var training = TrainingConfig(learningRate: 1e-3)
    var inputs: [String] { [] }  // the task is built in memory

    init() {}

    init(_ training: TrainingConfig, output: URL) {
        (self.training, out, logging.tensorboard) = (training, output.path, false)
    }

    func validate() throws {}
}

/// Trains `task` for `totalSteps` into `output`; returns the steps taken (fewer when `onEvent` stops the run).
@discardableResult
func train(_ task: any TrainingTask, _ config: TrainingConfig, output: URL, totalSteps: Int, resume: Bool = false,
           onEvent: @escaping (RunEvent) -> Bool = { _ in true }) throws -> Int {
    let loop = TrainingLoop(training: GradientDescent(task: task, config: config, totalSteps: totalSteps), totalSteps: totalSteps,
                            output: output, saveEvery: config.saveEvery, evalEvery: config.evalEvery,
                            metrics: MetricsSink(output: output, tensorBoardDirectory: nil))
    let (run, control) = (TaskRun(config, output: output), RunControl(resume: resume, onEvent: onEvent))
    return try loop.run(run, from: try TrainingLoop.start(run, output: output, control: control), control: control).steps
}
