/// Krippendorff's α (Krippendorff 2011, "Computing Krippendorff's alpha-reliability"): agreement
/// among any number of coders on any number of units, with missing values, as
/// 1 − observed disagreement / disagreement expected by chance. 1 is perfect agreement, 0 chance.
public enum KrippendorffAlpha {
    /// α for ordinal values. Each unit lists the values its coders gave it (missing ones left out);
    /// units with fewer than two values cannot be paired and are ignored. Nil when fewer than two
    /// distinct values are pairable, where chance disagreement is zero and α undefined.
    public static func ordinal<Value: Hashable & Comparable>(units: [[Value]]) -> Double? {
        let pairable = units.filter { $0.count >= 2 }
        let values = Set(pairable.joined()).sorted()
        guard values.count >= 2 else { return nil }
        let index = Dictionary(uniqueKeysWithValues: values.enumerated().map { ($1, $0) })

        // Coincidence matrix: every ordered pair of values from different coders within a unit,
        // weighted 1 / (m_u − 1) so each unit contributes as many pairable values as it has.
        var coincidences = [[Double]](repeating: [Double](repeating: 0, count: values.count), count: values.count)
        for unit in pairable {
            let counts = unit.reduce(into: [Int: Double]()) { $0[index[$1]!, default: 0] += 1 }
            let weight = 1 / Double(unit.count - 1)
            for (c, countC) in counts {
                for (k, countK) in counts {
                    coincidences[c][k] += weight * countC * (c == k ? countK - 1 : countK)
                }
            }
        }
        let marginals = coincidences.map { $0.reduce(0, +) }
        let total = marginals.reduce(0, +)

        var observed = 0.0
        var expected = 0.0
        for c in values.indices {
            for k in values.indices where k != c {
                let distance = ordinalDistanceSquared(c, k, marginals: marginals)
                observed += coincidences[c][k] * distance
                expected += marginals[c] * marginals[k] * distance
            }
        }
        return 1 - (total - 1) * observed / expected
    }

    /// δ²(c, k) = (Σ_{g=c…k} n_g − (n_c + n_k) / 2)²: ordinal values are as far apart as the number
    /// of pairable values ranked between them, not as their numeric difference.
    private static func ordinalDistanceSquared(_ c: Int, _ k: Int, marginals: [Double]) -> Double {
        let (low, high) = (min(c, k), max(c, k))
        let between = marginals[low...high].reduce(0, +) - (marginals[low] + marginals[high]) / 2
        return between * between
    }
}
