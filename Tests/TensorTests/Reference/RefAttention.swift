import Foundation

extension Ref {
    /// Causal scaled dot-product attention, one (batch, head, query) at a time.
    ///
    /// query `[B, Tq, H·d]`, key/value `[B, Tk, Hkv·d]`; query head h reads key/value head h / (H / Hkv).
    /// Query i (absolute position offset + i) sees key j when j ≤ offset + i and keyMask[b·Tk + j] ≠ 0;
    /// its output is Σ_j softmax_j(q·k_j / √d)·v_j over the keys it sees, or zeros when it sees none.
    static func causalAttention(query: RefTensor, key: RefTensor, value: RefTensor, heads: Int, kvHeads: Int,
                                keyMask: [Double]? = nil, positionOffset: Int? = nil) -> RefTensor {
        attention(query: query, key: key, value: value, heads: heads, kvHeads: kvHeads, keyMask: keyMask, positionOffset: positionOffset)
    }

    /// As above, optionally bidirectional, with scores `scale·q·k + bias[b or 0, h, i, j]` (scale 1/√d by default).
    static func attention(query: RefTensor, key: RefTensor, value: RefTensor, heads: Int, kvHeads: Int, causal: Bool = true,
                          scale: Double? = nil, bias: RefTensor? = nil, keyMask: [Double]? = nil,
                          positionOffset: Int? = nil) -> RefTensor {
        let (batch, tq, tk) = (query.shape[0], query.shape[1], key.shape[1])
        let d = query.shape[2] / heads
        let offset = positionOffset ?? (tk - tq)
        var out = RefTensor(shape: query.shape, repeating: 0)
        for b in 0..<batch {
            for h in 0..<heads {
                let kvh = h / (heads / kvHeads)
                for i in 0..<tq {
                    let visible = (0..<tk).filter { j in (!causal || j <= offset + i) && (keyMask?[b * tk + j] ?? 1) != 0 }
                    guard !visible.isEmpty else { continue }
                    let scores = visible.map { j in
                        (0..<d).map { query[[b, i, h * d + $0]] * key[[b, j, kvh * d + $0]] }.reduce(0, +) * (scale ?? 1 / Double(d).squareRoot())
                            + (bias.map { $0[[$0.shape[0] == 1 ? 0 : b, h, i, j]] } ?? 0)
                    }
                    let lse = logSumExp(scores)
                    for c in 0..<d {
                        out[[b, i, h * d + c]] = zip(visible, scores).map { j, s in Foundation.exp(s - lse) * value[[b, j, kvh * d + c]] }
                            .reduce(0, +)
                    }
                }
            }
        }
        return out
    }
}
