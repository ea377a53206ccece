import Tensor

/// The fields of GPT-2's config.json that shape the model (snake_case in the file).
public struct GPT2Config: Codable, Sendable {
    public var nLayer: Int
    public var nHead: Int
    public var nEmbd: Int
    public var nPositions: Int
    public var vocabSize: Int
    public var nInner: Int?
    public var layerNormEpsilon: Float?
    public var activationFunction: String?
    public var tieWordEmbeddings: Bool?
    public var initializerRange: Float?
    public var bosTokenId: TokenIDList?
    public var eosTokenId: TokenIDList?
    public var addCrossAttention: Bool?
    public var scaleAttnByInverseLayerIdx: Bool?

    public init(layers: Int, heads: Int, width: Int, positions: Int, vocabularySize: Int) {
        (nLayer, nHead, nEmbd, nPositions, vocabSize) = (layers, heads, width, positions, vocabularySize)
    }

    /// GPT-2 small's shape (12 layers, width 768, 12 heads, vocabulary 50257) with `positions` positions.
    public static func gpt2Small(positions: Int = 1024) -> GPT2Config {
        GPT2Config(layers: 12, heads: 12, width: 768, positions: positions, vocabularySize: 50257)
    }

    var hiddenWidth: Int { nInner ?? 4 * nEmbd }
    var epsilon: Float { layerNormEpsilon ?? 1e-5 }
    var tied: Bool { tieWordEmbeddings ?? true }

    func geluApproximation(path: String) throws -> Tensor.GELUApproximation {
        switch activationFunction ?? "gelu_new" {
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": return .tanh
        case "gelu": return .exact
        case let other: throw ModelError.unsupported(path: path, "activation_function \"\(other)\"")
        }
    }
}
