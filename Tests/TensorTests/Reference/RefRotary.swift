import Foundation

/// Rotary position embedding, transformers' `rotate_half` convention.
extension Ref {
    /// x: [B, T, heads·d]; each head's halves (x₁, x₂) at position p become
    /// (x₁·cos θ − x₂·sin θ, x₂·cos θ + x₁·sin θ) with θᵢ = p · frequencies[i].
    static func rotary(_ x: RefTensor, heads: Int, positions: [Int], frequencies: [Double]) -> RefTensor {
        let d = x.shape[2] / heads, half = d / 2
        var out = x
        for t in 0..<(x.shape[0] * x.shape[1]) {
            for h in 0..<heads {
                let base = (t * heads + h) * d
                for i in 0..<half {
                    let angle = Double(positions[t]) * frequencies[i]
                    let (a, b) = (x.values[base + i], x.values[base + i + half])
                    out.values[base + i] = a * cos(angle) - b * sin(angle)
                    out.values[base + i + half] = b * cos(angle) + a * sin(angle)
                }
            }
        }
        return out
    }
}
