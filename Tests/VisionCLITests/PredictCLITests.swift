// `vision predict` end to end on a nested folder of ~120 images with bad files
// among them: every image accounted for once, errors recorded, resume after a
// SIGKILL, shards, annotated copies, and argument errors.

import Foundation
import XCTest

final class PredictCLITests: XCTestCase {
    nonisolated(unsafe) static var scratch: URL!
    nonisolated(unsafe) static var tree: ImageTree!
    nonisolated(unsafe) static var setUpError: Error?

    /// One tree for the whole class (building it per test would only cost time).
    override class func setUp() {
        super.setUp()
        do {
            scratch = try CLI.temporaryDirectory("predict")
            tree = try ImageTree.make(in: scratch, count: 120)
        } catch {
            setUpError = error
        }
    }

    override func setUpWithError() throws {
        if let error = Self.setUpError { throw error }
    }

    override class func tearDown() {
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
        super.tearDown()
    }

    var env: [String: String] { CLI.environment(home: Self.scratch.appendingPathComponent("home")) }

    func predict(_ extra: [String], paths: [String]? = nil) throws -> CLI.Result {
        try CLI.run(["predict"] + (paths ?? [Self.tree.root.path]) + CLI.modelArguments + ["--min-prob", "0.3"] + extra,
                    environment: env, scratch: Self.scratch)
    }

    /// Checks that `output` holds each tree image exactly once, with errors for the bad ones.
    func assertAccountedFor(_ output: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let records = try CLI.records(output)
        let files = records.map(\.file)
        let duplicates = Dictionary(grouping: files, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
        XCTAssertEqual(duplicates, [], "images written twice", file: file, line: line)
        XCTAssertEqual(Set(files), Set(Self.tree.images), "missing: \(Set(Self.tree.images).subtracting(files).sorted()); "
            + "unexpected: \(Set(files).subtracting(Self.tree.images).sorted())", file: file, line: line)
        let errors = records.filter { $0.object["error"] != nil }.map(\.file).sorted()
        XCTAssertEqual(errors, Self.tree.corrupt.sorted(), "error lines", file: file, line: line)
        for record in records where record.object["error"] == nil {
            let objects = try XCTUnwrap(record.object["objects"] as? [[String: Any]], "no objects for \(record.file)")
            let probs = objects.compactMap { $0["prob"] as? Double }
            XCTAssertEqual(probs.count, objects.count, file: file, line: line)
            XCTAssertEqual(probs, probs.sorted(by: >), "objects not sorted by prob in \(record.file)", file: file, line: line)
            for o in objects {
                XCTAssertEqual((o["bbox"] as? [Double])?.count, 4, file: file, line: line)
                XCTAssertNotNil(o["label"] as? String, file: file, line: line)
                XCTAssertNotNil(o["label_id"] as? Int, file: file, line: line)
            }
        }
    }

    func testFolderEveryImageOnceWithErrorsListed() throws {
        let result = try predict(["--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        print("predict: \(result.stdoutLines.count) lines; stderr tail: \(result.stderr.suffix(300))")
        try assertAccountedFor(result.stdout)
        XCTAssertEqual(result.stdoutLines.count, Self.tree.images.count)
        // Key order of the contract, sorted walk order, summary with skipped files.
        XCTAssertTrue(result.stdoutLines.allSatisfy { $0.hasPrefix("{\"file\": \"") }, "file must be the first key")
        let firstObjects = try XCTUnwrap(result.stdoutLines.first { $0.contains("\"bbox\"") })
        XCTAssertTrue(firstObjects.contains("{\"bbox\": ["), firstObjects.prefix(200).description)
        XCTAssertTrue(firstObjects.contains("], \"label\": \""), firstObjects.prefix(200).description)
        XCTAssertEqual(try CLI.records(result.stdout).map(\.file), Self.tree.images.sorted(by: walkOrder))
        XCTAssertTrue(result.stderr.contains("1 non-image file skipped"), result.stderr)
        for bad in Self.tree.corrupt { XCTAssertTrue(result.stderr.contains(bad), "stderr should name \(bad)") }
    }

    func testResumeAfterKill() throws {
        let output = Self.scratch.appendingPathComponent("killed.jsonl")
        let arguments = ["predict", Self.tree.root.path] + CLI.modelArguments + ["--min-prob", "0.3", "--threads", "1", "-o", output.path]
        let (process, _, _) = try CLI.start(arguments, environment: env, scratch: Self.scratch)
        let deadline = Date().addingTimeInterval(60)
        var linesAtKill = 0
        while Date() < deadline {
            linesAtKill = ((try? Data(contentsOf: output)) ?? Data()).filter { $0 == 10 }.count
            if linesAtKill >= 10 || !process.isRunning { break }
            usleep(5_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal, "the run finished before it could be killed")
        // A line cut off mid-write, as a kill during write(2) would leave.
        let handle = try FileHandle(forWritingTo: output)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"file\": \"\(Self.tree.images[0])\", \"obj".utf8))
        try handle.close()
        let pieces = try String(contentsOf: output, encoding: .utf8).components(separatedBy: "\n")
        let before = try CLI.records(pieces.dropLast().joined(separator: "\n")).count
        print("killed after \(before) complete lines (saw \(linesAtKill))")
        XCTAssertGreaterThan(before, 0)
        XCTAssertLessThan(before, Self.tree.images.count)

        let resumed = try CLI.run(arguments + ["--resume"], environment: env, scratch: Self.scratch)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("\(before) already done"), resumed.stderr)
        try assertAccountedFor(String(contentsOf: output, encoding: .utf8))

        // Resuming a finished file does nothing and still succeeds.
        let again = try CLI.run(arguments + ["--resume", "--quiet"], environment: env, scratch: Self.scratch)
        XCTAssertEqual(again.status, 0, again.stderr)
        try assertAccountedFor(String(contentsOf: output, encoding: .utf8))
    }

    func testShardsCoverEveryImageOnce() throws {
        var combined = ""
        var sizes: [Int] = []
        for i in 1...3 {
            let result = try predict(["--shard", "\(i)/3", "--quiet"])
            XCTAssertEqual(result.status, 0, result.stderr)
            sizes.append(result.stdoutLines.count)
            combined += result.stdout
        }
        print("shard sizes \(sizes) of \(Self.tree.images.count)")
        XCTAssertLessThanOrEqual(sizes.max()! - sizes.min()!, 1, "shards should be balanced")
        try assertAccountedFor(combined)
    }

    func testSaveMediaKeepsFolderStructure() throws {
        let sub = Self.tree.root.appendingPathComponent("a/b/c")
        let single = Self.tree.root.appendingPathComponent("img000.jpg")
        let media = Self.scratch.appendingPathComponent("annotated")
        let result = try predict(["--quiet", "-d", media.path, "--max-detections", "5"], paths: [sub.path, single.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let walked = try FileManager.default.contentsOfDirectory(atPath: sub.path).sorted()
        for name in walked {
            let written = media.appendingPathComponent("c/\(name)")
            let data = try Data(contentsOf: written)
            XCTAssertGreaterThan(data.count, 100, written.path)
            let jpegOrPNG = data.starts(with: [0xFF, 0xD8, 0xFF]) || data.starts(with: [0x89, 0x50, 0x4E, 0x47])
            XCTAssertTrue(jpegOrPNG, "\(written.path) is not an image")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: media.appendingPathComponent(single.lastPathComponent).path))
        XCTAssertEqual(result.stdoutLines.count, walked.count + 1)
    }

    func testClassFilters() throws {
        let image = [Self.tree.root.appendingPathComponent("img000.jpg").path, CLI.fixtureModels.appendingPathComponent("pets.png").path]
        let all = try CLI.records(try predict(["--quiet"], paths: image).stdout)
        let labels = all.flatMap { ($0.object["objects"] as? [[String: Any]] ?? []).compactMap { $0["label"] as? String } }
        let common = try XCTUnwrap(Dictionary(grouping: labels, by: { $0 }).max { $0.value.count < $1.value.count }?.key)
        let only = try CLI.records(try predict(["--quiet", "-k", common.uppercased()], paths: image).stdout)
        let onlyLabels = Set(only.flatMap { ($0.object["objects"] as? [[String: Any]] ?? []).compactMap { $0["label"] as? String } })
        XCTAssertEqual(onlyLabels, [common])
        let ignored = try CLI.records(try predict(["--quiet", "-K", common], paths: image).stdout)
        let ignoredLabels = Set(ignored.flatMap { ($0.object["objects"] as? [[String: Any]] ?? []).compactMap { $0["label"] as? String } })
        XCTAssertFalse(ignoredLabels.contains(common))
        XCTAssertFalse(ignoredLabels.isEmpty)
    }

    func testArgumentErrorsExitNonZeroWithOneLineError() throws {
        let image = Self.tree.root.appendingPathComponent("img000.jpg").path
        let textFile = Self.tree.root.appendingPathComponent("a/notes.txt").path
        let cases: [(args: [String], expect: String)] = [
            (["predict"] + CLI.modelArguments, "missing PATH"),
            (["predict", "/no/such/folder"] + CLI.modelArguments, "no such file or folder: /no/such/folder"),
            (["predict", image, "--shard", "4/3"] + CLI.modelArguments, "--shard"),
            (["predict", image, "--shard", "x"] + CLI.modelArguments, "--shard"),
            (["predict", image, "-k", "person", "-K", "dog"] + CLI.modelArguments, "cannot be used together"),
            (["predict", image, "--min-prob", "2"] + CLI.modelArguments, "--min-prob"),
            (["predict", image, "--resume"] + CLI.modelArguments, "--resume needs --output"),
            (["predict", image, "--model", "yolo", "--checkpoint", CLI.fixtureCheckpoint.path], "unknown --model 'yolo'"),
            (["predict", image, "-k", "unicorn"] + CLI.modelArguments, "unknown class 'unicorn'"),
            (["predict", image, "--checkpoint", textFile], "notes.txt: unknown checkpoint format"),
            (["predict", image, "--checkpoint", "no_such_model"], "no_such_model: no such checkpoint file"),
            (["predict", image], "vision checkpoint download fasterrcnn_mobilenet_v3_large_320_fpn"),
            (["predict", Self.tree.corrupt[0]] + CLI.modelArguments, "no image was processed"),
            (["frobnicate"], "Error:"),
        ]
        let emptyModels = Self.scratch.appendingPathComponent("empty-models")
        try FileManager.default.createDirectory(at: emptyModels, withIntermediateDirectories: true)
        for c in cases {
            // The default-model case looks in an empty Models folder.
            let environment = c.args == ["predict", image] ? CLI.environment(models: emptyModels, home: Self.scratch) : env
            let result = try CLI.run(c.args, environment: environment, scratch: Self.scratch)
            XCTAssertNotEqual(result.status, 0, "\(c.args) should fail")
            let firstLine = result.stderr.split(separator: "\n").first { $0.hasPrefix("Error:") }.map(String.init) ?? ""
            XCTAssertTrue(firstLine.contains(c.expect), "\(c.args): expected an 'Error: ...\(c.expect)...' line, got:\n\(result.stderr)")
        }
        let unknownClass = try CLI.run(["predict", image, "-k", "unicorn"] + CLI.modelArguments, environment: env, scratch: Self.scratch)
        XCTAssertTrue(unknownClass.stderr.contains("person, bicycle, car"), "valid class names should be listed: \(unknownClass.stderr)")
    }

    /// The walker's order: each folder's entries sorted by name, depth first.
    private func walkOrder(_ a: String, _ b: String) -> Bool {
        let pa = a.split(separator: "/").map(String.init), pb = b.split(separator: "/").map(String.init)
        for (x, y) in zip(pa, pb) where x != y { return x < y }
        return pa.count < pb.count
    }
}
