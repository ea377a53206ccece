import Feedback
import Foundation

/// A fresh labeling database in a temporary directory, with a known admin token and helpers that seed it
/// through the store's public API.
struct TestDatabase {
    static let adminToken = "test-admin-token-0123456789abcdef0123456789"
    let path: String
    let store: FeedbackStore

    init(assignmentTimeout: Double = FeedbackStore.defaultAssignmentTimeout) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rlhf-feedback-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("feedback.sqlite").path
        store = try FeedbackStore(path: path, assignmentTimeout: assignmentTimeout)
        _ = try await store.prepareAdminToken(environmentToken: Self.adminToken)
    }

    /// A project of `items` items, each with `completions` completions "item I, completion C".
    func project(items: Int, completions: Int = 3, labelersPerItem: Int, mode: ProjectMode = .ranking) async throws -> Int64 {
        let project = try await store.createProject(ProjectSettings(name: "test", guidelines: "Rank by helpfulness.",
                                                                    labelersPerItem: labelersPerItem, mode: mode))
        let newItems = (1...items).map { item in
            NewItem(externalID: "item-\(item)", prompt: "prompt \(item)",
                    completions: (1...completions).map { NewCompletion(text: "item \(item), completion \($0)") })
        }
        _ = try await store.addItems(newItems, to: project)
        return project
    }

    /// New labelers, each a member of the project.
    func labelers(_ count: Int, in project: Int64) async throws -> [LabelerCredentials] {
        var labelers: [LabelerCredentials] = []
        for index in 0..<count {
            let labeler = try await store.createLabeler(name: "labeler \(index + 1)")
            try await store.addMember(labeler: labeler.id, project: project)
            labelers.append(labeler)
        }
        return labelers
    }
}
