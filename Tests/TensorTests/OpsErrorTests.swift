import Tensor
import XCTest

/// Bad shapes and indices throw a `TensorError` that names the op and the offending sizes; nothing traps.
final class OpsErrorTests: XCTestCase {
    func zeros(_ shape: [Int]) -> Tensor { Tensor.zeros(shape) }

    /// `body` throws a TensorError whose description starts with `op` and mentions every phrase.
    func assertTensorError<T>(_ body: @autoclosure () throws -> T, op: String, mentions phrases: [String] = [],
                              file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard let error = error as? TensorError else {
                return XCTFail("expected a TensorError, got \(error)", file: file, line: line)
            }
            let text = error.description
            XCTAssertTrue(text.hasPrefix(op + ":"), "\"\(text)\" should start with \"\(op):\"", file: file, line: line)
            for phrase in phrases {
                XCTAssertTrue(text.contains(phrase), "\"\(text)\" should mention \"\(phrase)\"", file: file, line: line)
            }
        }
    }

    func testMatmul() {
        assertTensorError(try Tensor.matmul(zeros([2, 3]), zeros([4, 5])), op: "matmul", mentions: ["inner sizes 3 and 4", "[2, 3]", "[4, 5]"])
        assertTensorError(try Tensor.matmul(zeros([2, 3]), zeros([3, 4]), transposeA: true), op: "matmul", mentions: ["inner sizes 2 and 3"])
        assertTensorError(try Tensor.matmul(zeros([2, 3]), zeros([5, 4]), transposeB: true), op: "matmul", mentions: ["inner sizes 3 and 4"])
        assertTensorError(try Tensor.matmul(zeros([3]), zeros([3, 2])), op: "matmul", mentions: ["rank"])
        assertTensorError(try Tensor.matmul(zeros([2, 2, 3]), zeros([3, 3, 4])), op: "matmul", mentions: ["batch axes [2] and [3]"])
        assertTensorError(try Tensor.matmul(zeros([2, 3]), zeros([2, 3, 4])), op: "matmul", mentions: ["batch"])
        assertTensorError(try Tensor.matmul(zeros([2, 3, 2]), zeros([3, 4]), transposeA: true), op: "matmul")
    }

    func testLinear() {
        assertTensorError(try Tensor.linear(zeros([2, 3]), weight: zeros([5, 4])), op: "linear", mentions: ["[2, 3]", "[5, 4]"])
        assertTensorError(try Tensor.linear(zeros([2, 5]), weight: zeros([5, 4])), op: "linear", mentions: ["expects 4"])
        assertTensorError(try Tensor.linear(zeros([2, 4]), weight: zeros([5, 4]), bias: zeros([4])), op: "linear", mentions: ["bias [4]", "[5]"])
        assertTensorError(try Tensor.linear(zeros([2, 4]), weight: zeros([4])), op: "linear")
    }

    func testBroadcastFailure() {
        let (a, b) = (zeros([2, 3]), zeros([4]))
        assertTensorError(try a + b, op: "add", mentions: ["[2, 3]", "[4]", "broadcast"])
        assertTensorError(try a - b, op: "sub", mentions: ["broadcast"])
        assertTensorError(try a * zeros([3, 3]), op: "mul", mentions: ["[3, 3]"])
        assertTensorError(try a / zeros([2, 2]), op: "div", mentions: ["broadcast"])
        assertTensorError(try Tensor.minimum(a, b), op: "minimum", mentions: ["broadcast"])
        assertTensorError(try Tensor.maximum(a, b), op: "maximum", mentions: ["broadcast"])
        assertTensorError(try Tensor.where(zeros([2, 3]), a, b), op: "where", mentions: ["broadcast"])
        assertTensorError(try Tensor.where(zeros([5]), a, a), op: "where", mentions: ["broadcast"])
        assertTensorError(try a.masked(keeping: zeros([3, 2]), fill: 0), op: "where", mentions: ["broadcast"])
    }

    func testReshape() {
        assertTensorError(try zeros([2, 3]).reshaped([4]), op: "reshape", mentions: ["[2, 3]", "[4]"])
        assertTensorError(try zeros([2, 3]).reshaped([-1, 4]), op: "reshape", mentions: ["[-1, 4]"])
        assertTensorError(try zeros([2, 3]).reshaped([-1, -1]), op: "reshape")
        assertTensorError(try zeros([2, 3]).reshaped([-2, -3]), op: "reshape")
        assertTensorError(try Tensor(shape: [2, 3], scalars: [1, 2]), op: "Tensor(shape:scalars:)", mentions: ["2 values", "[2, 3]"])
    }

    func testEmbeddingAndGather() {
        let table = zeros([5, 3])
        assertTensorError(try Tensor.embedding(table, ids: [0, 5], shape: [2]), op: "embedding", mentions: ["index 5", "0..<5"])
        assertTensorError(try Tensor.embedding(table, ids: [-1], shape: [1]), op: "embedding", mentions: ["index -1"])
        assertTensorError(try Tensor.embedding(table, ids: [0, 1, 2], shape: [2]), op: "embedding", mentions: ["3 ids"])
        assertTensorError(try Tensor.embedding(zeros([5]), ids: [0], shape: [1]), op: "embedding", mentions: ["[5]"])
        assertTensorError(try zeros([2, 4]).gather(lastAxis: [0, 4]), op: "gather", mentions: ["index 4", "0..<4"])
        assertTensorError(try zeros([2, 4]).gather(lastAxis: [0]), op: "gather", mentions: ["1 indices"])
    }

    func testCrossEntropy() {
        let logits = zeros([2, 3, 5])
        assertTensorError(try logits.crossEntropy(targets: [0, 1, 2, 3, 4, 5]), op: "crossEntropy", mentions: ["index 5", "0..<5"])
        assertTensorError(try logits.crossEntropy(targets: [0, 1, -1, 3, 4, 0]), op: "crossEntropy", mentions: ["index -1"])
        assertTensorError(try logits.crossEntropy(targets: [0, 1, 2]), op: "crossEntropy", mentions: ["3 targets", "6 rows"])
        // -100 is only skipped when it is the ignore index.
        assertTensorError(try logits.crossEntropy(targets: [0, 1, 2, 3, 4, -100], ignoreIndex: 0), op: "crossEntropy",
                          mentions: ["index -100"])
        XCTAssertNoThrow(try logits.crossEntropy(targets: [0, 1, 2, 3, 4, -100]))
        assertTensorError(try logits.tokenLogProbabilities(targets: [0, 1, 2, 3, 4, 5]), op: "tokenLogProbabilities", mentions: ["index 5"])
        assertTensorError(try logits.tokenLogProbabilities(targets: [0]), op: "tokenLogProbabilities", mentions: ["1 targets", "6 rows"])
    }

    func testAttention() {
        func attend(q: [Int], k: [Int], v: [Int]? = nil, heads: Int = 4, kvHeads: Int = 2, mask: [Float]? = nil,
                    offset: Int? = nil) throws -> Tensor {
            try Tensor.causalAttention(query: zeros(q), key: zeros(k), value: zeros(v ?? k), heads: heads, kvHeads: kvHeads,
                                       keyMask: mask, positionOffset: offset)
        }
        assertTensorError(try attend(q: [2, 5, 12], k: [2, 5, 6], heads: 4, kvHeads: 3), op: "attention", mentions: ["3 kv heads"])
        assertTensorError(try attend(q: [2, 5, 10], k: [2, 5, 6], heads: 4, kvHeads: 2), op: "attention", mentions: ["width 10"])
        assertTensorError(try attend(q: [2, 5, 12], k: [2, 5, 9], heads: 4, kvHeads: 2), op: "attention", mentions: ["key width 9"])
        assertTensorError(try attend(q: [2, 5, 12], k: [2, 5, 6], v: [2, 5, 4]), op: "attention", mentions: ["value [2, 5, 4]"])
        assertTensorError(try attend(q: [2, 5, 12], k: [3, 5, 6]), op: "attention", mentions: ["key [3, 5, 6]"])
        assertTensorError(try attend(q: [2, 5, 12], k: [2, 5, 6], mask: [1, 1, 1]), op: "attention", mentions: ["3 values", "expected 10"])
        assertTensorError(try attend(q: [1, 6, 12], k: [1, 5, 6]), op: "attention", mentions: ["exceeds 5 keys"])
        assertTensorError(try attend(q: [1, 2, 12], k: [1, 5, 6], offset: 4), op: "attention", mentions: ["offset 4"])
        assertTensorError(try attend(q: [1, 2, 12], k: [1, 5, 6], offset: -1), op: "attention", mentions: ["offset -1"])
        assertTensorError(try attend(q: [2, 12], k: [2, 6]), op: "attention")
        assertTensorError(try attend(q: [1, 2, 12], k: [1, 2, 6], heads: 0, kvHeads: 0), op: "attention")
    }

    func testConcatAndSlice() {
        assertTensorError(try Tensor.concat([zeros([2, 3]), zeros([3, 4])], axis: 0), op: "concat", mentions: ["[3, 4]", "[2, 3]"])
        assertTensorError(try Tensor.concat([zeros([2, 3]), zeros([2, 3, 1])], axis: 1), op: "concat")
        assertTensorError(try Tensor.concat([], axis: 0), op: "concat", mentions: ["no tensors"])
        assertTensorError(try Tensor.concat([zeros([2, 3])], axis: 2), op: "concat", mentions: ["axis 2"])
        assertTensorError(try zeros([2, 3]).slice(axis: 1, 1..<4), op: "slice", mentions: ["1..<4", "0..<3"])
        assertTensorError(try zeros([2, 3]).slice(axis: 0, -1..<1), op: "slice")
        assertTensorError(try zeros([2, 3]).slice(axis: 2, 0..<1), op: "slice", mentions: ["axis 2"])
    }

    func testAxesOutOfRange() {
        let x = zeros([2, 3])
        assertTensorError(try x.sum(axis: 2), op: "sum", mentions: ["axis 2", "rank 2"])
        assertTensorError(try x.mean(axis: -3), op: "mean", mentions: ["axis -3"])
        assertTensorError(try x.max(axis: 5), op: "max", mentions: ["axis 5"])
        assertTensorError(try x.transposed(0, 2), op: "transpose", mentions: ["axis 2"])
        assertTensorError(try zeros([3]).transposed(), op: "transpose", mentions: ["axis -2"])
        assertTensorError(try zeros([2, 0]).max(axis: 1), op: "max", mentions: ["empty"])
        assertTensorError(try zeros([2, 0]).softmax(), op: "softmax", mentions: ["[2, 0]"])
        assertTensorError(try zeros([2, 0]).logSoftmax(), op: "logSoftmax")
        assertTensorError(try zeros([2, 3]).item, op: "item", mentions: ["[2, 3]"])
    }

    func testNormalization() {
        let x = zeros([2, 4])
        assertTensorError(try x.layerNorm(weight: zeros([3]), bias: zeros([4])), op: "layerNorm", mentions: ["weight [4]", "[3]"])
        assertTensorError(try x.layerNorm(weight: zeros([4]), bias: zeros([5])), op: "layerNorm", mentions: ["bias [5]"])
        assertTensorError(try x.layerNorm(weight: zeros([1, 4]), bias: nil), op: "layerNorm")
        assertTensorError(try x.rmsNorm(weight: zeros([8])), op: "rmsNorm", mentions: ["weight [4]", "[8]"])
    }

    func testParameterAssign() {
        let p = Parameter(zeros([2, 3]))
        assertTensorError(try p.assign(zeros([3, 2])), op: "Parameter.assign", mentions: ["[3, 2]", "[2, 3]"])
    }

    /// torch.clamp applies the upper bound last, so an inverted range gives `max` everywhere.
    func testClampWithInvertedBoundsFollowsTorch() throws {
        let x = try Tensor(shape: [3], scalars: [-1, 0.5, 2])
        XCTAssertEqual(x.clamped(min: 1, max: 0).scalars, [0, 0, 0])
    }
}
