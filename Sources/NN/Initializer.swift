import Tensor

/// How new layers fill their weights: seeded normal samples for training from scratch, or zeros when
/// the weights are about to be replaced by a checkpoint (no time spent sampling).
public struct WeightInitializer {
    private var generator: SeededGenerator?

    public static func random(seed: UInt64) -> WeightInitializer { WeightInitializer(generator: SeededGenerator(seed: seed)) }
    public static var zeros: WeightInitializer { WeightInitializer(generator: nil) }

    public mutating func normal(_ shape: [Int], std: Float) -> Tensor {
        guard generator != nil else { return Tensor.zeros(shape) }
        return Tensor.randn(shape, std: std, using: &generator!)
    }
}
