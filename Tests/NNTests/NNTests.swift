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
        XCTAssertEqual(attention.qkv.weight.value.shape, [8, 24])
        XCTAssertEqual(mlp.gate.weight.value.shape, [16, 8])
        // Biases are exempt from weight decay, matrices are not.
        XCTAssertEqual(attention.namedParameters.filter { $0.parameter.appliesWeightDecay }.map(\.name),
                       ["c_attn.weight", "c_proj.weight"])
    }

    func testZerosInitializerSamplesNothing() {
        var initializer = WeightInitializer.zeros
        XCTAssertTrue(Linear(4, 3, initializer: &initializer).weight.value.scalars.allSatisfy { $0 == 0 })
    }

    func testLinearLayoutsAgree() throws {
        var rng = SeededGenerator(seed: 1)
        var initializer = WeightInitializer.random(seed: 1)
        let torchLayout = Linear(5, 3, initializer: &initializer)
        let conv1DLayout = Linear(5, 3, inputMajor: true, initializer: &initializer)
        try conv1DLayout.weight.assign(try torchLayout.weight.value.transposed())
        try conv1DLayout.bias?.assign(Tensor.randn([3], using: &rng))
        try torchLayout.bias?.assign(try XCTUnwrap(conv1DLayout.bias?.value))
        let x = Tensor.randn([2, 4, 5], using: &rng)
        let a = try torchLayout(x).scalars, b = try conv1DLayout(x).scalars
        for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: 1e-5) }
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
