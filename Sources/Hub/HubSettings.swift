import Foundation

/// Where models are cached and fetched from, read from the same environment variables as huggingface_hub's, so
/// both tools share one cache and one login.
public struct HubSettings: Sendable {
    /// The cache root (`HF_HUB_CACHE` or the older `HUGGINGFACE_HUB_CACHE`, else `HF_HOME/hub`, else
    /// `$XDG_CACHE_HOME/huggingface/hub` or `~/.cache/huggingface/hub`).
    public var cache: URL
    /// The Hub's address (`HF_ENDPOINT`, else the public Hub).
    public var endpoint: URL
    /// Sent to the endpoint's host for gated and private models (`HF_TOKEN`, else the token file of `hf auth login`).
    public var token: String?
    /// Never touch the network (`HF_HUB_OFFLINE=1`, or `TRANSFORMERS_OFFLINE=1` when that is unset).
    public var offline: Bool

    public init(cache: URL, endpoint: URL = URL(string: "https://huggingface.co")!, token: String? = nil, offline: Bool = false) {
        (self.cache, self.endpoint, self.token, self.offline) = (cache, endpoint, token, offline)
    }

    /// The settings this process's environment gives.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> HubSettings {
        let value = { (name: String) in environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let home = URL(fileURLWithPath: value("HOME") ?? NSHomeDirectory())
        // huggingface_hub expands a leading ~ in its paths.
        let path = { (name: String) in
            value(name).map { URL(fileURLWithPath: $0 == "~" || $0.hasPrefix("~/") ? home.path + $0.dropFirst() : $0) }
        }
        let hfHome = path("HF_HOME")
            ?? (path("XDG_CACHE_HOME") ?? home.appendingPathComponent(".cache")).appendingPathComponent("huggingface")
        let cache = path("HF_HUB_CACHE") ?? path("HUGGINGFACE_HUB_CACHE") ?? hfHome.appendingPathComponent("hub")
        let endpoint = value("HF_ENDPOINT").map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }.flatMap(URL.init(string:))
            ?? URL(string: "https://huggingface.co")!
        let tokenFile = path("HF_TOKEN_PATH") ?? hfHome.appendingPathComponent("token")
        let token = (value("HF_TOKEN") ?? value("HUGGING_FACE_HUB_TOKEN")
            ?? (try? String(contentsOf: tokenFile, encoding: .utf8)))?.trimmingCharacters(in: .whitespacesAndNewlines)
        let offline = ["1", "on", "yes", "true"].contains((value("HF_HUB_OFFLINE") ?? value("TRANSFORMERS_OFFLINE"))?.lowercased() ?? "")
        return HubSettings(cache: cache, endpoint: endpoint, token: token?.isEmpty == false ? token : nil, offline: offline)
    }
}
