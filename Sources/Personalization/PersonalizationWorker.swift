import Feedback
import Foundation
import Synchronization

/// Trains users' adapters in the background. Its queue is the store: users with `update_every` feedback events newer
/// than their newest version, longest waiting first, so nothing is lost when the server dies and a restarted worker
/// carries on where it was. It runs on its own thread and sleeps between steps to stay within its CPU share.
final class PersonalizationWorker: @unchecked Sendable {
    private let store: FeedbackStore
    private let trainer: PersonalTrainer
    private let files: AdapterFiles
    private let engine: ReplyEngine
    private let config: PersonalizationConfig
    private let condition = NSCondition()
    private var wakeUps = 0
    private let state = Mutex(WorkerState())
    private let log: @Sendable (String) -> Void

    init(store: FeedbackStore, trainer: PersonalTrainer, files: AdapterFiles, engine: ReplyEngine, config: PersonalizationConfig,
         log: @escaping @Sendable (String) -> Void) {
        (self.store, self.trainer, self.files, self.engine, self.config, self.log) = (store, trainer, files, engine, config, log)
    }

    func start() {
        files.removePartialWrites()
        let thread = Thread { [unowned self] in self.work() }
        thread.name = "rlhf-personalization"
        thread.start()
    }

    /// A user gave feedback: look for work now rather than at the next poll.
    func notify() {
        condition.lock()
        wakeUps += 1
        condition.signal()
        condition.unlock()
    }

    /// The user whose adapter is being trained, if any.
    var trainingUser: Int64? { state.withLock { $0.training } }

    /// A deleted user's training stops at its next step.
    func cancel(user: Int64) { state.withLock { $0.cancelled.insert(user) } }

    var updates: [UpdateRecord] { state.withLock { $0.updates } }

    private func work() {
        /// Users whose last update failed, and until when they wait, so that one failing user does not stall the rest.
        var failed: [Int64: Date] = [:]
        while true {
            let every = config.updateEvery
            let store = store
            let now = Date()
            let due = (try? runAsync { try await store.usersAwaitingUpdate(every: every) }) ?? []
            if let user = due.first(where: { failed[$0].map { $0 < now } ?? true }) {
                do {
                    try update(user)
                    failed[user] = nil
                } catch {
                    failed[user] = now.addingTimeInterval(60)
                    log("personalization: user \(user)'s update failed (\(error)); trying again in a minute")
                }
                continue
            }
            condition.lock()
            if wakeUps == 0 { _ = condition.wait(until: Date().addingTimeInterval(2)) }
            wakeUps = 0
            condition.unlock()
        }
    }

    private func update(_ user: Int64) throws {
        let store = store
        let feedback = try runAsync { try await store.personalFeedback(user: user) }
        let version = (try runAsync { try await store.adapterVersions(user: user) }.map(\.version).max() ?? 0) + 1
        // A cancelled (deleted) user stays cancelled: ids are never reused.
        state.withLock { $0.training = user }
        defer { state.withLock { $0.training = nil } }
        let started = Date()
        let share = config.workerCPUShare
        let completed = try trainer.train(feedback) { _, _, seconds in
            // Idle for as long as the step took beyond the worker's share of the time.
            if share < 1 { Thread.sleep(forTimeInterval: seconds * (1 - share) / share) }
            return !state.withLock { $0.cancelled.contains(user) }
        }
        guard completed, !state.withLock({ $0.cancelled.contains(user) }) else { return }
        try files.write(trainer.adapters, user: user, version: version)
        let seconds = Date().timeIntervalSince(started)
        do {
            try runAsync { try await store.recordAdapterVersion(user: user, version: version, lastEventID: feedback.lastEventID,
                                                                 events: feedback.events, seconds: seconds) }
        } catch FeedbackError.notFound {
            try? files.removeUser(user)  // deleted while training
            return
        }
        engine.evict(user: user)
        state.withLock { $0.updates.append(UpdateRecord(user: user, version: version, events: feedback.events, seconds: seconds)) }
        log("personalization: user \(user) adapter v\(version) from \(feedback.events) events in \(String(format: "%.1f", seconds)) s")
    }
}

/// One finished update, for the server's statistics.
struct UpdateRecord: Codable, Sendable {
    let user: Int64
    let version: Int
    let events: Int
    let seconds: Double
}

private struct WorkerState {
    var training: Int64?
    var cancelled: Set<Int64> = []
    var updates: [UpdateRecord] = []
}
