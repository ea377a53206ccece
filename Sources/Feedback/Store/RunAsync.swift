import Foundation
import Synchronization

/// Runs async library calls from a synchronous command and waits for their result (the root command is
/// synchronous).
public func runAsync<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
    let outcome = AsyncOutcome<T>()
    let finished = DispatchSemaphore(value: 0)
    Task {
        let result: Result<T, any Error>
        do {
            result = .success(try await work())
        } catch {
            result = .failure(error)
        }
        outcome.result.withLock { $0 = result }
        finished.signal()
    }
    finished.wait()
    return try outcome.result.withLock { $0! }.get()
}

private final class AsyncOutcome<T: Sendable>: Sendable {
    let result = Mutex<Result<T, any Error>?>(nil)
}
