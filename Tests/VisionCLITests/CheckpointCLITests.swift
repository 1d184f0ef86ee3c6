// `vision checkpoint download|convert|info|list` end to end, downloads served by
// a loopback HTTP server; and lossless
// conversion of vision's own models (class names, config, F16) through .pth.

import Foundation
import VisionCheckpoint
import VisionDetection
import XCTest

final class CheckpointCLITests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws { scratch = try CLI.temporaryDirectory("checkpoint") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    /// A Models folder whose 320 definition points at the loopback server.
    func modelsFolder(url: URL, sha256Prefix: String) throws -> URL {
        let folder = scratch.appendingPathComponent("models-\(sha256Prefix)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let source = CLI.fixtureModels.appendingPathComponent("\(CLI.fixtureModelName).json")
        var json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: source)) as? [String: Any])
        json["url"] = url.absoluteString
        json["sha256Prefix"] = sha256Prefix
        try JSONSerialization.data(withJSONObject: json).write(to: folder.appendingPathComponent("\(CLI.fixtureModelName).json"))
        return folder
    }

    func testDownloadVerifiesChecksumAndIsUsableByName() throws {
        let body = try Data(contentsOf: CLI.fixtureCheckpoint)
        let prefix = String(CLI.sha256Hex(body).prefix(8))
        let fileName = "/\(CLI.fixtureModelName)-\(prefix).pth"
        let server = try LocalHTTPServer(files: [fileName: body])
        defer { server.stop() }
        let home = scratch.appendingPathComponent("home")
        let env = CLI.environment(models: try modelsFolder(url: server.url(fileName), sha256Prefix: prefix), home: home)

        let listed = try CLI.run(["checkpoint", "list"], environment: env, scratch: scratch)
        XCTAssertEqual(listed.status, 0, listed.stderr)
        XCTAssertTrue(listed.stdout.contains(CLI.fixtureModelName) && listed.stdout.contains(prefix), listed.stdout)

        let result = try CLI.run(["checkpoint", "download", CLI.fixtureModelName], environment: env, scratch: scratch)
        XCTAssertEqual(result.status, 0, result.stderr)
        let stored = home.appendingPathComponent("checkpoints\(fileName)")
        XCTAssertEqual(try Data(contentsOf: stored), body, "stored bytes differ from the served ones")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: stored.deletingLastPathComponent().path)
        XCTAssertEqual(leftovers, [stored.lastPathComponent], "temporary files left behind")

        let listedAfter = try CLI.run(["checkpoint", "list"], environment: env, scratch: scratch)
        XCTAssertTrue(listedAfter.stdout.contains("downloaded"), listedAfter.stdout)

        // The name now resolves to the store, and implies the 320 variant.
        let image = CLI.fixtureModels.appendingPathComponent("pets.png").path
        let predicted = try CLI.run(["predict", image, "--checkpoint", CLI.fixtureModelName, "--quiet"], environment: env, scratch: scratch)
        XCTAssertEqual(predicted.status, 0, predicted.stderr)
        XCTAssertEqual(try CLI.records(predicted.stdout).map(\.file), [image])
    }

    func testDownloadChecksumMismatchLeavesNothing() throws {
        let body = try Data(contentsOf: CLI.fixtureCheckpoint)
        let server = try LocalHTTPServer(files: ["/model-00000000.pth": body])
        defer { server.stop() }
        let home = scratch.appendingPathComponent("home")
        let env = CLI.environment(models: try modelsFolder(url: server.url("/model-00000000.pth"), sha256Prefix: "00000000"), home: home)
        let result = try CLI.run(["checkpoint", "download", CLI.fixtureModelName, "--quiet"], environment: env, scratch: scratch)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("checksum mismatch"), result.stderr)
        let store = home.appendingPathComponent("checkpoints").path
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: store)) ?? [], [], "files left in the store")

        // A missing file (HTTP 404) fails the same way, leaving nothing.
        let missing = CLI.environment(models: try modelsFolder(url: server.url("/gone.pth"), sha256Prefix: "12345678"), home: home)
        let notFound = try CLI.run(["checkpoint", "download", CLI.fixtureModelName], environment: missing, scratch: scratch)
        XCTAssertNotEqual(notFound.status, 0)
        XCTAssertTrue(notFound.stderr.contains("HTTP 404"), notFound.stderr)
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: store)) ?? [], [])

        let unknown = try CLI.run(["checkpoint", "download", "yolo"], environment: env, scratch: scratch)
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("unknown model 'yolo'"), unknown.stderr)
    }

    func testConvertRoundTripKeepsEveryTensor() throws {
        let env = CLI.environment(home: scratch)
        let pth = scratch.appendingPathComponent("model.pth"), back = scratch.appendingPathComponent("back.safetensors")
        for (input, output) in [(CLI.fixtureCheckpoint, pth), (pth, back)] {
            let result = try CLI.run(["checkpoint", "convert", input.path, output.path], environment: env, scratch: scratch)
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        let (original, _) = try loadStateDict(from: CLI.fixtureCheckpoint)
        let (viaPth, pthFormat) = try loadStateDict(from: pth)
        let (roundTrip, format) = try loadStateDict(from: back)
        XCTAssertEqual(pthFormat, .pthZip)
        XCTAssertEqual(format, .safetensors)
        XCTAssertEqual(Set(roundTrip.keys), Set(original.keys))
        XCTAssertEqual(Set(viaPth.keys), Set(original.keys))
        var maxDiff: Float = 0
        for key in original.keys {
            let a = original[key]!, b = try XCTUnwrap(roundTrip[key])
            XCTAssertEqual(a.shape, b.shape, key)
            for i in 0..<a.count { maxDiff = max(maxDiff, abs(a[flat: i] - b[flat: i])) }
        }
        print("convert round trip: \(original.count) tensors, max difference \(maxDiff)")
        XCTAssertEqual(maxDiff, 0)

        let bad = try CLI.run(["checkpoint", "convert", CLI.fixtureCheckpoint.path, scratch.appendingPathComponent("x.bin").path],
                              environment: env, scratch: scratch)
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("Error:"), bad.stderr)

        // An existing file is never replaced without --overwrite; the input never.
        let mine = scratch.appendingPathComponent("mine.pth")
        try Data("a user's file".utf8).write(to: mine)
        let refused = try CLI.run(["checkpoint", "convert", CLI.fixtureCheckpoint.path, mine.path], environment: env, scratch: scratch)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("exists; refusing to overwrite it"), refused.stderr)
        XCTAssertEqual(try Data(contentsOf: mine), Data("a user's file".utf8))
        let forced = try CLI.run(["checkpoint", "convert", "--overwrite", CLI.fixtureCheckpoint.path, mine.path],
                                 environment: env, scratch: scratch)
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertEqual(try loadStateDict(from: mine).0.count, original.count)
        let link = scratch.appendingPathComponent("link.pth")
        try FileManager.default.linkItem(at: pth, to: link)
        let onInput = try CLI.run(["checkpoint", "convert", "--overwrite", pth.path, link.path], environment: env, scratch: scratch)
        XCTAssertTrue(onInput.stderr.contains("would overwrite the input"), onInput.stderr)
    }

    /// The shipped BCCD model (F16, classes and config in its metadata).
    let shippedModel = CLI.repoRoot.appendingPathComponent("Models/default.safetensors")
    let bloodImage = CLI.repoRoot.appendingPathComponent("Samples/bccd/JPEGImages/BloodImage_00007.jpg")
    var shippedEnvironment: [String: String] {
        CLI.environment(models: CLI.repoRoot.appendingPathComponent("Models"), home: scratch)
    }

    func convert(_ input: URL, _ output: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try CLI.run(["checkpoint", "convert", input.path, output.path], environment: shippedEnvironment, scratch: scratch)
        XCTAssertEqual(result.status, 0, result.stderr, file: file, line: line)
        XCTAssertFalse(result.stderr.contains("dropped"), result.stderr, file: file, line: line)
    }

    /// The JSON lines `vision predict` prints for the blood image with `checkpoint`.
    func predict(_ checkpoint: URL, _ extra: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let result = try CLI.run(["predict", bloodImage.path, "--checkpoint", checkpoint.path, "--quiet"] + extra,
                                 environment: shippedEnvironment, scratch: scratch)
        XCTAssertEqual(result.status, 0, result.stderr, file: file, line: line)
        return result.stdout
    }

    func testShippedModelThroughPthAndBackIsByteIdentical() throws {
        let pth = scratch.appendingPathComponent("default.pth"), back = scratch.appendingPathComponent("back.safetensors")
        try convert(shippedModel, pth)
        try convert(pth, back)
        let (original, _) = try loadStateDict(from: shippedModel)
        let (viaPth, format) = try loadStateDict(from: pth)
        XCTAssertEqual(format, .pthZip)
        XCTAssertEqual(viaPth.metadata, original.metadata, "class names and config travel in the .pth")
        XCTAssertEqual(Set(viaPth.keys.map { viaPth.sourceDTypes[$0] }), [.float16], "F16 stays F16 in the .pth")
        // Whole-file identity: same header (metadata, dtypes, offsets) and every tensor bit-exact.
        XCTAssertEqual(try Data(contentsOf: back), try Data(contentsOf: shippedModel))

        let info = try CLI.run(["checkpoint", "info", pth.path], environment: shippedEnvironment, scratch: scratch)
        XCTAssertEqual(info.status, 0, info.stderr)
        for expected in ["format:        pthZip", "architecture:  fasterrcnn_mobilenet_v2_fpn (from its metadata)",
                         "classes:       4 including background: Platelets, RBC, WBC", "metadata:      vision.classes, vision.config"] {
            XCTAssertTrue(info.stdout.contains(expected), "missing '\(expected)' in:\n\(info.stdout)")
        }
    }

    func testSetChangesInferenceSettingsOnly() throws {
        let tuned = scratch.appendingPathComponent("tuned.safetensors")
        let result = try CLI.run(["checkpoint", "convert", shippedModel.path, tuned.path, "--set", "boxNMSThresh=0.6",
                                  "--set", "rpnPostNMSTopNTest=400", "--set", "minSize=704", "--set", "maxSize=1173"],
                                 environment: shippedEnvironment, scratch: scratch)
        XCTAssertEqual(result.status, 0, result.stderr)
        let (original, _) = try loadStateDict(from: shippedModel)
        let (changed, _) = try loadStateDict(from: tuned)
        func config(_ state: StateDict) throws -> ModelConfig {
            try JSONDecoder().decode(ModelConfig.self, from: Data(try XCTUnwrap(state.metadata[Detector.configMetadataKey]).utf8))
        }
        var expected = try config(original)
        expected.boxNMSThresh = 0.6
        expected.rpnPostNMSTopNTest = 400
        expected.minSize = 704
        expected.maxSize = 1173
        XCTAssertEqual(try config(changed), expected, "the four settings change, nothing else")
        XCTAssertEqual(changed.metadata["vision.classes"], original.metadata["vision.classes"])
        for key in original.keys { XCTAssertEqual(changed[key]?.values, original[key]?.values, key) }

        // Refused, naming the problem, nothing written.
        let refused = scratch.appendingPathComponent("refused.safetensors")
        for (arguments, message) in [
            (["--set", "fpnChannels=64"], "expected KEY=VALUE with KEY one of"),
            (["--set", "boxNMSThresh=1.5"], "boxNMSThresh must be a number from 0 to 1"),
            (["--set", "minSize=0"], "minSize must be a positive integer"),
            (["--set", "maxSize=500"], "maxSize 500 is smaller than minSize 640"),
        ] {
            let r = try CLI.run(["checkpoint", "convert", shippedModel.path, refused.path] + arguments,
                                environment: shippedEnvironment, scratch: scratch)
            XCTAssertNotEqual(r.status, 0, "\(arguments)")
            XCTAssertTrue(r.stderr.contains(message), "\(arguments): \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: refused.path), "\(arguments)")
        }
        // A torchvision checkpoint has no config to change.
        let r = try CLI.run(["checkpoint", "convert", CLI.fixtureCheckpoint.path, refused.path, "--set", "boxScoreThresh=0.01"],
                            environment: CLI.environment(home: scratch), scratch: scratch)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("carries no model config in its metadata"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: refused.path))
    }

    func testPredictFromConvertedPthKeepsClassNames() throws {
        let pth = scratch.appendingPathComponent("default.pth")
        try convert(shippedModel, pth)
        let fromSafetensors = try predict(shippedModel, ["-k", "WBC"])
        let fromPth = try predict(pth, ["-k", "WBC"])
        XCTAssertEqual(fromPth, fromSafetensors)
        let objects = try XCTUnwrap(try CLI.records(fromPth).first?.object["objects"] as? [[String: Any]])
        XCTAssertEqual(objects.compactMap { $0["label"] as? String }, ["WBC"])
    }

    func testNonDefaultMinSizeGivesTheSameDetectionsFromPth() throws {
        // The shipped model as if trained with --min-size 320 --max-size 533 (it was trained at 640/1067).
        var (state, _) = try loadStateDict(from: shippedModel)
        var config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(state.metadata[Detector.configMetadataKey]!.utf8)) as? [String: Any])
        XCTAssertEqual(config["minSize"] as? Int, 640)
        config["minSize"] = 320
        config["maxSize"] = 533
        state.metadata[Detector.configMetadataKey] = String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)
        let small = scratch.appendingPathComponent("min320.safetensors"), pth = scratch.appendingPathComponent("min320.pth")
        try saveSafetensors(state, to: small, metadata: state.metadata, storage: .float16)
        try convert(small, pth)

        // Boxes, scores and class ids (the names have their own test).
        func detections(_ checkpoint: URL) throws -> [String] {
            let objects = try XCTUnwrap(try CLI.records(try predict(checkpoint, ["--min-prob", "0.3"])).first?.object["objects"] as? [[String: Any]])
            return objects.map { "\($0["label_id"] ?? "-") \($0["prob"] ?? "-") \($0["bbox"] ?? "-")" }
        }
        let fromSafetensors = try detections(small)
        XCTAssertGreaterThan(fromSafetensors.count, 5)
        XCTAssertNotEqual(fromSafetensors, try detections(shippedModel), "the min size must matter for this test to mean anything")
        XCTAssertEqual(try detections(pth), fromSafetensors)
    }

    func testTorchWrittenPthConvertsAsBefore() throws {
        // No metadata record: the safetensors gets no __metadata__ and F32 elements.
        let torchWritten = CLI.repoRoot.appendingPathComponent("Tests/Fixtures/checkpoints/tiny.pth")
        let out = scratch.appendingPathComponent("tiny.safetensors")
        try convert(torchWritten, out)
        let bytes = try Data(contentsOf: out)
        let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = String(decoding: bytes.dropFirst(8).prefix(headerLength), as: UTF8.self)
        XCTAssertFalse(header.contains("__metadata__"), header)
        XCTAssertFalse(header.contains("\"F16\""), header)
        let (original, _) = try loadStateDict(from: torchWritten), (converted, _) = try loadStateDict(from: out)
        XCTAssertEqual(Set(converted.keys), Set(original.keys))
        for key in original.keys { XCTAssertEqual(converted[key]?.values, original[key]?.values, key) }
    }

    func testInfoDescribesTheCheckpoint() throws {
        let result = try CLI.run(["checkpoint", "info", CLI.fixtureCheckpoint.path], environment: CLI.environment(home: scratch), scratch: scratch)
        XCTAssertEqual(result.status, 0, result.stderr)
        let (state, _) = try loadStateDict(from: CLI.fixtureCheckpoint)
        let buffers = ["running_mean", "running_var", "num_batches_tracked"]
        let parameters = state.keys.filter { k in !buffers.contains { k.hasSuffix("." + $0) } }.reduce(0) { $0 + state[$1]!.count }
        var digits = String(parameters), grouped = ""
        while digits.count > 3 { grouped = "," + digits.suffix(3) + grouped; digits.removeLast(3) }
        grouped = digits + grouped
        print(result.stdout)
        for expected in ["format:        safetensors", "architecture:  fasterrcnn_mobilenet_v3_large_fpn or fasterrcnn_mobilenet_v3_large_320_fpn",
                         "classes:       91 including background: person, bicycle", "parameters:    \(grouped) in"] {
            XCTAssertTrue(result.stdout.contains(expected), "missing '\(expected)' in:\n\(result.stdout)")
        }
        let missing = try CLI.run(["checkpoint", "info", "/no/such.pth"], environment: CLI.environment(home: scratch), scratch: scratch)
        XCTAssertNotEqual(missing.status, 0)
    }
}
