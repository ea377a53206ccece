import Tensor
import XCTest

/// Every differentiable op: the engine's forward and float32 gradients against the float64 reference
/// (`Reference/`) and its central finite differences. Each check prints its maximum relative errors.
final class GradCheckTests: XCTestCase {
    func testArithmetic() {
        let r = SeededInputs(seed: 1)
        typealias Binary = (String, (Tensor, Tensor) throws -> Tensor, (RefTensor, RefTensor) -> RefTensor)
        let ops: [Binary] = [("add", { try $0 + $1 }, Ref.add), ("sub", { try $0 - $1 }, Ref.sub),
                             ("mul", { try $0 * $1 }, Ref.mul)]
        let shapes: [([Int], [Int])] = [([3, 5], [3, 5]), ([2, 3, 4], [4]), ([2, 1, 4], [3, 1]), ([3, 1], [2, 1, 4]),
                                        ([2, 3, 4], [])]
        for (name, op, ref) in ops {
            for (sa, sb) in shapes {
                checkGradients("\(name) \(sa) \(sb)", ["a": r.normal(sa), "b": r.normal(sb)],
                               engine: { try op($0[0], $0[1]) }, reference: { ref($0[0], $0[1]) })
            }
        }
        for (sa, sb) in shapes {
            checkGradients("div \(sa) \(sb)", ["a": r.normal(sa), "b": r.signed(sb, magnitude: 0.5...2)],
                           engine: { try $0[0] / $0[1] }, reference: { Ref.div($0[0], $0[1]) })
        }
        // One operand constant: the branches that skip an input's gradient.
        for (name, op, ref) in ops + [("div", { try $0 / $1 }, Ref.div)] {
            for constant in ["a", "b"] {
                checkGradients("\(name) [2,3,4] [3,1] (\(constant) constant)",
                               ["a": r.normal([2, 3, 4]), "b": r.signed([3, 1], magnitude: 0.5...2)], constant: [constant],
                               engine: { try op($0[0], $0[1]) }, reference: { ref($0[0], $0[1]) })
            }
        }
    }

    func testScalarArithmetic() {
        let r = SeededInputs(seed: 2)
        typealias Unary = (String, (Tensor) -> Tensor, (Double) -> Double)
        let ops: [Unary] = [("x + 1.5", { $0 + 1.5 }, { $0 + 1.5 }), ("2 + x", { 2 + $0 }, { 2 + $0 }),
                            ("x - 0.5", { $0 - 0.5 }, { $0 - 0.5 }), ("2 - x", { 2 - $0 }, { 2 - $0 }),
                            ("x * 3", { $0 * 3 }, { $0 * 3 }), ("-0.5 * x", { -0.5 * $0 }, { -0.5 * $0 }),
                            ("x / 4", { $0 / 4 }, { $0 / 4 }), ("negated", { $0.negated() }, { -$0 }),
                            ("prefix -", { -$0 }, { -$0 })]
        for (name, op, ref) in ops {
            checkGradients("scalar \(name)", ["x": r.normal([2, 3, 5])], engine: { op($0[0]) }, reference: { $0[0].map(ref) })
        }
    }

    func testActivations() {
        let r = SeededInputs(seed: 3)
        typealias Unary = (String, (Tensor) -> Tensor, (RefTensor) -> RefTensor, positive: Bool)
        let ops: [Unary] = [
            ("exp", { $0.exp() }, Ref.exp, false), ("log", { $0.log() }, Ref.log, true),
            ("sqrt", { $0.sqrt() }, Ref.sqrt, true), ("tanh", { $0.tanh() }, Ref.tanh, false),
            ("sigmoid", { $0.sigmoid() }, Ref.sigmoid, false), ("logSigmoid", { $0.logSigmoid() }, Ref.logSigmoid, false),
            ("silu", { $0.silu() }, Ref.silu, false), ("gelu tanh", { $0.gelu(.tanh) }, Ref.geluTanh, false),
            ("gelu exact", { $0.gelu(.exact) }, Ref.geluExact, false),
        ]
        for (name, op, ref, positive) in ops {
            // [2, 3, 5]: vector lanes and a scalar tail; std 2 reaches both branches of tanh's kernel.
            let x = positive ? r.uniform([2, 3, 5], in: 0.2...3) : r.normal([2, 3, 5], std: 2)
            checkGradients("\(name) [2,3,5]", ["x": x], engine: { op($0[0]) }, reference: { ref($0[0]) })
            // Large enough to be split across cores.
            let big = positive ? r.uniform([70_001], in: 0.2...3) : r.normal([70_001], std: 3)
            checkGradients("\(name) [70001]", ["x": big], mode: .pointwise, engine: { op($0[0]) }, reference: { ref($0[0]) })
        }
        checkGradients("logSigmoid large |x|", ["x": r.normal([4, 5], std: 20)],
                       engine: { $0[0].logSigmoid() }, reference: { Ref.logSigmoid($0[0]) })
    }

    func testMatmul() {
        let r = SeededInputs(seed: 4)
        let (m, k, n) = (3, 4, 5)
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                let a = transposeA ? [k, m] : [m, k], b = transposeB ? [n, k] : [k, n]
                let flags = "\(transposeA ? "Aᵀ" : "A")·\(transposeB ? "Bᵀ" : "B")"
                var cases: [(String, [Int], [Int])] = [("2-D", a, b), ("batched [2]", [2] + a, [2] + b),
                                                       ("batched [2,2]", [2, 2] + a, [2, 2] + b)]
                if !transposeA { cases += [("shared B [2]", [2] + a, b), ("shared B [2,2]", [2, 2] + a, b)] }
                for (label, sa, sb) in cases {
                    checkGradients("matmul \(label) \(flags)", ["a": r.normal(sa), "b": r.normal(sb)],
                                   engine: { try Tensor.matmul($0[0], $0[1], transposeA: transposeA, transposeB: transposeB) },
                                   reference: { Ref.matmul($0[0], $0[1], transposeA: transposeA, transposeB: transposeB) })
                }
            }
        }
    }

    func testLinear() {
        let r = SeededInputs(seed: 5)
        for xShape in [[2, 3, 4], [4]] {
            checkGradients("linear x\(xShape)", ["x": r.normal(xShape), "w": r.normal([5, 4])],
                           engine: { try Tensor.linear($0[0], weight: $0[1]) },
                           reference: { Ref.linear($0[0], weight: $0[1], bias: nil) })
            checkGradients("linear x\(xShape) + bias", ["x": r.normal(xShape), "w": r.normal([5, 4]), "bias": r.normal([5])],
                           engine: { try Tensor.linear($0[0], weight: $0[1], bias: $0[2]) },
                           reference: { Ref.linear($0[0], weight: $0[1], bias: $0[2]) })
        }
        checkGradients("linear + bias, x constant", ["x": r.normal([3, 4]), "w": r.normal([5, 4]), "bias": r.normal([5])],
                       constant: ["x"], engine: { try Tensor.linear($0[0], weight: $0[1], bias: $0[2]) },
                       reference: { Ref.linear($0[0], weight: $0[1], bias: $0[2]) })
    }

    func testReductions() {
        let r = SeededInputs(seed: 6)
        let shape = [2, 3, 4]
        checkGradients("sum()", ["x": r.normal(shape)], engine: { $0[0].sum() }, reference: { Ref.sum($0[0]) })
        checkGradients("mean()", ["x": r.normal(shape)], engine: { $0[0].mean() }, reference: { Ref.mean($0[0]) })
        for axis in [0, 1, 2, -1] {
            for keepDims in [false, true] {
                checkGradients("sum(axis: \(axis), keepDims: \(keepDims))", ["x": r.normal(shape)],
                               engine: { try $0[0].sum(axis: axis, keepDims: keepDims) },
                               reference: { Ref.sum($0[0], axis: axis, keepDims: keepDims) })
                checkGradients("mean(axis: \(axis), keepDims: \(keepDims))", ["x": r.normal(shape)],
                               engine: { try $0[0].mean(axis: axis, keepDims: keepDims) },
                               reference: { Ref.mean($0[0], axis: axis, keepDims: keepDims) })
                checkGradients("max(axis: \(axis), keepDims: \(keepDims))", ["x": r.normal(shape)],
                               engine: { try $0[0].max(axis: axis, keepDims: keepDims) },
                               reference: { Ref.max($0[0], axis: axis, keepDims: keepDims) })
            }
        }
    }

    func testSoftmax() throws {
        let r = SeededInputs(seed: 7)
        for (shape, std) in [([2, 3, 5], Float(1)), ([3, 11], 3), ([2, 19], 8)] {
            checkGradients("softmax \(shape) std \(std)", ["x": r.normal(shape, std: std)],
                           engine: { try $0[0].softmax() }, reference: { Ref.softmax($0[0]) })
            checkGradients("logSoftmax \(shape) std \(std)", ["x": r.normal(shape, std: std)],
                           engine: { try $0[0].logSoftmax() }, reference: { Ref.logSoftmax($0[0]) })
            checkGradients("softmaxEntropy \(shape) std \(std)", ["x": r.normal(shape, std: std)],
                           engine: { try $0[0].softmaxEntropy() },
                           reference: { Ref.sum(Ref.mul(Ref.softmax($0[0]), Ref.logSoftmax($0[0])), axis: -1).map { -$0 } })
        }
        // A masked logit (−∞, probability 0) adds nothing to the entropy and gets no gradient, rather than 0·∞ = NaN.
        let masked = try Tensor(shape: [1, 11], scalars: [0.5, -.infinity] + (0..<9).map { Float($0) / 4 }).requiringGrad()
        let entropy = try masked.softmaxEntropy()
        try entropy.sum().backward()
        let p = Ref.softmax(RefTensor(shape: [10], values: [0.5] + (0..<9).map { Double($0) / 4 })).values
        XCTAssertEqual(Double(try entropy.item), -p.map { $0 * Foundation.log($0) }.reduce(0, +), accuracy: 1e-6)
        XCTAssertEqual(try XCTUnwrap(masked.grad).scalars[1], 0)
        XCTAssertTrue(try XCTUnwrap(masked.grad).scalars.allSatisfy(\.isFinite))
    }

    func testCrossEntropy() {
        let r = SeededInputs(seed: 8)
        let cases: [(String, [Int], [Int], Int)] = [
            ("[2,3,7] one ignored", [2, 3, 7], [3, 0, -100, 6, 2, 2], -100),
            ("[4,11] ignoreIndex 0", [4, 11], [0, 10, 5, 0], 0),
            ("[5,9] none ignored", [5, 9], [8, 1, 1, 4, 0], -100),
            ("[2,5] all ignored", [2, 5], [-100, -100], -100),
        ]
        for (label, shape, targets, ignore) in cases {
            checkGradients("crossEntropy \(label)", ["logits": r.normal(shape, std: 2)],
                           engine: { try $0[0].crossEntropy(targets: targets, ignoreIndex: ignore) },
                           reference: { Ref.crossEntropy($0[0], targets: targets, ignoreIndex: ignore) })
            checkGradients("tokenLogProbabilities \(label)", ["logits": r.normal(shape, std: 2)],
                           engine: { try $0[0].tokenLogProbabilities(targets: targets, ignoreIndex: ignore) },
                           reference: { Ref.tokenLogProbabilities($0[0], targets: targets, ignoreIndex: ignore) })
        }
    }

    func testIndexing() {
        let r = SeededInputs(seed: 9)
        let ids = [1, 4, 1, 0, 5, 1]  // repeated ids: the backward scatter-add must accumulate
        checkGradients("embedding [6,4] ids [2,3]", ["table": r.normal([6, 4])],
                       engine: { try Tensor.embedding($0[0], ids: ids, shape: [2, 3]) },
                       reference: { Ref.embedding($0[0], ids: ids, shape: [2, 3]) })
        let manyIds = r.integers(120, in: 0..<70)  // vocabulary split across cores in the backward
        checkGradients("embedding [70,3] ids [3,40]", ["table": r.normal([70, 3])],
                       engine: { try Tensor.embedding($0[0], ids: manyIds, shape: [3, 40]) },
                       reference: { Ref.embedding($0[0], ids: manyIds, shape: [3, 40]) })
        let picks = r.integers(6, in: 0..<5)
        checkGradients("gather [2,3,5]", ["x": r.normal([2, 3, 5])],
                       engine: { try $0[0].gather(lastAxis: picks) }, reference: { Ref.gather($0[0], lastAxis: picks) })
    }

    func testShapeOps() {
        let r = SeededInputs(seed: 10)
        checkGradients("reshape [2,3,4] -> [4,-1]", ["x": r.normal([2, 3, 4])],
                       engine: { try $0[0].reshaped([4, -1]) }, reference: { Ref.reshape($0[0], [4, -1]) })
        for (shape, a0, a1) in [([2, 3, 4], -2, -1), ([2, 3, 4], 0, 2), ([2, 3, 2, 4], 1, 2), ([3, 5], -1, 0)] {
            checkGradients("transposed \(shape) (\(a0), \(a1))", ["x": r.normal(shape)],
                           engine: { try $0[0].transposed(a0, a1) }, reference: { Ref.transpose($0[0], a0, a1) })
        }
        let concats: [(Int, [Int], [Int], [Int])] = [(0, [2, 3], [1, 3], [3, 3]), (1, [2, 1, 4], [2, 3, 4], [2, 2, 4]),
                                                     (-1, [2, 3, 2], [2, 3, 3], [2, 3, 1])]
        for (axis, s0, s1, s2) in concats {
            checkGradients("concat axis \(axis) \(s0) \(s1) \(s2)", ["a": r.normal(s0), "b": r.normal(s1), "c": r.normal(s2)],
                           engine: { try Tensor.concat($0, axis: axis) }, reference: { Ref.concat($0, axis: axis) })
        }
        checkGradients("concat axis 1, b constant", ["a": r.normal([2, 2]), "b": r.normal([2, 3])], constant: ["b"],
                       engine: { try Tensor.concat($0, axis: 1) }, reference: { Ref.concat($0, axis: 1) })
        for (shape, axis, range) in [([4, 3], 0, 1..<3), ([3, 2, 2], 0, 0..<1), ([2, 5, 3], 1, 1..<4), ([2, 3, 5], -1, 2..<5)] {
            checkGradients("slice \(shape) axis \(axis) \(range)", ["x": r.normal(shape)],
                           engine: { try $0[0].slice(axis: axis, range) }, reference: { Ref.slice($0[0], axis: axis, range) })
        }
        // A view (slice of the first axis) fed to another op and reshaped.
        checkGradients("slice view -> reshape -> mul", ["x": r.normal([4, 6]), "y": r.normal([3, 4])],
                       engine: { try $0[0].slice(axis: 0, 1..<3).reshaped([3, 4]) * $0[1] },
                       reference: { Ref.mul(Ref.reshape(Ref.slice($0[0], axis: 0, 1..<3), [3, 4]), $0[1]) })
    }

    func testSelection() {
        let r = SeededInputs(seed: 11)
        let bounds: [(Float?, Float?)] = [(-0.5, 0.5), (-0.3, nil), (nil, 0.2)]
        for (low, high) in bounds {
            let x = r.normal([2, 3, 5], awayFrom: [low, high].compactMap { $0 }, margin: 0.05)
            checkGradients("clamped(min: \(low.map { "\($0)" } ?? "-"), max: \(high.map { "\($0)" } ?? "-"))", ["x": x],
                           engine: { $0[0].clamped(min: low ?? -.infinity, max: high ?? .infinity) },
                           reference: { Ref.clamp($0[0], min: Double(low ?? -.infinity), max: Double(high ?? .infinity)) })
        }
        // b takes values on a grid and a stays 0.05 away from it, so a − b never crosses zero under a step.
        let grid: [Float] = [-1, -0.5, 0, 0.5, 1]
        for (sa, sb) in [([2, 3, 4], [3, 1]), ([3, 1], [2, 3, 4]), ([2, 5], [2, 5])] {
            checkGradients("minimum \(sa) \(sb)", ["a": r.normal(sa, awayFrom: grid, margin: 0.05), "b": r.choice(sb, from: grid)],
                           engine: { try Tensor.minimum($0[0], $0[1]) }, reference: { Ref.minimum($0[0], $0[1]) })
            checkGradients("maximum \(sa) \(sb)", ["a": r.normal(sa, awayFrom: grid, margin: 0.05), "b": r.choice(sb, from: grid)],
                           engine: { try Tensor.maximum($0[0], $0[1]) }, reference: { Ref.maximum($0[0], $0[1]) })
        }
        for (sc, sa, sb) in [([2, 3, 4], [2, 3, 4], [4]), ([3, 1], [2, 3, 4], []), ([2, 3, 4], [3, 1], [2, 1, 4])] {
            let condition = r.choice(sc, from: [0, 1])
            checkGradients("where \(sc) \(sa) \(sb)", ["a": r.normal(sa), "b": r.normal(sb)],
                           engine: { try Tensor.where(condition, $0[0], $0[1]) },
                           reference: { Ref.where(RefTensor(condition), $0[0], $0[1]) })
        }
        let mask = r.choice([3, 4], from: [0, 1])
        checkGradients("masked [2,3,4] keeping [3,4]", ["x": r.normal([2, 3, 4])],
                       engine: { try $0[0].masked(keeping: mask, fill: -1) },
                       reference: { Ref.masked($0[0], keeping: RefTensor(mask), fill: -1) })
    }

    func testNormalization() {
        let r = SeededInputs(seed: 12)
        for shape in [[2, 3, 6], [3, 17]] {
            let n = shape.last!
            checkGradients("layerNorm \(shape) + bias",
                           ["x": r.normal(shape, std: 2), "weight": r.normal([n]) + 1, "bias": r.normal([n])],
                           engine: { try $0[0].layerNorm(weight: $0[1], bias: $0[2]) },
                           reference: { Ref.layerNorm($0[0], weight: $0[1], bias: $0[2]) })
            checkGradients("layerNorm \(shape) no bias", ["x": r.normal(shape), "weight": r.normal([n]) + 1],
                           engine: { try $0[0].layerNorm(weight: $0[1], bias: nil) },
                           reference: { Ref.layerNorm($0[0], weight: $0[1], bias: nil) })
            checkGradients("rmsNorm \(shape)", ["x": r.normal(shape, std: 2), "weight": r.normal([n]) + 1],
                           engine: { try $0[0].rmsNorm(weight: $0[1]) }, reference: { Ref.rmsNorm($0[0], weight: $0[1]) })
        }
        checkGradients("layerNorm eps 1e-2", ["x": r.normal([2, 4], std: 0.1), "weight": r.normal([4]), "bias": r.normal([4])],
                       engine: { try $0[0].layerNorm(weight: $0[1], bias: $0[2], eps: 1e-2) },
                       reference: { Ref.layerNorm($0[0], weight: $0[1], bias: $0[2], eps: 1e-2) })
        checkGradients("rmsNorm eps 1e-2", ["x": r.normal([2, 4], std: 0.1), "weight": r.normal([4])],
                       engine: { try $0[0].rmsNorm(weight: $0[1], eps: 1e-2) },
                       reference: { Ref.rmsNorm($0[0], weight: $0[1], eps: 1e-2) })
    }

    func testRotary() throws {
        let r = SeededInputs(seed: 21)
        let table = try RotaryTable(headDim: 4, theta: 10_000)
        let llama3 = try RotaryTable(headDim: 8, theta: 500_000, scaling: .llama3(factor: 8, lowFrequencyFactor: 1,
                                                                                  highFrequencyFactor: 4, originalContext: 16))
        for (table, heads, positions) in [(table, 2, [0, 1, 2, 7, 3, 9]), (llama3, 1, [5, 40, 100, 2, 0, 63])] {
            let frequencies = table.inverseFrequencies.map(Double.init)
            checkGradients("rotary d\(table.headDim) heads \(heads)", ["x": r.normal([2, 3, heads * table.headDim])],
                           engine: { try $0[0].rotated(heads: heads, positions: positions, table: table) },
                           reference: { Ref.rotary($0[0], heads: heads, positions: positions, frequencies: frequencies) })
        }
    }

    func testAttention() {
        let r = SeededInputs(seed: 13)
        struct Case { let label: String; let b, tq, tk, heads, kvHeads, d: Int; let mask: [Float]?; let offset: Int? }
        let cases = [
            // Batch 0 pads its first key (so its first query sees no key), batch 1 its last.
            Case(label: "GQA 4/2 B2 T5 d3 mask", b: 2, tq: 5, tk: 5, heads: 4, kvHeads: 2, d: 3,
                 mask: [0, 1, 1, 1, 1, 1, 1, 1, 1, 0], offset: nil),
            Case(label: "GQA 4/2 B2 T5 d3", b: 2, tq: 5, tk: 5, heads: 4, kvHeads: 2, d: 3, mask: nil, offset: nil),
            Case(label: "GQA 4/2 Tq2 Tk5 (offset 3)", b: 2, tq: 2, tk: 5, heads: 4, kvHeads: 2, d: 3, mask: nil, offset: nil),
            Case(label: "GQA 4/2 Tq3 Tk5 offset 1 mask", b: 2, tq: 3, tk: 5, heads: 4, kvHeads: 2, d: 3,
                 mask: [1, 1, 0, 1, 1, 1, 1, 1, 1, 0], offset: 1),
            Case(label: "MHA 2/2 B1 T4 d4", b: 1, tq: 4, tk: 4, heads: 2, kvHeads: 2, d: 4, mask: nil, offset: nil),
            Case(label: "MQA 4/1 B2 Tq1 Tk6 mask", b: 2, tq: 1, tk: 6, heads: 4, kvHeads: 1, d: 2,
                 mask: [1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1], offset: nil),
        ]
        for c in cases {
            checkGradients("causalAttention \(c.label)",
                           ["q": r.normal([c.b, c.tq, c.heads * c.d]), "k": r.normal([c.b, c.tk, c.kvHeads * c.d]),
                            "v": r.normal([c.b, c.tk, c.kvHeads * c.d])],
                           engine: { try Tensor.causalAttention(query: $0[0], key: $0[1], value: $0[2], heads: c.heads,
                                                               kvHeads: c.kvHeads, keyMask: c.mask, positionOffset: c.offset) },
                           reference: { Ref.causalAttention(query: $0[0], key: $0[1], value: $0[2], heads: c.heads,
                                                            kvHeads: c.kvHeads, keyMask: c.mask?.map(Double.init),
                                                            positionOffset: c.offset) })
        }
    }

    /// Encoder and T5-style scores: bidirectional, a chosen scale, and an additive bias shared by the batch or
    /// per batch row, whose gradient is checked too.
    func testAttentionWithScoreBias() {
        let r = SeededInputs(seed: 21)
        struct Case { let label: String; let b, tq, tk, heads, kvHeads, d, biasBatch: Int; let causal: Bool; let scale: Float?; let mask: [Float]? }
        let cases = [
            Case(label: "bidirectional shared bias scale 1", b: 2, tq: 4, tk: 4, heads: 2, kvHeads: 2, d: 3, biasBatch: 1,
                 causal: false, scale: 1, mask: [1, 1, 1, 0, 1, 1, 1, 1]),
            Case(label: "bidirectional per-row bias GQA", b: 2, tq: 3, tk: 5, heads: 4, kvHeads: 2, d: 2, biasBatch: 2,
                 causal: false, scale: nil, mask: nil),
            Case(label: "causal shared bias", b: 2, tq: 5, tk: 5, heads: 2, kvHeads: 1, d: 3, biasBatch: 1,
                 causal: true, scale: 0.7, mask: [1, 1, 1, 1, 1, 1, 1, 1, 0, 1]),
        ]
        for c in cases {
            checkGradients("attention \(c.label)",
                           ["q": r.normal([c.b, c.tq, c.heads * c.d]), "k": r.normal([c.b, c.tk, c.kvHeads * c.d]),
                            "v": r.normal([c.b, c.tk, c.kvHeads * c.d]), "bias": r.normal([c.biasBatch, c.heads, c.tq, c.tk])],
                           engine: { try Tensor.attention(query: $0[0], key: $0[1], value: $0[2], heads: c.heads, kvHeads: c.kvHeads,
                                                          scores: .init(causal: c.causal, scale: c.scale, bias: $0[3]),
                                                          keyMask: c.mask, positionOffset: c.causal ? nil : 0) },
                           reference: { Ref.attention(query: $0[0], key: $0[1], value: $0[2], heads: c.heads, kvHeads: c.kvHeads,
                                                      causal: c.causal, scale: c.scale.map(Double.init), bias: $0[3],
                                                      keyMask: c.mask?.map(Double.init), positionOffset: c.causal ? nil : 0) })
        }
    }

    /// DeBERTa's relative lookups: one [R, K] index table shared by every leading position, repeats included.
    func testGatherRowsSharedIndex() {
        let r = SeededInputs(seed: 22)
        let (rows, width, k) = (3, 5, 4)
        let index = [0, 4, 4, 2, 1, 1, 3, 0, 2, 2, 2, 4]
        checkGradients("gather rows", ["x": r.normal([2, 2, rows, width])],
                       engine: { try $0[0].gather(rows: index, width: k) },
                       reference: { x in
                           var out = RefTensor(shape: [2, 2, rows, k], repeating: 0)
                           for a in 0..<2 { for b in 0..<2 { for i in 0..<rows { for j in 0..<k {
                               out[[a, b, i, j]] = x[0][[a, b, i, index[i * k + j]]]
                           } } } }
                           return out
                       })
    }

    /// Shapes large enough for the engine to split the work across cores (row and column blocks of a GEMM,
    /// rows of the axis-wise kernels), checked along random directions.
    func testLargeShapesSplitAcrossCores() {
        let r = SeededInputs(seed: 14)
        // Sums of hundreds of float32 terms: the forward bound is the issue's 1e-5 rather than 1e-6.
        func check(_ name: String, _ inputs: KeyValuePairs<String, Tensor>, engine: ([Tensor]) throws -> Tensor,
                   reference: ([RefTensor]) -> RefTensor, line: UInt = #line) {
            checkGradients(name, inputs, mode: .directional(2), forwardTolerance: 1e-5, engine: engine, reference: reference,
                           line: line)
        }
        let products: [(String, [Int], [Int], Bool, Bool)] = [
            ("row blocks A·B", [512, 256], [256, 16], false, false), ("column blocks A·B", [16, 256], [256, 512], false, false),
            ("row blocks Aᵀ·Bᵀ", [256, 512], [16, 256], true, true), ("column blocks A·Bᵀ", [16, 256], [512, 256], false, true),
            ("shared B [2,256,256]·[256,16]", [2, 256, 256], [256, 16], false, false),
        ]
        for (label, sa, sb, transposeA, transposeB) in products {
            check("matmul \(label)", ["a": r.normal(sa), "b": r.normal(sb)],
                  engine: { try Tensor.matmul($0[0], $0[1], transposeA: transposeA, transposeB: transposeB) },
                  reference: { Ref.matmul($0[0], $0[1], transposeA: transposeA, transposeB: transposeB) })
        }
        check("linear [256,128] -> 64 + bias", ["x": r.normal([256, 128]), "w": r.normal([64, 128]), "bias": r.normal([64])],
              engine: { try Tensor.linear($0[0], weight: $0[1], bias: $0[2]) },
              reference: { Ref.linear($0[0], weight: $0[1], bias: $0[2]) })
        check("add [300,256] [256]", ["a": r.normal([300, 256]), "b": r.normal([256])],
              engine: { try $0[0] + $0[1] }, reference: { Ref.add($0[0], $0[1]) })
        check("mul [300,256] [300,1]", ["a": r.normal([300, 256]), "b": r.normal([300, 1])],
              engine: { try $0[0] * $0[1] }, reference: { Ref.mul($0[0], $0[1]) })
        check("sum(axis: 1) [300,256]", ["x": r.normal([300, 256])],
              engine: { try $0[0].sum(axis: 1) }, reference: { Ref.sum($0[0], axis: 1) })
        check("max(axis: 1) [300,256]", ["x": r.normal([300, 256])],
              engine: { try $0[0].max(axis: 1) }, reference: { Ref.max($0[0], axis: 1) })
        check("transposed [300,256]", ["x": r.normal([300, 256])],
              engine: { try $0[0].transposed() }, reference: { Ref.transpose($0[0]) })
        check("softmax [300,64]", ["x": r.normal([300, 64], std: 3)],
              engine: { try $0[0].softmax() }, reference: { Ref.softmax($0[0]) })
        check("logSoftmax [300,64]", ["x": r.normal([300, 64], std: 3)],
              engine: { try $0[0].logSoftmax() }, reference: { Ref.logSoftmax($0[0]) })
        check("softmaxEntropy [300,64]", ["x": r.normal([300, 64], std: 3)], engine: { try $0[0].softmaxEntropy() },
              reference: { Ref.sum(Ref.mul(Ref.softmax($0[0]), Ref.logSoftmax($0[0])), axis: -1).map { -$0 } })
        let targets = r.integers(600, in: 0..<64).enumerated().map { $0.offset % 7 == 0 ? -100 : $0.element }
        check("crossEntropy [600,64]", ["logits": r.normal([600, 64], std: 2)],
              engine: { try $0[0].crossEntropy(targets: targets) }, reference: { Ref.crossEntropy($0[0], targets: targets) })
        check("layerNorm [600,64]", ["x": r.normal([600, 64]), "weight": r.normal([64]), "bias": r.normal([64])],
              engine: { try $0[0].layerNorm(weight: $0[1], bias: $0[2]) },
              reference: { Ref.layerNorm($0[0], weight: $0[1], bias: $0[2]) })
        check("rmsNorm [600,64]", ["x": r.normal([600, 64]), "weight": r.normal([64])],
              engine: { try $0[0].rmsNorm(weight: $0[1]) }, reference: { Ref.rmsNorm($0[0], weight: $0[1]) })
    }
}
