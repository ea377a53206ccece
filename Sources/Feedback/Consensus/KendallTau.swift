import Foundation

/// Kendall's τ-b (Kendall 1945, "The treatment of ties in ranking problems"): rank correlation
/// corrected for ties on either side, so a labeler's tie against a strict consensus order costs
/// less than a reversal. +1 is the same order, −1 the reverse, 0 no association.
public enum KendallTau {
    /// τ-b over the completions both rank maps contain (rank 1 is best); nil when fewer than two
    /// are shared or either side ties all of them, where the correlation is undefined.
    public static func b<Completion: Hashable>(_ x: [Completion: Int], _ y: [Completion: Int]) -> Double? {
        let shared = x.keys.filter { y[$0] != nil }
        var concordantMinusDiscordant = 0
        var tiedInX = 0
        var tiedInY = 0
        for (index, a) in shared.enumerated() {
            for b in shared[(index + 1)...] {
                let dx = x[a]! - x[b]!
                let dy = y[a]! - y[b]!
                if dx == 0 { tiedInX += 1 }
                if dy == 0 { tiedInY += 1 }
                concordantMinusDiscordant += dx.signum() * dy.signum()
            }
        }
        let pairs = shared.count * (shared.count - 1) / 2
        let denominator = (Double(pairs - tiedInX) * Double(pairs - tiedInY)).squareRoot()
        guard denominator > 0 else { return nil }
        return Double(concordantMinusDiscordant) / denominator
    }
}
