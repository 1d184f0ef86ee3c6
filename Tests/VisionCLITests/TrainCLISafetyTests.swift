// `vision train` loses nothing and leads nowhere dead (issue 19): a folder holding a
// run is never reused without --resume or --overwrite, the default folder moves on to
// runs/train2; an undecodable image is skipped and counted; an image that lost boxes
// to a dataset problem is left out and the problems reported; --checkpoint takes a
// store name and the checkpoint's own architecture; --resume lengthens a run with
// --epochs, refuses flags that would change it and names a missing folder; a two-epoch
// run spends real time at the full learning rate.
//
// Sizes: copies of the 40x30 fixture JPEGs in a Pascal VOC folder made per test, the
// reduced-width fixture models, batch 1, --threads 1: each run takes a second or two.

import Foundation
import VisionCheckpoint
import VisionCore
import XCTest

final class TrainCLISafetyTests: XCTestCase {
    var scratch: URL!
    var env: [String: String] { CLI.environment(home: scratch.appendingPathComponent("home")) }

    override func setUpWithError() throws { scratch = try CLI.temporaryDirectory("train-safety") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    // MARK: - Item 2: run folders

    func testOutputHoldingARunIsRefusedAndLeftByteIdentical() throws {
        let data = try makeDataset(images: [.good("a"), .good("b")])
        let run = scratch.appendingPathComponent("r2")
        let first = try train(data, ["--epochs", "1", "-o", run.path])
        XCTAssertEqual(first.status, 0, first.stderr)
        let before = try snapshot(run)
        XCTAssertTrue(before.keys.contains("metrics.jsonl") && before.keys.contains("checkpoint.safetensors"), "\(before.keys)")

        let second = try train(data, ["--epochs", "1", "-o", run.path])
        XCTAssertNotEqual(second.status, 0, "a second run into a run folder was not refused: \(second.stderr)")
        XCTAssertTrue(second.stderr.contains("holds a run") && second.stderr.contains("--resume"), second.stderr)
        XCTAssertEqual(try snapshot(run), before, "the finished run's files changed")

        let again = try train(data, ["--epochs", "1", "-o", run.path, "--overwrite"])
        XCTAssertEqual(again.status, 0, "--overwrite: \(again.stderr)")
        XCTAssertEqual(try iterationSteps(run), [1, 2], "the overwritten run's metrics hold only its own steps")
    }

    func testDefaultOutputMovesOnToTheNextFreeFolder() throws {
        let data = try makeDataset(images: [.good("a"), .good("b")])
        let work = scratch.appendingPathComponent("work")
        let occupied = work.appendingPathComponent("runs/train")
        try FileManager.default.createDirectory(at: occupied, withIntermediateDirectories: true)
        let earlier = Data((1...60).map { "{\"kind\":\"iteration\",\"global_step\":\($0),\"loss\":1.0}\n" }.joined().utf8)
        try earlier.write(to: occupied.appendingPathComponent("metrics.jsonl"))
        try Data("weights".utf8).write(to: occupied.appendingPathComponent("checkpoint.safetensors"))
        let before = try snapshot(occupied)

        let result = try train(data, ["--epochs", "1"], directory: work)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try snapshot(occupied), before, "runs/train, which held a run, was written to")
        let next = work.appendingPathComponent("runs/train2")
        XCTAssertTrue(FileManager.default.fileExists(atPath: next.appendingPathComponent("model.safetensors").path),
                      "no run in runs/train2: \(result.stderr)")
        XCTAssertTrue(result.stderr.contains("runs/train2"), "the chosen folder is not named: \(result.stderr)")
    }

    // MARK: - Item 3: undecodable images

    func testTruncatedJPEGIsSkippedCountedAndTheRunFinishes() throws {
        let data = try makeDataset(images: [.good("a"), .truncated("broken"), .good("b")])
        let run = scratch.appendingPathComponent("run")
        let result = try train(data, ["--epochs", "2", "-o", run.path])
        XCTAssertEqual(result.status, 0, "a truncated JPEG ended the run: \(result.stderr)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent("checkpoint.safetensors").path))
        let lines = try metricLines(run)
        let skippedPerEpoch = lines.filter { $0["kind"] as? String == "epoch" }.map { $0["skipped_images"] as? Int }
        XCTAssertEqual(skippedPerEpoch, [1, 1], "each epoch counts the one undecodable image")
        let skippedInSteps = lines.filter { $0["kind"] as? String != "epoch" }.compactMap { $0["skipped_images"] as? Int }
        XCTAssertEqual(skippedInSteps.reduce(0, +), 2, "the skip is counted in the step lines")
        XCTAssertEqual(try iterationSteps(run).count, 4, "the other images' steps were all taken")
        let warnings = result.stderr.split(separator: "\n").filter { $0.contains("broken.jpg") }
        XCTAssertEqual(warnings.count, 1, "one warning naming the file: \(result.stderr)")
        XCTAssertTrue(result.stderr.contains("1 undecodable image skipped"), "the progress line counts it: \(result.stderr)")
    }

    // MARK: - Item 4: images that lost boxes

    func testImageThatLostABoxIsLeftOutAndTheProblemsReported() throws {
        let data = try makeDataset(images: [.good("a"), .good("b"), .boxOutside("outside")])
        let run = scratch.appendingPathComponent("run")
        let result = try train(data, ["--epochs", "1", "-o", run.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try iterationSteps(run), [1, 2], "the image that lost its box was trained on (3 steps, batch 1)")
        let dataset = try XCTUnwrap(try metricLines(run).first { $0["kind"] as? String == "dataset" }, "no dataset line")
        XCTAssertEqual(dataset["images"] as? Int, 2)
        XCTAssertEqual(dataset["left_out_images"] as? Int, 1)
        let problems = try XCTUnwrap(dataset["problems"] as? [String: Int])
        XCTAssertEqual(problems.values.reduce(0, +), 1, "\(problems)")
        let file = try String(contentsOf: run.appendingPathComponent("dataset_problems.txt"), encoding: .utf8)
        XCTAssertTrue(file.contains("outside.xml") && file.contains("outside.jpg"), file)
        let firstStep = try XCTUnwrap(result.stderr.range(of: "epoch 1/1 step 1/"), result.stderr)
        let summary = try XCTUnwrap(result.stderr.range(of: "1 image left out of training"), "no summary: \(result.stderr)")
        XCTAssertLessThan(summary.lowerBound, firstStep.lowerBound, "the summary comes before the first step")
        XCTAssertTrue(result.stderr.contains("outside.xml"), "the problem is listed: \(result.stderr)")
    }

    // MARK: - Item 6: checkpoint names and architectures

    func testCheckpointNameResolvesThroughTheStore() throws {
        let data = try makeDataset(images: [.good("a"), .good("b")])
        let models = scratch.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        let definition = CLI.fixtureModels.appendingPathComponent("\(CLI.fixtureModelName).json")
        var json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: definition)) as? [String: Any])
        json["url"] = "https://models.invalid/\(CLI.fixtureModelName)-0123abcd.safetensors"
        json["sha256Prefix"] = "0123abcd"
        try JSONSerialization.data(withJSONObject: json).write(to: models.appendingPathComponent("\(CLI.fixtureModelName).json"))
        let store = scratch.appendingPathComponent("home/checkpoints")
        try FileManager.default.createDirectory(at: store, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: CLI.fixtureCheckpoint,
                                         to: store.appendingPathComponent("\(CLI.fixtureModelName)-0123abcd.safetensors"))

        let run = scratch.appendingPathComponent("run")
        let result = try CLI.run(["train", "--dataset", data.path, "--checkpoint", CLI.fixtureModelName, "--epochs", "1",
                                  "--batch-size", "1", "--threads", "1", "--val-split", "none", "-o", run.path],
                                 environment: CLI.environment(models: models, home: scratch.appendingPathComponent("home")),
                                 scratch: scratch)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try architecture(of: run.appendingPathComponent("model.safetensors")), CLI.fixtureModelName)
    }

    func testArchitectureComesFromTheCheckpointMetadata() throws {
        let data = try makeDataset(images: [.good("a"), .good("b")])
        // A run of the fixture architecture, whose checkpoints record it in their metadata.
        let first = scratch.appendingPathComponent("first")
        let started = try CLI.run(["train", "--dataset", data.path, "--checkpoint", CLI.fixtureCheckpoint.path, "--model", CLI.fixtureModelName,
                                   "--epochs", "1", "--batch-size", "1", "--threads", "1", "--val-split", "none", "-o", first.path],
                                  environment: env, scratch: scratch)
        XCTAssertEqual(started.status, 0, String(started.stderr.prefix(2000)))
        let expected = try XCTUnwrap(try architecture(of: first.appendingPathComponent("model.safetensors")))
        XCTAssertNotEqual(expected, "fasterrcnn_mobilenet_v2_fpn", "train's default; the test would prove nothing")
        // Both of its files start a new run of that architecture (the training checkpoint's momentum is left out).
        for file in ["model.safetensors", "checkpoint.safetensors"] {
            let run = scratch.appendingPathComponent("run-\(file)")
            let result = try CLI.run(["train", "--dataset", data.path, "--checkpoint", first.appendingPathComponent(file).path,
                                      "--epochs", "1", "--batch-size", "1", "--threads", "1", "--val-split", "none", "-o", run.path],
                                     environment: env, scratch: scratch)
            XCTAssertEqual(result.status, 0, String(result.stderr.prefix(2000)))
            XCTAssertEqual(try architecture(of: run.appendingPathComponent("model.safetensors")), expected, file)
        }
    }

    /// The training loader is the inference one: a tensor of the right element count but
    /// another shape is refused (it used to load reshaped), and a key the model does not use
    /// is reported, each by its full name, before any step is taken.
    func testStartingCheckpointWithWrongShapeOrUnusedKeyIsRefused() throws {
        let data = try makeDataset(images: [.good("a"), .good("b")])
        let (state, _) = try loadStateDict(from: CLI.fixtureCheckpoint)
        let key = "roi_heads.box_head.fc6.weight"
        let original = try XCTUnwrap(state[key])
        XCTAssertEqual(original.rank, 2)
        XCTAssertNotEqual(original.shape[0], original.shape[1], "a transposed shape must differ for the test to mean anything")
        let transposed = [original.shape[1], original.shape[0]]
        var edited = StateDict(state.keys.map { ($0, $0 == key ? original.reshaped(transposed) : state[$0]!) }
                               + [("roi_heads.box_head.fc8.weight", Tensor(shape: [2, 2], repeating: 1))])
        edited.metadata = state.metadata
        let file = scratch.appendingPathComponent("edited.safetensors")
        try saveSafetensors(edited, to: file)
        let run = scratch.appendingPathComponent("run")
        let result = try CLI.run(["train", "--dataset", data.path, "--checkpoint", file.path, "--epochs", "1",
                                  "--batch-size", "1", "--threads", "1", "--val-split", "none", "-o", run.path],
                                 environment: env, scratch: scratch)
        XCTAssertNotEqual(result.status, 0, "a wrong-shaped tensor was accepted: \(result.stderr)")
        XCTAssertTrue(result.stderr.contains(file.path), result.stderr)
        let shapes = "\(key): expected [\(original.shape.map(String.init).joined(separator: ", "))], found \(transposed)"
        XCTAssertTrue(result.stderr.contains(shapes), "the key and both shapes are named: \(result.stderr)")
        XCTAssertTrue(result.stderr.contains("unexpected keys") && result.stderr.contains("roi_heads.box_head.fc8.weight"),
                      "the unused key is reported: \(result.stderr)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.appendingPathComponent("model.safetensors").path))
    }

    // MARK: - Item 7: resuming and the schedule

    func testResumeWithMoreEpochsLengthensTheRun() throws {
        let data = try makeDataset(images: [.good("a"), .good("b")])
        let run = scratch.appendingPathComponent("run")
        let first = try train(data, ["--epochs", "1", "-o", run.path])
        XCTAssertEqual(first.status, 0, first.stderr)
        let resumed = try CLI.run(["train", "--resume", run.path, "--epochs", "3", "--threads", "1"], environment: env, scratch: scratch)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try iterationSteps(run), Array(1...6), "the run was not lengthened to 3 epochs")
        XCTAssertTrue(resumed.stderr.contains("from 1 to 3 epochs"), resumed.stderr)
        let before = try snapshot(run)
        let finished = try CLI.run(["train", "--resume", run.path, "--threads", "1"], environment: env, scratch: scratch)
        XCTAssertNotEqual(finished.status, 0)
        XCTAssertTrue(finished.stderr.contains("already finished its 3 epochs"), finished.stderr)
        XCTAssertEqual(try snapshot(run), before)
    }

    func testResumeTrainsOnTheRunsOwnSplit() throws {
        let data = try makeDataset(images: [.good("a"), .good("b"), .good("c")])
        try Data("a\nb\n".utf8).write(to: data.appendingPathComponent("ImageSets/Main/train.txt"))
        try Data("a\nb\nc\n".utf8).write(to: data.appendingPathComponent("ImageSets/Main/everything.txt"))
        let run = scratch.appendingPathComponent("run")
        let first = try train(data, ["--epochs", "1", "--split", "everything", "-o", run.path])
        XCTAssertEqual(first.status, 0, first.stderr)
        let resumed = try CLI.run(["train", "--resume", run.path, "--epochs", "2", "--threads", "1"], environment: env, scratch: scratch)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try iterationSteps(run), Array(1...6), "the resumed epoch did not train on the run's 3-image split")
    }

    func testResumeRefusesFlagsThatWouldChangeTheRun() throws {
        let data = try makeDataset(images: [.good("a"), .good("b")])
        let run = scratch.appendingPathComponent("run")
        let first = try train(data, ["--epochs", "2", "-o", run.path])
        XCTAssertEqual(first.status, 0, first.stderr)
        let before = try snapshot(run)
        for flags in [["--lr", "0.5"], ["--seed", "3"], ["--batch-size", "2"], ["--epochs", "1"]] {
            let result = try CLI.run(["train", "--resume", run.path] + flags, environment: env, scratch: scratch)
            XCTAssertNotEqual(result.status, 0, "\(flags) was ignored: \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(flags[0]), "the refusal names \(flags[0]): \(result.stderr)")
            XCTAssertEqual(try snapshot(run), before, "\(flags) changed the run folder")
        }
    }

    func testResumeOfAFolderWithoutARunNamesIt() throws {
        let missing = scratch.appendingPathComponent("runs/nosuch")
        let result = try CLI.run(["train", "--resume", missing.path], environment: env, scratch: scratch)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("\(missing.path): no such run folder"), result.stderr)
        try FileManager.default.createDirectory(at: missing, withIntermediateDirectories: true)
        let empty = try CLI.run(["train", "--resume", missing.path], environment: env, scratch: scratch)
        XCTAssertNotEqual(empty.status, 0)
        XCTAssertTrue(empty.stderr.contains("\(missing.path): the folder holds no checkpoint.safetensors"), empty.stderr)
    }

    func testTwoEpochRunSpendsRealTimeAtTheFullRate() throws {
        let data = try makeDataset(images: [.good("a"), .good("b"), .good("c"), .good("d")])
        let run = scratch.appendingPathComponent("run")
        let result = try train(data, ["--epochs", "2", "--lr", "0.01", "-o", run.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let rates = try metricLines(run).filter { $0["kind"] as? String == "iteration" }.compactMap { $0["lr"] as? Double }
        XCTAssertEqual(rates.count, 8)
        let atBase = rates.filter { abs($0 - 0.01) < 1e-7 }.count
        print("2 epochs x 4 steps, lr per step: \(rates)")
        XCTAssertGreaterThanOrEqual(atBase, 3, "only \(atBase) of 8 steps at the full rate")
    }

    // MARK: - Item 8: a layout given as --images/--annotations

    func testImagesAndAnnotationsFoldersTrainAndResume() throws {
        let data = try makeDataset(images: [.good("a"), .good("b")])
        // Folders with names no layout rule knows: only the two options can find them.
        let images = scratch.appendingPathComponent("pictures"), labels = scratch.appendingPathComponent("xml")
        try FileManager.default.moveItem(at: data.appendingPathComponent("JPEGImages"), to: images)
        try FileManager.default.moveItem(at: data.appendingPathComponent("Annotations"), to: labels)
        let run = scratch.appendingPathComponent("run")
        let result = try CLI.run(["train", "--images", images.path, "--annotations", labels.path, "--model", CLI.fixtureModelName,
                                  "--batch-size", "1", "--threads", "1", "--epochs", "1", "-o", run.path],
                                 environment: env, scratch: scratch)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try iterationSteps(run), [1, 2])
        // The run remembers both folders: --resume needs neither.
        let resumed = try CLI.run(["train", "--resume", run.path, "--epochs", "2", "--threads", "1"], environment: env, scratch: scratch)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try iterationSteps(run), [1, 2, 3, 4])
        let half = try CLI.run(["train", "--images", images.path, "-o", scratch.appendingPathComponent("run2").path],
                               environment: env, scratch: scratch)
        XCTAssertNotEqual(half.status, 0)
        XCTAssertTrue(half.stderr.contains("--images and --annotations go together"), half.stderr)
    }

    // MARK: - Helpers

    func makeDataset(images: [TinyVOC.Image]) throws -> URL {
        try TinyVOC.make(in: scratch.appendingPathComponent("voc-\(UUID().uuidString.prefix(8))"), images: images)
    }

    /// `vision train` on `data` with the fixture 320 model from scratch, batch 1, one thread.
    func train(_ data: URL, _ arguments: [String], directory: URL? = nil) throws -> CLI.Result {
        if let directory { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
        return try CLI.run(["train", "--dataset", data.path, "--model", CLI.fixtureModelName, "--batch-size", "1",
                            "--threads", "1", "--val-split", "none", "--seed", "5"] + arguments,
                           environment: env, scratch: scratch, directory: directory)
    }

    /// Every file in `folder` (not below) and its bytes.
    func snapshot(_ folder: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            files[name] = try Data(contentsOf: folder.appendingPathComponent(name))
        }
        return files
    }

    func metricLines(_ run: URL) throws -> [[String: Any]] { try TrainKillResumeTests.metricLines(in: run) }

    func iterationSteps(_ run: URL) throws -> [Int] { try TrainKillResumeTests.iterationMetrics(in: run).map(\.step) }

    /// The architecture a vision checkpoint's vision.config metadata names.
    func architecture(of checkpoint: URL) throws -> String? {
        let (state, _) = try loadStateDict(from: checkpoint)
        guard let json = state.metadata["vision.config"] else { return nil }
        let config = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        return config["name"] as? String
    }
}

/// Pascal VOC folders of 40x30 JPEGs (copies of the fixture voc's a.jpg, two objects
/// each), every image in the train split: small datasets whose problems are only the
/// ones a test asks for.
enum TinyVOC {
    enum Image {
        case good(String), truncated(String), boxOutside(String)
        var name: String { switch self { case .good(let n), .truncated(let n), .boxOutside(let n): return n } }
    }

    static func make(in root: URL, images: [Image]) throws -> URL {
        let fm = FileManager.default
        for folder in ["JPEGImages", "Annotations", "ImageSets/Main"] {
            try fm.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        let jpeg = try Data(contentsOf: CLI.repoRoot.appendingPathComponent("Tests/Fixtures/datasets/voc/JPEGImages/a.jpg"))
        for image in images {
            // A truncated file keeps its header (the right size) and loses the end of its scan.
            let bytes = if case .truncated = image { jpeg.prefix(jpeg.count * 2 / 3) } else { jpeg }
            try bytes.write(to: root.appendingPathComponent("JPEGImages/\(image.name).jpg"))
            let box = if case .boxOutside = image { (100, 3, 120, 25) } else { (2, 3, 20, 25) }
            let xml = """
                <annotation><filename>\(image.name).jpg</filename>
                <size><width>40</width><height>30</height><depth>3</depth></size>
                <object><name>dog</name><difficult>0</difficult>
                <bndbox><xmin>\(box.0)</xmin><ymin>\(box.1)</ymin><xmax>\(box.2)</xmax><ymax>\(box.3)</ymax></bndbox></object>
                <object><name>cat</name><difficult>0</difficult>
                <bndbox><xmin>22</xmin><ymin>5</ymin><xmax>38</xmax><ymax>28</ymax></bndbox></object>
                </annotation>
                """
            try Data(xml.utf8).write(to: root.appendingPathComponent("Annotations/\(image.name).xml"))
        }
        try Data((images.map(\.name).joined(separator: "\n") + "\n").utf8)
            .write(to: root.appendingPathComponent("ImageSets/Main/train.txt"))
        return root
    }
}
