// `vision dataset inspect --augment N -d DIR`: N JPEGs of augmented training samples at
// the size the model sees them, the same for the same seed; DIR is never a folder
// holding other files; the augmentation flags are checked as `vision train` checks them.

import Foundation
import XCTest

final class AugmentPreviewCLITests: XCTestCase {
    var scratch: URL!
    var env: [String: String] { CLI.environment(models: CLI.repoRoot.appendingPathComponent("Models"), home: scratch) }
    let sample = CLI.repoRoot.appendingPathComponent("Samples/bccd")

    override func setUpWithError() throws { scratch = try CLI.temporaryDirectory("augment-preview") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    func preview(_ dir: URL, _ extra: [String] = []) throws -> (status: Int32, stderr: String) {
        let result = try CLI.run(["dataset", "inspect", sample.path, "--augment", "3", "-d", dir.path] + extra,
                                 environment: env, scratch: scratch)
        return (result.status, result.stderr)
    }

    func testWritesAugmentedSamplesDeterministically() throws {
        let a = scratch.appendingPathComponent("a"), b = scratch.appendingPathComponent("b")
        let first = try preview(a, ["--iou-crop"])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stderr.contains("3 augmented samples"), first.stderr)
        let names = try FileManager.default.contentsOfDirectory(atPath: a.path).sorted()
        XCTAssertEqual(names, ["augmented_0001.jpg", "augmented_0002.jpg", "augmented_0003.jpg"])
        XCTAssertEqual(try preview(b, ["--iou-crop"]).status, 0)
        for name in names {
            XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent(name)), try Data(contentsOf: b.appendingPathComponent(name)),
                           "the same seed draws the same augmentations")
        }
        // Rewriting an earlier preview's folder is allowed; another seed draws other samples.
        XCTAssertEqual(try preview(b, ["--iou-crop", "--seed", "5"]).status, 0)
        XCTAssertNotEqual(try Data(contentsOf: a.appendingPathComponent(names[0])), try Data(contentsOf: b.appendingPathComponent(names[0])))
    }

    func testRefusesAFolderWithOtherFilesAndBadFlags() throws {
        let dir = scratch.appendingPathComponent("mine")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let precious = dir.appendingPathComponent("notes.txt")
        try Data("keep".utf8).write(to: precious)
        let refused = try preview(dir)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("notes.txt"), refused.stderr)
        XCTAssertEqual(try Data(contentsOf: precious), Data("keep".utf8))

        let noDir = try CLI.run(["dataset", "inspect", sample.path, "--augment", "2"], environment: env, scratch: scratch)
        XCTAssertNotEqual(noDir.status, 0)
        XCTAssertTrue(noDir.stderr.contains("needs -d DIR"), noDir.stderr)
        let badScale = try preview(scratch.appendingPathComponent("x"), ["--scales", "400,abc"])
        XCTAssertNotEqual(badScale.status, 0)
        XCTAssertTrue(badScale.stderr.contains("--scales '400,abc'"), badScale.stderr)
        let badP = try preview(scratch.appendingPathComponent("x"), ["--photometric", "1.5"])
        XCTAssertTrue(badP.stderr.contains("--photometric must be a probability"), badP.stderr)
    }

    /// A binary whose Models folder cannot be found names the problem and the fix
    /// rather than calling a known architecture unknown.
    func testMissingModelsFolderSaysSetVisionModels() throws {
        let empty = scratch.appendingPathComponent("no-models")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let result = try CLI.run(["dataset", "inspect", sample.path, "--augment", "1", "-d", scratch.appendingPathComponent("out").path],
                                 environment: CLI.environment(models: empty, home: scratch), scratch: scratch)
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("model 'fasterrcnn_mobilenet_v2_fpn': no fasterrcnn_mobilenet_v2_fpn.json in \(empty.path)"), result.stderr)
        XCTAssertTrue(result.stderr.contains("set VISION_MODELS"), result.stderr)
        XCTAssertFalse(result.stderr.contains("unknown model"), result.stderr)
    }
}
