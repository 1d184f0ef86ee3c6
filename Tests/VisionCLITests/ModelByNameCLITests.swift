// Models by name wherever a checkpoint is taken: aliases, the shipped model, and a
// published model downloaded on first use from a loopback server (progress on
// stderr, checksum verified, nothing kept on a mismatch), or refused with the
// file to put where when VISION_OFFLINE=1.

import Foundation
import VisionCheckpoint
import XCTest

final class ModelByNameCLITests: XCTestCase {
    var scratch: URL!
    let image = CLI.repoRoot.appendingPathComponent("Samples/bccd/JPEGImages/BloodImage_00007.jpg").path

    override func setUpWithError() throws { scratch = try CLI.temporaryDirectory("model-by-name") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    /// A Models folder holding the repository's definitions and shipped model, with the
    /// 320 definition (alias `fast`) pointing at `url` with `prefix`.
    func modelsFolder(url: URL, sha256Prefix prefix: String) throws -> URL {
        let fm = FileManager.default
        let folder = scratch.appendingPathComponent("models-\(UUID().uuidString.prefix(8))")
        try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        let repoModels = CLI.repoRoot.appendingPathComponent("Models")
        for name in try fm.contentsOfDirectory(atPath: repoModels.path) {
            try fm.createSymbolicLink(at: folder.appendingPathComponent(name), withDestinationURL: repoModels.appendingPathComponent(name))
        }
        let target = folder.appendingPathComponent("\(CLI.fixtureModelName).json")
        try fm.removeItem(at: target)
        let definition = CLI.fixtureModels.appendingPathComponent("\(CLI.fixtureModelName).json")
        var json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: definition)) as? [String: Any])
        json["url"] = url.absoluteString
        json["sha256Prefix"] = prefix
        try JSONSerialization.data(withJSONObject: json).write(to: target)
        return folder
    }

    func storeContents(_ home: URL) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: home.appendingPathComponent("checkpoints").path)) ?? []
    }

    /// The fixture checkpoint served at its checksum-named path, a private store, and
    /// the environment whose `fast` points at it.
    func servedFixture() throws -> (LocalHTTPServer, String, Data, URL, [String: String]) {
        let body = try Data(contentsOf: CLI.fixtureCheckpoint)
        let prefix = String(CLI.sha256Hex(body).prefix(8))
        let path = "/\(CLI.fixtureModelName)-\(prefix).safetensors"
        let server = try LocalHTTPServer(files: [path: body])
        let home = scratch.appendingPathComponent("home")
        return (server, path, body, home, CLI.environment(models: try modelsFolder(url: server.url(path), sha256Prefix: prefix), home: home))
    }

    func testFastIsDownloadedOnFirstUseThenUsedFromTheStore() throws {
        let (server, path, body, home, env) = try servedFixture()
        defer { server.stop() }

        let first = try CLI.run(["predict", image, "--checkpoint", "fast"], environment: env, scratch: scratch)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stderr.contains("downloading \(CLI.fixtureModelName)"), first.stderr)
        XCTAssertEqual(try CLI.records(first.stdout).map(\.file), [image])
        XCTAssertEqual(storeContents(home), [String(path.dropFirst())], "the store holds exactly the verified file")
        XCTAssertEqual(try Data(contentsOf: home.appendingPathComponent("checkpoints" + path)), body)
        XCTAssertEqual(server.requestCount, 1)

        // Second use: from the store, no request; the full name and the alias give the same answer.
        let second = try CLI.run(["predict", image, "--checkpoint", CLI.fixtureModelName, "--quiet"], environment: env, scratch: scratch)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertEqual(second.stdout, first.stdout)
        XCTAssertEqual(server.requestCount, 1, "the stored model was downloaded again")

    }

    func testChecksumMismatchKeepsNothingAndPredictsNothing() throws {
        let body = try Data(contentsOf: CLI.fixtureCheckpoint)
        let server = try LocalHTTPServer(files: ["/model-00000000.safetensors": body])
        defer { server.stop() }
        let home = scratch.appendingPathComponent("home")
        let env = CLI.environment(models: try modelsFolder(url: server.url("/model-00000000.safetensors"), sha256Prefix: "00000000"),
                                  home: home)
        let result = try CLI.run(["predict", image, "--checkpoint", "fast"], environment: env, scratch: scratch)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("checksum mismatch"), result.stderr)
        XCTAssertEqual(result.stdout, "")
        XCTAssertEqual(storeContents(home), [], "files left in the store")
    }

    func testOfflineSaysWhichFileToPutWhere() throws {
        var (server, path, _, home, env) = try servedFixture()
        defer { server.stop() }
        env["VISION_OFFLINE"] = "1"
        for arguments in [["predict", image, "--checkpoint", "fast"], ["checkpoint", "download", "fast"]] {
            let result = try CLI.run(arguments, environment: env, scratch: scratch)
            XCTAssertNotEqual(result.status, 0)
            XCTAssertTrue(result.stderr.contains("VISION_OFFLINE"), result.stderr)
            XCTAssertTrue(result.stderr.contains(server.url(path).absoluteString), "names the file: \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(home.appendingPathComponent("checkpoints" + path).path), "names the place: \(result.stderr)")
        }
        XCTAssertEqual(server.requestCount, 0, "the network was used offline")
        XCTAssertEqual(storeContents(home), [])
    }

    func testShippedModelByDefaultAndByName() throws {
        let env = CLI.environment(models: CLI.repoRoot.appendingPathComponent("Models"), home: scratch)
        let plain = try CLI.run(["predict", image], environment: env, scratch: scratch)
        XCTAssertEqual(plain.status, 0, plain.stderr)
        let notice = try XCTUnwrap(plain.stderr.split(separator: "\n").first { $0.contains("using the shipped model") }, plain.stderr)
        for word in ["'bccd'", "WBC", "RBC", "Platelets", "--checkpoint accurate"] { XCTAssertTrue(notice.contains(word), String(notice)) }
        let named = try CLI.run(["predict", image, "--checkpoint", "bccd"], environment: env, scratch: scratch)
        XCTAssertEqual(named.status, 0, named.stderr)
        XCTAssertEqual(named.stdout, plain.stdout)
        XCTAssertFalse(named.stderr.contains("using the shipped model"), "the notice is for the implicit default only")
        let quiet = try CLI.run(["predict", image, "--quiet"], environment: env, scratch: scratch)
        XCTAssertFalse(quiet.stderr.contains("using the shipped model"), quiet.stderr)
        // eval takes the name too (train's resolution is tested in TrainCLISafetyTests).
        let eval = try CLI.run(["eval", "--checkpoint", "bccd", "--dataset", CLI.repoRoot.appendingPathComponent("Samples/bccd").path],
                               environment: env, scratch: scratch)
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertTrue(eval.stdout.contains("AP50"), eval.stdout)
    }
}
