import Foundation
import Models
import NN
import Tensor
import XCTest

final class CheckpointTests: XCTestCase {
    func testSaveThenLoadGivesTheSameLogits() throws {
        for json in [TinyModels.gpt2JSON, TinyModels.llamaJSON] {
            let model = try TinyModels.make(json)
            let directory = try TinyModels.temporaryDirectory()
            try ModelDirectory.save(model, to: directory)
            let reloaded = try ModelDirectory.load(directory)
            let ids = [1, 5, 9, 2]
            let context = AttentionContext.training(batch: 1, length: 4)
            XCTAssertEqual(try model.logits(ids, batch: 1, length: 4, context: context).scalars,
                           try reloaded.logits(ids, batch: 1, length: 4, context: context).scalars)
            // A tied head is stored once, as the embedding.
            let names = try SafetensorsCheckpoint(directory: directory).names
            XCTAssertFalse(names.contains("lm_head.weight"))
        }
    }

    func testMissingTensorIsNamed() throws {
        let directory = try savedWithout("transformer.h.1.mlp.c_fc.bias")
        XCTAssertThrowsError(try ModelDirectory.load(directory)) { error in
            XCTAssertTrue("\(error)".contains("missing tensors: transformer.h.1.mlp.c_fc.bias"), "\(error)")
        }
    }

    func testUnexpectedTensorIsNamed() throws {
        let directory = try savedWithout(nil, extra: ("transformer.h.9.attn.c_attn.weight", Tensor.zeros([2, 2])))
        XCTAssertThrowsError(try ModelDirectory.load(directory)) { error in
            XCTAssertTrue("\(error)".contains("unexpected tensors: transformer.h.9.attn.c_attn.weight"), "\(error)")
        }
    }

    func testWrongShapeIsNamed() throws {
        let directory = try savedWithout("transformer.ln_f.weight", extra: ("transformer.ln_f.weight", Tensor.ones([15])))
        XCTAssertThrowsError(try ModelDirectory.load(directory)) { error in
            XCTAssertTrue("\(error)".contains("tensor transformer.ln_f.weight has shape [15], the model expects [16]"), "\(error)")
        }
    }

    func testUnknownArchitectureAndOptionsAreNamed() {
        XCTAssertThrowsError(try ModelConfig(json: Data(#"{"model_type": "bert"}"#.utf8), path: "x/config.json")) { error in
            XCTAssertEqual("\(error)", #"x/config.json: unsupported: model_type "bert" (supported: gpt2, llama, qwen2, mistral)"#)
        }
        let yarn = TinyModels.llamaJSON.replacingOccurrences(of: #""rope_type": "default""#, with: #""rope_type": "yarn""#)
        XCTAssertThrowsError(try ModelConfig(json: Data(yarn.utf8), path: "config.json")) { error in
            XCTAssertTrue("\(error)".contains(#"rope_type "yarn""#), "\(error)")
        }
        XCTAssertThrowsError(try ModelConfig(json: Data(#"{"model_type": "gpt2", "n_layer": 2}"#.utf8), path: "c.json")) { error in
            XCTAssertTrue("\(error)".contains("missing \"n_head\""), "\(error)")
        }
    }

    /// A saved tiny GPT-2 whose weights lack `dropping` and carry `extra`.
    private func savedWithout(_ dropping: String?, extra: (String, Tensor)? = nil) throws -> URL {
        let model = try TinyModels.make(TinyModels.gpt2JSON)
        let directory = try TinyModels.temporaryDirectory()
        try ModelDirectory.save(model, to: directory)
        var tensors = try model.namedParameters.filter { $0.name != dropping }.map { (name: $0.name, tensor: try $0.parameter.fileValue) }
        if let extra { tensors.append((name: extra.0, tensor: extra.1)) }
        try Safetensors.write(tensors, to: directory.appendingPathComponent("model.safetensors"))
        return directory
    }
}
