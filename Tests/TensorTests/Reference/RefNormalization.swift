/// LayerNorm and RMSNorm over the last axis.
extension Ref {
    /// (x − mean) / √(biased variance + eps) · weight + bias.
    static func layerNorm(_ x: RefTensor, weight: RefTensor, bias: RefTensor?, eps: Double = 1e-5) -> RefTensor {
        rows(x) { row in
            let n = Double(row.count)
            let mean = row.reduce(0, +) / n
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n
            let scale = 1 / (variance + eps).squareRoot()
            return row.indices.map { (row[$0] - mean) * scale * weight.values[$0] + (bias?.values[$0] ?? 0) }
        }
    }

    /// x / √(mean(x²) + eps) · weight.
    static func rmsNorm(_ x: RefTensor, weight: RefTensor, eps: Double = 1e-6) -> RefTensor {
        rows(x) { row in
            let scale = 1 / (row.map { $0 * $0 }.reduce(0, +) / Double(row.count) + eps).squareRoot()
            return row.indices.map { row[$0] * scale * weight.values[$0] }
        }
    }
}
