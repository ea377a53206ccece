import Foundation
import Models
import NN
import Tensor

/// A GPT-2 model of the requested shape timed on forward + backward of the next-token loss over random tokens.
struct StackBenchmark {
    let shape: GPT2Config
    let batchSize: Int

    struct Result {
        let parameters: Int
        let tokensPerStep: Int
        let secondsPerStep: Double
        var tokensPerSecond: Double { Double(tokensPerStep) / secondsPerStep }
        let loss: Float
    }

    func run(steps: Int, onStep: (Int) -> Void) throws -> Result {
        let model = try GPT2.random(shape)
        let (b, t) = (batchSize, shape.nPositions)
        var generator = SeededGenerator(seed: 1)
        let tokens = (0..<(b * (t + 1))).map { _ in Int.random(in: 0..<shape.vocabSize, using: &generator) }
        var inputs: [Int] = [], targets: [Int] = []
        for row in 0..<b {
            inputs += tokens[(row * (t + 1))..<(row * (t + 1) + t)]
            targets += tokens[(row * (t + 1) + 1)...(row * (t + 1) + t)]
        }
        var durations: [Double] = []
        var loss: Float = 0
        for step in 0...steps {
            onStep(step + 1)
            let start = DispatchTime.now().uptimeNanoseconds
            let logits = try model.logits(inputs, batch: b, length: t, context: .training(batch: b, length: t))
            let lossTensor = try logits.crossEntropy(targets: targets)
            try lossTensor.backward()
            loss = try lossTensor.item
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if step > 0 { durations.append(seconds) }  // step 0 warms caches and allocations
            for p in model.parameters { p.zeroGrad() }
        }
        let median = durations.sorted()[durations.count / 2]
        return Result(parameters: model.parameterCount, tokensPerStep: b * t, secondsPerStep: median, loss: loss)
    }
}

/// Raw matrix-multiply speed through the engine's own GEMM path: the best of `repeats` calls after
/// 3 warm-ups (the machine's peak; a median would drop whenever another process takes a core).
enum SgemmBenchmark {
    static func gflops(size n: Int, repeats: Int = 20) -> Double {
        var generator = SeededGenerator(seed: 1)
        let a = Tensor.randn([n, n], using: &generator), b = Tensor.randn([n, n], using: &generator)
        var times: [Double] = []
        for i in 0..<(repeats + 3) {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try? Tensor.matmul(a, b)
            if i >= 3 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
        }
        return 2 * Double(n * n * n) / times.min()! / 1e9
    }
}
