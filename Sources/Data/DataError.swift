/// A problem in an input file, located as `file:line: what is wrong`.
public struct DataError: Error, CustomStringConvertible, Sendable, Equatable {
    public let file: String
    /// 1-based line number; nil for problems with the file as a whole.
    public let line: Int?
    public let message: String

    public init(file: String, line: Int?, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { line.map { "\(file):\($0): \(message)" } ?? "\(file): \(message)" }
}
