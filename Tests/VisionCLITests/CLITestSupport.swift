// Runs the built `vision` executable as a subprocess: where to find it, the
// committed fixtures, scratch folders, and a nested tree of test images.

import Crypto
import Foundation
import XCTest

enum CLI {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let fixtureModels = repoRoot.appendingPathComponent("Tests/Fixtures/model")
    /// The reduced-width MobileNetV3 checkpoint; its keys fit both MobileNet variants.
    static let fixtureCheckpoint = fixtureModels.appendingPathComponent("fasterrcnn_mobilenet_v3_large_fpn.safetensors")
    static let fixtureModelName = "fasterrcnn_mobilenet_v3_large_320_fpn"
    /// The model options every predict test passes.
    static let modelArguments = ["--checkpoint", fixtureCheckpoint.path, "--model", fixtureModelName]

    /// The `vision` executable SwiftPM built beside the test bundle (`.build/<config>/`).
    static let executable: URL? = {
        var directories: [URL] = []
        for bundle in Bundle.allBundles + [Bundle.main] {
            directories.append(bundle.bundleURL)
            directories.append(bundle.bundleURL.deletingLastPathComponent())
            if let exe = bundle.executableURL { directories.append(exe.deletingLastPathComponent()) }
        }
        directories.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        for config in ["release", "debug"] { directories.append(repoRoot.appendingPathComponent(".build/\(config)")) }
        return directories.map { $0.appendingPathComponent("vision") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init) }
    }

    /// The environment of every run: the fixture model definitions, a private
    /// store, and no proxy for the loopback server.
    static func environment(models: URL = fixtureModels, home: URL) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["VISION_MODELS"] = models.path
        env["VISION_HOME"] = home.path
        env["NO_PROXY"] = "127.0.0.1,localhost"
        env["no_proxy"] = "127.0.0.1,localhost"
        for key in ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"] { env[key] = nil }
        return env
    }

    /// Starts `vision arguments...` (with `shell`, `/bin/sh arguments...`); stdout and
    /// stderr go to files in `scratch`.
    static func start(_ arguments: [String], environment: [String: String], scratch: URL,
                      directory: URL? = nil, shell: Bool = false) throws -> (Process, stdout: URL, stderr: URL) {
        guard let vision = Self.executable else {
            throw XCTSkip("the vision executable was not found beside the test bundle; build it with `swift build`")
        }
        let executable = shell ? URL(fileURLWithPath: "/bin/sh") : vision
        let id = UUID().uuidString
        let out = scratch.appendingPathComponent("stdout-\(id).txt"), err = scratch.appendingPathComponent("stderr-\(id).txt")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        if let directory { process.currentDirectoryURL = directory }
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return (process, out, err)
    }

    @discardableResult
    static func run(_ arguments: [String], environment: [String: String], scratch: URL,
                    directory: URL? = nil) throws -> Result {
        let (process, out, err) = try start(arguments, environment: environment, scratch: scratch, directory: directory)
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    static func temporaryDirectory(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vision-cli-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Lower-case hex SHA-256 of `data` (swift-crypto), as the store's checksums are written.
    static func sha256Hex(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }

    /// Parses JSON Lines output: "file" to the whole object.
    static func records(_ text: String) throws -> [(file: String, object: [String: Any])] {
        try text.split(separator: "\n").map { line in
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not an object: \(line)")
            return (try XCTUnwrap(object["file"] as? String, "no file in \(line)"), object)
        }
    }
}

/// A nested folder of images (small copies of committed fixtures) and bad files.
struct ImageTree {
    let root: URL
    /// The "file" value each image must get when `root.path` is the argument.
    var images: [String] = []
    /// Of those, the ones that cannot be decoded.
    var corrupt: [String] = []
    var nonImages = 0

    /// `count` decodable images spread over nested folders, plus a corrupt JPEG,
    /// a zero-byte .png, a .txt file and an upper-case .JPG.
    static func make(in parent: URL, count: Int) throws -> ImageTree {
        let fm = FileManager.default
        let root = parent.appendingPathComponent("photos")
        let decodeDir = CLI.repoRoot.appendingPathComponent("Tests/Fixtures/images/decode")
        let sources = try fm.contentsOfDirectory(atPath: decodeDir.path)
            .filter { ["jpg", "png"].contains(($0 as NSString).pathExtension) && !$0.hasPrefix("gray16") }
            .sorted().map { decodeDir.appendingPathComponent($0) }
            + [CLI.fixtureModels.appendingPathComponent("pets.png")]
        var tree = ImageTree(root: root)
        let folders = ["", "a", "a/b", "a/b/c", "d", "d/e"]
        for i in 0..<count {
            let source = sources[i % sources.count]
            let folder = folders[i % folders.count]
            let relative = (folder.isEmpty ? "" : folder + "/") + String(format: "img%03d.", i) + source.pathExtension
            try copy(source, to: root.appendingPathComponent(relative))
            tree.images.append(root.path + "/" + relative)
        }
        try copy(decodeDir.appendingPathComponent("baseline.jpg"), to: root.appendingPathComponent("d/UPPER.JPG"))
        tree.images.append(root.path + "/d/UPPER.JPG")
        let badDir = CLI.repoRoot.appendingPathComponent("Tests/Fixtures/images/bad")
        try copy(badDir.appendingPathComponent("truncated.jpg"), to: root.appendingPathComponent("a/b/corrupt.jpg"))
        try Data().write(to: root.appendingPathComponent("d/empty.png"))
        try Data("not an image\n".utf8).write(to: root.appendingPathComponent("a/notes.txt"))
        tree.corrupt = [root.path + "/a/b/corrupt.jpg", root.path + "/d/empty.png"]
        tree.images += tree.corrupt
        tree.nonImages = 1
        return tree
    }

    private static func copy(_ source: URL, to destination: URL) throws {
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: source, to: destination)
    }
}
