/// Why a tokenizer could not be loaded or a chat template could not be rendered.
///
/// Loading errors name the file they come from, e.g.
/// `/models/x/tokenizer.json: unsupported pre_tokenizer type "BertPreTokenizer"`.
public struct TokenizerError: Error, CustomStringConvertible, Sendable {
    /// The file the problem was found in, when there is one.
    public let file: String?
    public let message: String

    public init(_ message: String, file: String? = nil) {
        self.message = message
        self.file = file
    }

    public var description: String { file.map { "\($0): \(message)" } ?? message }

    /// The same error attributed to `file` (stage factories do not know which file they read).
    func located(in file: String) -> TokenizerError {
        self.file == nil ? TokenizerError(message, file: file) : self
    }

    static func unsupported(_ stage: String, _ type: String?) -> TokenizerError {
        TokenizerError(type.map { "unsupported \(stage) type \"\($0)\"" } ?? "\(stage) without a \"type\"")
    }
}
