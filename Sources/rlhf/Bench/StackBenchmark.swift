import Foundation
import NN
import Tensor

struct StackShape {
    var layers, width, heads, vocab, sequenceLength: Int
}

/// A GPT-2-shaped language model (token + position embeddings, pre-LN blocks, tied LM head) timed on
/// forward + backward of the next-token loss over random tokens.
struct StackBenchmark {
    let shape: StackShape
    let batchSize: Int

    struct Result {
        let parameters: Int
        let tokensPerStep: Int
        let secondsPerStep: Double
        var tokensPerSecond: Double { Double(tokensPerStep) / secondsPerStep }
        let loss: Float
    }

    func run(steps: Int, onStep: (Int) -> Void) throws -> Result {
        var generator = SeededGenerator(seed: 0)
        let tokenEmbedding = Embedding(shape.vocab, shape.width, using: &generator)
        let positionEmbedding = Embedding(shape.sequenceLength, shape.width, using: &generator)
        let blocks = (0..<shape.layers).map { _ in
            PreNormBlock(width: shape.width, heads: shape.heads, hidden: 4 * shape.width, using: &generator)
        }
        let finalNorm = LayerNorm(shape.width)
        let modules: [any Module] = [tokenEmbedding, positionEmbedding, finalNorm] + blocks
        let trainable = modules.flatMap(\.parameters)
        let parameters = trainable.reduce(0) { $0 + $1.value.count }
        let (b, t) = (batchSize, shape.sequenceLength)
        let tokens = (0..<(b * (t + 1))).map { _ in Int.random(in: 0..<shape.vocab, using: &generator) }
        var inputs: [Int] = [], targets: [Int] = []
        for row in 0..<b {
            inputs += tokens[(row * (t + 1))..<(row * (t + 1) + t)]
            targets += tokens[(row * (t + 1) + 1)...(row * (t + 1) + t)]
        }
        let positions = (0..<(b * t)).map { $0 % t }

        var durations: [Double] = []
        var loss: Float = 0
        for step in 0...steps {
            onStep(step + 1)
            let start = DispatchTime.now().uptimeNanoseconds
            var h = try tokenEmbedding(inputs, shape: [b, t]) + positionEmbedding(positions, shape: [b, t])
            for block in blocks { h = try block(h) }
            h = try finalNorm(h)
            let logits = try Tensor.linear(h, weight: tokenEmbedding.weight.value)
            let lossTensor = try logits.crossEntropy(targets: targets)
            try lossTensor.backward()
            loss = try lossTensor.item
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if step > 0 { durations.append(seconds) }  // step 0 warms caches and allocations
            for p in trainable { p.zeroGrad() }
        }
        let median = durations.sorted()[durations.count / 2]
        return Result(parameters: parameters, tokensPerStep: b * t, secondsPerStep: median, loss: loss)
    }
}

/// Raw matrix-multiply speed through the engine's own GEMM path.
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
        return 2 * Double(n * n * n) / times.sorted()[times.count / 2] / 1e9
    }
}
