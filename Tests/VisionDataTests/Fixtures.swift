import Foundation

/// Paths of committed fixtures and of the shared datasets beside the clone.
enum Fixtures {
    /// The folder holding Tests/Fixtures, found by walking up from this file.
    static let repoRoot: URL = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Tests/Fixtures").path) { return url }
            url = url.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }()

    static let root = repoRoot.appendingPathComponent("Tests/Fixtures")
    static func dataset(_ name: String) -> URL { root.appendingPathComponent("datasets/\(name)") }
    static func eval(_ name: String) -> URL { root.appendingPathComponent("eval/\(name)") }

    /// ../shared/datasets/NAME beside the clone (present in CI), or nil.
    static func shared(_ name: String) -> URL? {
        let candidates = [repoRoot.deletingLastPathComponent().appendingPathComponent("shared/datasets/\(name)"),
                          URL(fileURLWithPath: "/work/shared/datasets/\(name)")]
        return candidates.first { FileManager.default.fileExists(atPath: $0.path) }
    }
}
