import CMPI
import Foundation

/// A job launched by `mpirun` (Open MPI) or SLURM's `srun`, over Open MPI loaded at run time.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int

    /// Loads Open MPI and joins the job; call once per process.
    public init() throws {
        var error = [CChar](repeating: 0, count: 512)
        guard rlhf_mpi_start(&error, error.count) == 0 else {
            throw CommunicationError(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        (rank, size) = (Int(rlhf_mpi_rank()), Int(rlhf_mpi_size()))
    }

    public func sum(_ values: UnsafeMutableBufferPointer<Float>) throws {
        guard let base = values.baseAddress else { return }
        try check(rlhf_mpi_sum_floats(base, values.count), "MPI_Allreduce")
    }

    public func sum(_ values: inout [Double]) throws {
        let status = values.withUnsafeMutableBufferPointer { rlhf_mpi_sum_doubles($0.baseAddress!, $0.count) }
        try check(status, "MPI_Allreduce")
    }

    public func barrier() throws { try check(rlhf_mpi_barrier(), "MPI_Barrier") }

    public func abort(code: Int32) -> Never {
        rlhf_mpi_abort(code)
        exit(code)
    }

    public func finish() { _ = rlhf_mpi_finish() }

    private func check(_ status: Int32, _ operation: String) throws {
        guard status == 0 else { throw CommunicationError("rank \(rank): \(operation) failed (MPI status \(status))") }
    }
}

/// How this process was started: alone, or as one rank of a job.
public enum Launch {
    /// The ranks of the job the environment describes: Open MPI's `mpirun` sets OMPI_COMM_WORLD_SIZE, SLURM's `srun`
    /// SLURM_STEP_NUM_TASKS. Nil for a process started on its own.
    public static func ranks(in environment: [String: String] = ProcessInfo.processInfo.environment) -> Int? {
        for key in ["OMPI_COMM_WORLD_SIZE", "SLURM_STEP_NUM_TASKS"] {
            if let value = environment[key].flatMap(Int.init), value > 1 { return value }
        }
        return nil
    }

    /// The communicator of this process: MPI's when a launcher started several ranks, otherwise a single process.
    public static func communicator() throws -> any Communicator {
        guard let ranks = ranks() else { return SingleProcess() }
        do {
            return try MPICommunicator()
        } catch {
            throw CommunicationError("started as one of \(ranks) ranks, but MPI did not start: \(error)")
        }
    }
}
