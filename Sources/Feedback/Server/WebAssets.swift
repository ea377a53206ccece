import Foundation

/// The pages and their scripts and styles (Sources/Feedback/Web), read once at start-up.
struct WebAssets: Sendable {
    struct File: Sendable {
        let contentType: String
        let bytes: Data
    }

    /// Files served under /static/ by name.
    let staticFiles: [String: File]
    private let labelTemplate: String
    let adminPage: String
    /// The end users' chat (personalization); its API answers only on a server started with a model.
    let chatPage: String

    static func load() throws -> WebAssets {
        func read(_ name: String) throws -> Data {
            guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Web"),
                  let data = FileManager.default.contents(atPath: url.path) else {
                throw FeedbackError.notFound("web asset \(name) is missing from the Feedback resources")
            }
            return data
        }
        let types = ["js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"]
        var files: [String: File] = [:]
        for name in ["label.js", "admin.js", "chat.js", "common.js", "style.css"] {
            files[name] = File(contentType: types[String(name.split(separator: ".").last!)]!, bytes: try read(name))
        }
        return WebAssets(staticFiles: files, labelTemplate: String(decoding: try read("label.html"), as: UTF8.self),
                         adminPage: String(decoding: try read("admin.html"), as: UTF8.self),
                         chatPage: String(decoding: try read("chat.html"), as: UTF8.self))
    }

    /// The labeler page for one project. Only the integer id is put into the markup; everything else (the
    /// guidelines, prompts, completions) is fetched with the labeler's token and set as text by the script.
    func labelPage(project: Int64) -> String {
        labelTemplate.replacingOccurrences(of: "{{project}}", with: String(project))
    }
}
