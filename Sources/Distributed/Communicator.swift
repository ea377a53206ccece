import Foundation

/// The processes of one data-parallel job and the collective operations they train with. Every rank calls the same
/// operations in the same order; a rank that fails ends the job (`abort`) rather than leave the others waiting.
public protocol Communicator: AnyObject {
    /// This process's rank, 0 ..< size; rank 0 writes checkpoints, logs and the final model.
    var rank: Int { get }
    var size: Int { get }
    /// Replaces `values` with their sum over every rank.
    func sum(_ values: UnsafeMutableBufferPointer<Float>) throws
    func sum(_ values: inout [Double]) throws
    /// Returns once every rank has called it.
    func barrier() throws
    /// Ends every rank of the job with `code`.
    func abort(code: Int32) -> Never
    /// Ends this rank's part in the job after its last collective operation.
    func finish()
}

extension Communicator {
    public var isLeader: Bool { rank == 0 }
}

/// A job of one process: every collective operation is the identity.
public final class SingleProcess: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func sum(_ values: UnsafeMutableBufferPointer<Float>) throws {}
    public func sum(_ values: inout [Double]) throws {}
    public func barrier() throws {}
    public func abort(code: Int32) -> Never { exit(code) }
    public func finish() {}
}

/// A collective operation that failed (MPI returned an error status).
public struct CommunicationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
