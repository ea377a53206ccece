import NN
import Tensor
import XCTest

final class NNTests: XCTestCase {
    func testAttentionAndMLPRegisterHuggingFaceNames() {
        var initializer = WeightInitializer.random(seed: 0)
        let attention = FusedCausalSelfAttention(width: 8, heads: 2, layer: 0, initializer: &initializer)
        let mlp = SwiGLUMLP(width: 8, hidden: 16, initializer: &initializer)
        let names = namespaced(("attn", attention.namedParameters), ("mlp", mlp.namedParameters)).map(\.name)
        XCTAssertEqual(names, ["attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight", "attn.c_proj.bias",
                               "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight"])
        XCTAssertEqual(attention.qkv.weight.value.shape, [24, 8])
        XCTAssertEqual(attention.qkv.weight.fileShape, [8, 24])  // Conv1D: [in, out] in files
        XCTAssertEqual(mlp.gate.weight.value.shape, [16, 8])
        // Biases are exempt from weight decay, matrices are not.
        XCTAssertEqual(attention.namedParameters.filter { $0.parameter.appliesWeightDecay }.map(\.name),
                       ["c_attn.weight", "c_proj.weight"])
    }

    func testZerosInitializerSamplesNothing() {
        var initializer = WeightInitializer.zeros
        XCTAssertTrue(Linear(4, 3, initializer: &initializer).weight.value.scalars.allSatisfy { $0 == 0 })
    }

    /// A Conv1D layer's files hold W as [in, out]: its weight (and optimizer state) cross files transposed, and a
    /// matrix read from a file computes x·W.
    func testConv1DWeightsAreTransposedInFiles() throws {
        var rng = SeededGenerator(seed: 1)
        var initializer = WeightInitializer.random(seed: 1)
        let conv1D = Linear(5, 3, conv1D: true, initializer: &initializer)
        let fileWeight = Tensor.randn([5, 3], using: &rng)
        try conv1D.weight.assign(try conv1D.weight.fromFileLayout(fileWeight))
        XCTAssertEqual(try conv1D.weight.fileValue.scalars, fileWeight.scalars)
        let x = Tensor.randn([2, 4, 5], using: &rng)
        let expected = try Tensor.matmul(x.reshaped([8, 5]), fileWeight).scalars
        for (u, v) in zip(try conv1D(x).scalars, expected) { XCTAssertEqual(u, v, accuracy: 1e-5) }

        let optimizer = AdamW(parameters: [conv1D.weight], learningRate: 0.1)
        try conv1D(x).sum().backward()
        try optimizer.step()
        let named = [(name: "w", parameter: conv1D.weight)]
        let saved = try optimizer.stateTensors(named)
        XCTAssertEqual(saved.first { $0.name == "w.exp_avg" }?.tensor.shape, [5, 3])
        let restored = AdamW(parameters: [conv1D.weight], learningRate: 0.1)
        try restored.restoreState(Dictionary(uniqueKeysWithValues: saved.map { ($0.name, $0.tensor) }), named)
        XCTAssertEqual(try restored.stateTensors(named).map(\.tensor.scalars), saved.map(\.tensor.scalars))
    }

    func testFrozenModuleGetsNoGradientButItsInputDoes() throws {
        var rng = SeededGenerator(seed: 2)
        var initializer = WeightInitializer.random(seed: 2)
        let attention = FusedCausalSelfAttention(width: 8, heads: 2, layer: 0, initializer: &initializer)
        attention.setTrainable(false)
        let x = Tensor.randn([1, 3, 8], using: &rng).requiringGrad()
        try attention(x, context: .training(batch: 1, length: 3)).sum().backward()
        XCTAssertTrue(attention.parameters.allSatisfy { $0.grad == nil })
        XCTAssertNotNil(x.grad)
    }

    /// A tiny language model must be able to memorise one short sequence: the loss falls by far.
    func testTinyStackMemorisesASequence() throws {
        var initializer = WeightInitializer.random(seed: 3)
        let vocab = 16, width = 16, length = 8
        let embedding = Embedding(vocab, width, std: 0.1, initializer: &initializer)
        let attention = FusedCausalSelfAttention(width: width, heads: 2, layer: 0, initializer: &initializer)
        let mlp = GELUMLP(width: width, hidden: 32, initializer: &initializer)
        let norm = LayerNorm(width)
        let params = embedding.parameters + attention.parameters + mlp.parameters + norm.parameters
        let optimizer = AdamW(parameters: params, learningRate: 1e-2, weightDecay: 0)
        let tokens = [3, 1, 4, 1, 5, 9, 2, 6, 5]
        var losses: [Float] = []
        for _ in 0..<60 {
            let x = try embedding(Array(tokens.prefix(length)), shape: [1, length])
            let a = try x + attention(x, context: .training(batch: 1, length: length))
            let h = try norm(a + mlp(a))
            let loss = try Tensor.linear(h, weight: embedding.weight.value).crossEntropy(targets: Array(tokens.dropFirst()))
            losses.append(try loss.item)
            optimizer.zeroGrad()
            try loss.backward()
            try optimizer.step()
        }
        XCTAssertLessThan(losses.last!, 0.1 * losses.first!, "losses: \(losses)")
    }
}
