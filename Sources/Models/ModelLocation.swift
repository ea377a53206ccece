import Foundation
import Hub

extension ModelDirectory {
    /// The directory a model argument names: an existing path as it is; else a Hub id (`owner/name[@revision]`),
    /// from the Hugging Face cache, downloaded into it when missing (`HF_HUB_OFFLINE=1` forbids that); else the path,
    /// for the loader to report as missing. (`./owner/name` is always a path.)
    public static func locate(_ argument: String, hub: HubStore = HubStore(progress: HubProgressPrinter().handler)) throws -> URL {
        let path = URL(fileURLWithPath: argument)
        guard !FileManager.default.fileExists(atPath: path.path), let id = HubModelID(parsing: argument) else { return path }
        do { return try hub.model(id) } catch let error as HubError {
            throw ModelError.notFound("\(argument): no such directory; as a Hub id: \(error)")
        }
    }
}
