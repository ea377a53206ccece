import Foundation
import Models
import NN
import Tensor
import XCTest

/// LoRA adapters on both weight layouts (GPT-2's Conv1D [in, out] and torch's [out, in]): gradients, merging,
/// the PEFT directory layout, and parity with PEFT itself (`Fixtures/lora/`, made by
/// scripts/fixtures/make_lora_fixture.py).
final class LoRATests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The two layouts, each with attention and MLP targets (`mlp.c_proj`: PEFT's suffix rule, not attn.c_proj).
    static let cases = [(TinyModels.gpt2JSON, ["c_attn", "mlp.c_proj"]), (TinyModels.llamaJSON, ["q_proj", "v_proj", "down_proj"])]
    static let ids = [3, 17, 8, 30, 1, 22, 9, 14, 5, 38, 2, 11]

    private func logits(_ model: any CausalLanguageModel, _ ids: [Int] = ids, batch: Int = 2) throws -> Tensor {
        let length = ids.count / batch
        return try model.logits(ids, batch: batch, length: length, context: .training(batch: batch, length: length))
    }

    private func loss(_ model: any CausalLanguageModel) throws -> Tensor {
        try logits(model).crossEntropy(targets: Array(Self.ids.dropFirst()) + [0])
    }

    /// Fixed non-zero values in every B: a fresh adapter's zero B would hide A's gradient and any merge error.
    private func fillB(_ adapters: LoRAAdapters, seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        for layer in adapters.layers {
            try layer.adapter.b.assign(Tensor.randn(layer.adapter.b.value.shape, std: 0.3, using: &generator))
        }
    }

    func testNewAdapterChangesNothingAndFreezesTheBase() throws {
        for (json, targets) in Self.cases {
            let model = try TinyModels.make(json)
            let before = try logits(model).scalars
            let adapters = try PEFTAdapter.attach(to: model, rank: 4, alpha: 8, dropout: 0, targets: targets, seed: 1)
            XCTAssertEqual(try logits(model).scalars, before, "B = 0: the output is exactly the base model's")
            XCTAssertTrue(model.parameters.allSatisfy { !$0.isTrainable }, "embeddings, norms and weights all frozen")
            XCTAssertTrue(adapters.parameters.allSatisfy(\.isTrainable))
            for layer in adapters.layers {
                let inFeatures = layer.adapter.a.value.shape[1], bound = 1 / Float(inFeatures).squareRoot()
                XCTAssertTrue(layer.adapter.a.value.scalars.allSatisfy { abs($0) <= bound }, "A ~ U(−1/√in, 1/√in)")
                XCTAssertTrue(layer.adapter.b.value.scalars.allSatisfy { $0 == 0 })
            }
        }
    }

    /// One batch, rows through different users' adapters: each row's logits are those of its adapter alone (or of the
    /// base for a row without one), and `all-linear` adapts every linear layer but the head.
    func testPerRowAdaptersMatchEachAdapterAlone() throws {
        for (json, _) in Self.cases {
            let model = try TinyModels.make(json)
            let adapters = try PEFTAdapter.attach(to: model, rank: 2, alpha: 4, dropout: 0, targets: [PEFTAdapter.allLinear], seed: 1)
            let names = Set(adapters.layers.map { String($0.path.split(separator: ".").last!) })
            XCTAssertEqual(adapters.layers.count, model.namedLinears.count, "all-linear: \(names.sorted())")
            try fillB(adapters, seed: 7)
            let first = adapters.namedParameters.map(\.parameter.value)
            try fillB(adapters, seed: 8)
            let second = adapters.namedParameters.map(\.parameter.value)
            let rows = Self.ids.count / 3  // three rows of four tokens
            func alone(_ weights: [Tensor]?) throws -> [Float] {
                try withNoGrad {
                    guard let weights else { return try adapters.withAdaptersDisabled { try logits(model, batch: 3).scalars } }
                    return try adapters.withWeights(weights) { try logits(model, batch: 3).scalars }
                }
            }
            let mixed = try withNoGrad { try adapters.withRowWeights([second, nil, first]) { try logits(model, batch: 3).scalars } }
            let width = mixed.count / 3
            for (row, weights) in [second, nil, first].enumerated() {
                let expected = Array(try alone(weights)[(row * width)..<((row + 1) * width)])
                let got = Array(mixed[(row * width)..<((row + 1) * width)])
                XCTAssertEqual(zip(got, expected).map { abs($0 - $1) }.max()!, 0, accuracy: 1e-5, "row \(row) of \(rows)-token rows")
            }
            XCTAssertThrowsError(try adapters.withRowWeights([first, nil, first]) { try loss(model) }, "inference only")
        }
    }

    func testTargetsFollowPEFTMatching() throws {
        let gpt2 = try PEFTAdapter.attach(to: try TinyModels.make(TinyModels.gpt2JSON), rank: 2, alpha: 4, dropout: 0,
                                          targets: ["c_attn", "mlp.c_proj"], seed: 0)
        XCTAssertEqual(gpt2.layers.map(\.path), ["transformer.h.0.attn.c_attn", "transformer.h.0.mlp.c_proj",
                                                 "transformer.h.1.attn.c_attn", "transformer.h.1.mlp.c_proj"])
        let llama = try PEFTAdapter.attach(to: try TinyModels.make(TinyModels.llamaJSON), rank: 2, alpha: 4, dropout: 0, seed: 0)
        XCTAssertEqual(llama.targets, ["q_proj", "v_proj"], "the family default")
        XCTAssertEqual(llama.layers.map(\.path).first, "model.layers.0.self_attn.q_proj")
        XCTAssertEqual(llama.parameterCount, 2 * (2 * (16 + 16) + 2 * (16 + 8)))  // q: 16→16, v: 16→8 (2 KV heads)
    }

    func testUnknownTargetNamesTheModelsLayers() throws {
        XCTAssertThrowsError(try PEFTAdapter.attach(to: try TinyModels.make(TinyModels.gpt2JSON), rank: 2, alpha: 4, dropout: 0,
                                                    targets: ["c_attn", "q_proj"], seed: 0)) { error in
            XCTAssertEqual("\(error)", #"LoRA: target modules ["q_proj"] match no linear layer of the model; its linear layers are named c_attn, c_proj, c_fc"#)
        }
        let model = try TinyModels.make(TinyModels.gpt2JSON)
        _ = try PEFTAdapter.attach(to: model, rank: 2, alpha: 4, dropout: 0, seed: 0)
        XCTAssertThrowsError(try PEFTAdapter.attach(to: model, rank: 2, alpha: 4, dropout: 0, seed: 0)) { error in
            XCTAssertTrue("\(error)".contains("already carries an adapter"), "\(error)")
        }
    }

    /// Central differences of the loss along random directions of every A and B agree with backward, and no
    /// base parameter receives a gradient. With dropout on, reseeding before each forward fixes the masks.
    func testGradientsReachOnlyTheAdapters() throws {
        for (json, targets) in Self.cases {
            for dropout: Float in [0, 0.3] {
                let model = try TinyModels.make(json)
                let adapters = try PEFTAdapter.attach(to: model, rank: 3, alpha: 6, dropout: dropout, targets: targets, seed: 2)
                try fillB(adapters, seed: 3)
                func reseededLoss() throws -> Tensor {
                    adapters.reseedDropout(microBatch: 7)
                    return try loss(model)
                }
                try reseededLoss().backward()
                XCTAssertTrue(model.parameters.allSatisfy { $0.grad == nil }, "the frozen base gets no gradient")
                var generator = SeededGenerator(seed: 4)
                var worst = 0.0
                for (name, parameter) in adapters.namedParameters {
                    let analytic = try XCTUnwrap(parameter.grad, name).scalars
                    let original = parameter.value
                    let direction = Tensor.randn(original.shape, using: &generator)
                    let h: Float = 3e-3  // the loss curves fast in A: truncation error grows as h², rounding as 1/h
                    try parameter.assign(original + direction * h)
                    let plus = try reseededLoss().item
                    try parameter.assign(original - direction * h)
                    let minus = try reseededLoss().item
                    try parameter.assign(original)
                    let numeric = Double(plus - minus) / Double(2 * h)
                    let products = zip(analytic, direction.scalars).map { Double($0 * $1) }
                    let error = abs(products.reduce(0, +) - numeric) / max(products.map(abs).reduce(0, +), 1e-3)
                    XCTAssertLessThan(error, 1e-3, "\(name), dropout \(dropout)")
                    worst = max(worst, error)
                }
                print("lora gradcheck \(targets), dropout \(dropout): worst relative error \(worst)")
            }
        }
    }

    func testDropoutAppliesOnlyWhileTrainingWithGradients() throws {
        let model = try TinyModels.make(TinyModels.gpt2JSON)
        let adapters = try PEFTAdapter.attach(to: model, rank: 4, alpha: 8, dropout: 0.5, seed: 0)
        try fillB(adapters, seed: 1)
        let training = try logits(model).scalars
        let inference = try withNoGrad { try logits(model).scalars }
        XCTAssertNotEqual(training, inference)
        adapters.isTraining = false
        XCTAssertEqual(try logits(model).scalars, inference)
    }

    func testMergeGivesTheAdaptedLogits() throws {
        for (json, targets) in Self.cases {
            let model = try TinyModels.make(json)
            let adapters = try PEFTAdapter.attach(to: model, rank: 4, alpha: 16, dropout: 0.1, targets: targets, seed: 5)
            try fillB(adapters, seed: 6)
            let adapted = try withNoGrad { try logits(model).scalars }
            let base = try TinyModels.make(json)
            XCTAssertGreaterThan(maxDifference(adapted, try logits(base).scalars), 0.1, "the adapters matter")
            try adapters.merge()
            XCTAssertTrue(adapters.layers.allSatisfy { $0.linear.adapter == nil })
            let merged = try logits(model).scalars
            print("lora merge: max |Δ logits| \(maxDifference(adapted, merged))")
            XCTAssertLessThanOrEqual(maxDifference(adapted, merged), 1e-5)
            let directory = try TinyModels.temporaryDirectory()
            try ModelDirectory.save(model, to: directory)
            XCTAssertEqual(try logits(try ModelDirectory.load(directory)).scalars, merged, "a plain model directory")
        }
    }

    func testSavedAdapterLoadsBackInPEFTLayout() throws {
        for (json, targets) in Self.cases {
            let model = try TinyModels.make(json)
            let adapters = try PEFTAdapter.attach(to: model, rank: 4, alpha: 8, dropout: 0.05, targets: targets, seed: 7)
            adapters.baseModel = "some/base"
            try fillB(adapters, seed: 8)
            let directory = try TinyModels.temporaryDirectory()
            try PEFTAdapter.save(adapters, to: directory)

            let file = try SafetensorsFile(contentsOf: directory.appendingPathComponent(PEFTAdapter.weightsFile))
            let first = adapters.layers[0]
            let key = "base_model.model.\(first.path)"
            XCTAssertEqual(try file.shape(of: key + ".lora_A.weight"), [4, first.adapter.a.value.shape[1]])
            XCTAssertEqual(try file.shape(of: key + ".lora_B.weight"), [first.adapter.b.value.shape[0], 4])
            XCTAssertEqual(file.names.count, 2 * adapters.layers.count)
            XCTAssertEqual(file.metadata, ["format": "pt"])
            let config = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: directory.appendingPathComponent(PEFTAdapter.configFile)))
            guard case .object(let fields) = config else { return XCTFail("config is not an object") }
            XCTAssertEqual(fields["peft_type"], .string("LORA"))
            XCTAssertEqual(fields["task_type"], .string("CAUSAL_LM"))
            XCTAssertEqual(fields["r"], .number(4))
            XCTAssertEqual(fields["lora_alpha"], .number(8))
            XCTAssertEqual(fields["lora_dropout"], .number(0.05))
            XCTAssertEqual(fields["target_modules"], .array(targets.map(JSONValue.string)))
            XCTAssertEqual(fields["fan_in_fan_out"], .bool(first.linear.isConv1D))
            XCTAssertEqual(fields["bias"], .string("none"))
            XCTAssertEqual(fields["base_model_name_or_path"], .string("some/base"))

            let expected = try withNoGrad { try logits(model).scalars }
            let fresh = try TinyModels.make(json)
            let loaded = try PEFTAdapter.load(from: directory, onto: fresh)
            XCTAssertEqual(loaded.targets, targets)
            XCTAssertEqual(loaded.baseModel, "some/base")
            XCTAssertFalse(loaded.isTraining, "a loaded adapter runs without dropout")
            XCTAssertEqual(try logits(fresh).scalars, expected)
        }
    }

    func testBadAdapterFilesAreNamed() throws {
        let model = try TinyModels.make(TinyModels.gpt2JSON)
        let adapters = try PEFTAdapter.attach(to: model, rank: 4, alpha: 8, dropout: 0, seed: 0)
        let directory = try TinyModels.temporaryDirectory()
        try PEFTAdapter.save(adapters, to: directory)
        let other = try PEFTAdapter.attach(to: try TinyModels.make(TinyModels.gpt2JSON), rank: 2, alpha: 8, dropout: 0, seed: 0)
        XCTAssertThrowsError(try PEFTAdapter.loadWeights(into: other, from: directory)) { error in
            XCTAssertTrue("\(error)".contains("lora_A.weight has shape [4, 16], the model's layer needs [2, 16]"), "\(error)")
        }
        let mlp = try PEFTAdapter.attach(to: try TinyModels.make(TinyModels.gpt2JSON), rank: 4, alpha: 8, dropout: 0,
                                         targets: ["c_fc"], seed: 0)
        XCTAssertThrowsError(try PEFTAdapter.loadWeights(into: mlp, from: directory)) { error in
            XCTAssertTrue("\(error)".contains("missing tensors: base_model.model.transformer.h.0.mlp.c_fc.lora_A.weight"), "\(error)")
        }
        XCTAssertThrowsError(try PEFTAdapter.load(from: directory, onto: try TinyModels.make(TinyModels.llamaJSON))) { error in
            XCTAssertTrue("\(error)".contains("the adapter is for layers this model does not have (another base model?): "
                                              + "transformer.h.0.attn.c_attn"), "\(error)")
        }
        let config = directory.appendingPathComponent(PEFTAdapter.configFile)
        let dora = try String(contentsOf: config, encoding: .utf8).replacingOccurrences(of: #""use_dora" : false"#, with: #""use_dora" : true"#)
        try dora.write(to: config, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try PEFTAdapter.load(from: directory, onto: try TinyModels.make(TinyModels.gpt2JSON))) { error in
            XCTAssertTrue("\(error)".hasSuffix("unsupported: use_dora"), "\(error)")
        }
    }

    struct PEFTReference: Decodable {
        let input_ids: [Int]
        let logits: [[Float]]
        let max_abs_diff_from_base: Float
    }

    /// Adapters saved by PEFT load here and give PEFT's logits.
    func testPEFTAdaptersGivePEFTLogits() throws {
        for name in ["tiny-gpt2", "tiny-llama", "tiny-qwen2"] {
            let directory = Self.fixtures.appendingPathComponent("lora/\(name)")
            let reference = try JSONDecoder().decode(PEFTReference.self, from: Data(contentsOf: directory.appendingPathComponent("reference.json")))
            let model = try ModelDirectory.load(Self.fixtures.appendingPathComponent(name))
            let adapters = try PEFTAdapter.load(from: directory, onto: model)
            let ids = reference.input_ids
            let adapted = try logits(model, ids, batch: 1).scalars
            let worst = maxDifference(adapted, reference.logits.flatMap { $0 })
            print("lora parity \(name): \(adapters.layers.count) adapted layers, max |Δ logits| \(worst) (adapters move them by \(reference.max_abs_diff_from_base))")
            XCTAssertLessThanOrEqual(worst, 1e-4, name)
            try adapters.merge()
            XCTAssertLessThanOrEqual(maxDifference(try logits(model, ids, batch: 1).scalars, adapted), 1e-5, "\(name) merged")
        }
    }

    /// Dev step of the reverse check (an adapter saved here loads in PEFT with the same logits): with
    /// RLHF_ADAPTER_CHECK=ADAPTER_DIR:BASE_DIR, writes the adapted model's logits on the base fixture's first
    /// reference text to ADAPTER_DIR/rlhf_logits.json for scripts/fixtures/check_adapter_in_peft.py.
    func testWriteAdaptedLogitsForPEFTCheck() throws {
        guard let spec = ProcessInfo.processInfo.environment["RLHF_ADAPTER_CHECK"] else {
            throw XCTSkip("set RLHF_ADAPTER_CHECK=ADAPTER_DIR:BASE_DIR")
        }
        let parts = spec.split(separator: ":").map { URL(fileURLWithPath: String($0)) }
        let (adapterDirectory, baseDirectory) = (parts[0], parts[1])
        let model = try ModelDirectory.load(baseDirectory)
        _ = try PEFTAdapter.load(from: adapterDirectory, onto: model)
        let reference = try JSONDecoder().decode(ParityTests.Reference.self, from: Data(contentsOf: baseDirectory.appendingPathComponent("reference.json")))
        let ids = reference.texts[0].input_ids
        let values = try logits(model, ids, batch: 1).scalars
        let rows = (0..<ids.count).map { Array(values[($0 * model.vocabularySize)..<(($0 + 1) * model.vocabularySize)]) }
        try JSONEncoder().encode(AdaptedLogits(input_ids: ids, logits: rows))
            .write(to: adapterDirectory.appendingPathComponent("rlhf_logits.json"))
    }

    struct AdaptedLogits: Encodable {
        let input_ids: [Int]
        let logits: [[Float]]
    }
}

private func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
}
