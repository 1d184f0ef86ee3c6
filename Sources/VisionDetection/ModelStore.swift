// Where checkpoints live: the published torchvision weights described by
// `Models/<name>.json` (url, sha256Prefix), downloaded into the store
// `$VISION_HOME/checkpoints/` (default `~/.cache/vision`), and the models shipped
// in `Models/*.safetensors` (`Models/default.safetensors` is predict's default).

import Foundation

public enum ModelStore {
    /// `$VISION_HOME`, else `~/.cache/vision`.
    public static var home: URL {
        if let env = ProcessInfo.processInfo.environment["VISION_HOME"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/vision")
    }

    /// The folder downloaded checkpoints are kept in.
    public static var checkpointsDirectory: URL { home.appendingPathComponent("checkpoints") }

    /// The checkpoint `vision predict` uses when given none.
    public static func defaultCheckpoint(in modelDirectory: URL = ModelDirectory.url) -> URL {
        modelDirectory.appendingPathComponent("default.safetensors")
    }

    /// A model definition that names published weights.
    public struct Published: Sendable {
        public let name: String
        public let url: URL
        /// The first hex digits of the file's SHA-256 (torchvision: 8, also in the file name).
        public let sha256Prefix: String
        /// Where `vision checkpoint download` puts it: the store plus the URL's file name.
        public var storePath: URL { ModelStore.checkpointsDirectory.appendingPathComponent(url.lastPathComponent) }
        public var isDownloaded: Bool { FileManager.default.fileExists(atPath: storePath.path) }
    }

    /// Every `<name>.json` in the model directory with a `url`, sorted by name.
    /// Files that do not decode are skipped (they are not downloadable models).
    public static func published(in modelDirectory: URL = ModelDirectory.url) -> [Published] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: modelDirectory.path)) ?? []
        return files.filter { $0.hasSuffix(".json") }.sorted().compactMap { file in
            guard let config = try? ModelConfig.load(file: modelDirectory.appendingPathComponent(file)),
                  let link = config.url, let url = URL(string: link) else { return nil }
            return Published(name: config.name, url: url, sha256Prefix: (config.sha256Prefix ?? "").lowercased())
        }
    }

    public static func published(named name: String, in modelDirectory: URL = ModelDirectory.url) -> Published? {
        published(in: modelDirectory).first { $0.name == name }
    }

    /// `*.safetensors` shipped in the model directory, sorted.
    public static func shipped(in modelDirectory: URL = ModelDirectory.url) -> [URL] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: modelDirectory.path)) ?? []
        return files.filter { $0.hasSuffix(".safetensors") }.sorted().map { modelDirectory.appendingPathComponent($0) }
    }
}
