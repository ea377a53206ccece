import NN
import Tensor
import XCTest

final class NNTests: XCTestCase {
    func testBlockRegistersParametersUnderGPT2Names() {
        var rng = SeededGenerator(seed: 0)
        let block = PreNormBlock(width: 8, heads: 2, hidden: 32, using: &rng)
        XCTAssertEqual(block.namedParameters.map(\.name), [
            "ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight",
            "attn.c_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias",
            "mlp.c_proj.weight", "mlp.c_proj.bias",
        ])
        XCTAssertEqual(block.namedParameters.first { $0.name == "attn.c_attn.weight" }?.parameter.value.shape, [8, 24])
        XCTAssertEqual(block.parameterCount, 12 * 8 * 8 + 13 * 8)
        // Biases and norm gains are exempt from weight decay, matrices are not.
        XCTAssertEqual(block.namedParameters.filter { $0.parameter.appliesWeightDecay }.map(\.name),
                       ["attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight"])
    }

    func testLinearLayoutsAgree() throws {
        var rng = SeededGenerator(seed: 1)
        let torchLayout = Linear(5, 3, using: &rng)
        let conv1DLayout = Linear(5, 3, inputMajor: true, using: &rng)
        try conv1DLayout.weight.assign(try torchLayout.weight.value.transposed())
        try conv1DLayout.bias?.assign(Tensor.randn([3], using: &rng))
        try torchLayout.bias?.assign(try XCTUnwrap(conv1DLayout.bias?.value))
        let x = Tensor.randn([2, 4, 5], using: &rng)
        let a = try torchLayout(x).scalars, b = try conv1DLayout(x).scalars
        for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: 1e-5) }
    }

    func testFrozenModuleGetsNoGradientButItsInputDoes() throws {
        var rng = SeededGenerator(seed: 2)
        let block = PreNormBlock(width: 8, heads: 2, hidden: 16, using: &rng)
        block.setTrainable(false)
        let x = Tensor.randn([1, 3, 8], using: &rng).requiringGrad()
        try block(x).sum().backward()
        XCTAssertTrue(block.parameters.allSatisfy { $0.grad == nil })
        XCTAssertNotNil(x.grad)
    }

    /// A tiny language model must be able to memorise one short sequence: the loss falls by far.
    func testTinyStackMemorisesASequence() throws {
        var rng = SeededGenerator(seed: 3)
        let vocab = 16, width = 16, length = 8
        let embedding = Embedding(vocab, width, std: 0.1, using: &rng)
        let block = PreNormBlock(width: width, heads: 2, hidden: 32, using: &rng)
        let norm = LayerNorm(width)
        let params = embedding.parameters + block.parameters + norm.parameters
        let optimizer = AdamW(parameters: params, learningRate: 1e-2, weightDecay: 0)
        let tokens = [3, 1, 4, 1, 5, 9, 2, 6, 5]
        var losses: [Float] = []
        for _ in 0..<60 {
            let h = try norm(block(embedding(Array(tokens.prefix(length)), shape: [1, length])))
            let loss = try Tensor.linear(h, weight: embedding.weight.value).crossEntropy(targets: Array(tokens.dropFirst()))
            losses.append(try loss.item)
            optimizer.zeroGrad()
            try loss.backward()
            try optimizer.step()
        }
        XCTAssertLessThan(losses.last!, 0.1 * losses.first!, "losses: \(losses)")
    }
}
