import Foundation

/// Rotary position embedding frequencies, computed in float32 as transformers computes them.
public struct RotaryTable: Sendable, Equatable {
    public enum Scaling: Sendable, Equatable {
        /// Positions divided by `factor` (transformers' "linear").
        case linear(factor: Float)
        /// Llama 3's frequency-dependent scaling.
        case llama3(factor: Float, lowFrequencyFactor: Float, highFrequencyFactor: Float, originalContext: Int)
    }

    public let headDim: Int
    /// One inverse frequency per rotated pair (headDim / 2 of them).
    public let inverseFrequencies: [Float]

    public init(headDim: Int, theta: Float, scaling: Scaling? = nil) throws {
        guard headDim > 0, headDim % 2 == 0 else {
            throw TensorError.invalidArgument(op: "rotary", "head dimension \(headDim) must be even")
        }
        self.headDim = headDim
        var frequencies = (0..<(headDim / 2)).map { 1 / Foundation.pow(theta, Float(2 * $0) / Float(headDim)) }
        switch scaling {
        case nil: break
        case .linear(let factor): frequencies = frequencies.map { $0 / factor }
        case .llama3(let factor, let low, let high, let context):
            let lowWavelength = Float(context) / low, highWavelength = Float(context) / high
            frequencies = frequencies.map { frequency in
                let wavelength = 2 * Float.pi / frequency
                if wavelength < highWavelength { return frequency }
                if wavelength > lowWavelength { return frequency / factor }
                let smooth = (Float(context) / wavelength - low) / (high - low)
                return (1 - smooth) * frequency / factor + smooth * frequency
            }
        }
        inverseFrequencies = frequencies
    }

    /// cos and sin of position × frequency for each token, [tokens · headDim/2] each.
    func angles(positions: [Int]) -> (cos: [Float], sin: [Float]) {
        let half = headDim / 2
        var cosines = [Float](repeating: 0, count: positions.count * half)
        var sines = cosines
        for (t, position) in positions.enumerated() {
            for i in 0..<half {
                let angle = Float(position) * inverseFrequencies[i]
                cosines[t * half + i] = Foundation.cos(angle)
                sines[t * half + i] = Foundation.sin(angle)
            }
        }
        return (cosines, sines)
    }
}

extension Tensor {
    /// Rotates each head's halves (x₁, x₂) of `self` `[B, T, heads·d]` by the token's position angles:
    /// (x₁·cos − x₂·sin, x₂·cos + x₁·sin), transformers' `rotate_half` convention. `positions` has B·T entries.
    public func rotated(heads: Int, positions: [Int], table: RotaryTable) throws -> Tensor {
        guard rank == 3, heads > 0, shape[2] == heads * table.headDim else {
            throw TensorError.shapeMismatch(op: "rotary", "input \(shape) is not [B, T, \(heads) × \(table.headDim)]")
        }
        let tokens = shape[0] * shape[1]
        guard positions.count == tokens else {
            throw TensorError.shapeMismatch(op: "rotary", "\(positions.count) positions for \(tokens) tokens")
        }
        let (cosines, sines) = table.angles(positions: positions)
        let rotate = { (source: Tensor, direction: Float) -> Tensor in
            let out = Tensor(uninitializedShape: source.shape)
            let (x, y, half, d) = (source.data, out.data, table.headDim / 2, table.headDim)
            withExtendedLifetime(source) {
                Parallel.forRows(tokens, rowCost: heads * d) { t in
                    for h in 0..<heads {
                        let (xr, yr) = (x + (t * heads + h) * d, y + (t * heads + h) * d)
                        for i in 0..<half {
                            let (c, s) = (cosines[t * half + i], direction * sines[t * half + i])
                            yr[i] = xr[i] * c - xr[i + half] * s
                            yr[i + half] = xr[i + half] * c + xr[i] * s
                        }
                    }
                }
            }
            return out
        }
        // The rotation is orthogonal: its backward is the rotation by the opposite angle.
        return Autograd.record(rotate(self, 1), inputs: [node]) { g in [rotate(g, -1)] }
    }
}
