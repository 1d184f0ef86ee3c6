// The training loop on a tiny synthetic dataset (coloured rectangles on noise) with the
// reduced-width fixture model at a small input size: a run interrupted without saving
// and resumed from its last checkpoint ends with exactly the weights of an uninterrupted
// run; checkpoints load in VisionDetection's Detector; the loss falls when overfitting.

import Foundation
import VisionCheckpoint
import VisionCore
import VisionData
import VisionDetection
import VisionImaging
import VisionTraining
import XCTest

final class TrainingLoopTests: XCTestCase {
    static let classes = ["__background__", "square", "bar"]

    /// `count` 128x96 PNGs in a temporary folder, each with a red square (class 1) and a blue bar (class 2).
    func syntheticRecords(_ count: Int) throws -> [DetectionRecord] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("train2-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        var rng = TrainingRNG(seed: 99)
        return try (0..<count).map { i in
            var image = RGBImage(width: 128, height: 96)
            for y in 0..<96 { for x in 0..<128 {
                let v = UInt8(60 + Int(rng.uniform() * 60))
                image[x, y] = RGBColor(r: v, g: v, b: v)
            } }
            let sx = 8 + Int(rng.uniform() * 50), sy = 8 + Int(rng.uniform() * 40)
            image.fillRectangle(left: sx, top: sy, right: sx + 29, bottom: sy + 29, color: RGBColor(r: 230, g: 30, b: 30))
            let bx = 70 + Int(rng.uniform() * 40), by = 10 + Int(rng.uniform() * 20)
            image.fillRectangle(left: bx, top: by, right: bx + 11, bottom: by + 59, color: RGBColor(r: 30, g: 30, b: 230))
            let url = dir.appendingPathComponent("img\(i).png")
            try image.write(to: url)
            return DetectionRecord(imageURL: url, width: 128, height: 96,
                                   boxes: [BoundingBox(x1: Double(sx), y1: Double(sy), x2: Double(sx + 30), y2: Double(sy + 30)),
                                           BoundingBox(x1: Double(bx), y1: Double(by), x2: Double(bx + 12), y2: Double(by + 60))],
                                   labels: [1, 2])
        }
    }

    /// The fixture architecture at 96/128 pixels with small sampler batches, 3 classes.
    func tinyConfig() throws -> (ModelConfig, StateDict) {
        let (config, state) = try fixtureModel()
        return (tinyTrainingConfig(config, numClasses: Self.classes.count), state)
    }

    func makeTrainer(_ records: [DetectionRecord], options: TrainingOptions, run: URL,
                     resume: TrainingCheckpoint.Loaded? = nil) throws -> Trainer {
        let (config, state) = try tinyConfig()
        let model = try TrainableFasterRCNN(config: resume?.config ?? config, stateDict: resume?.state ?? state,
                                            trainableBackboneLayers: options.trainableBackboneLayers, seed: options.seed)
        let trainer = try Trainer(model: model, classes: Self.classes, records: records, options: resume?.progress.options ?? options,
                                  runDirectory: run, resume: resume, threads: .allCores)
        trainer.report = { _ in }
        return trainer
    }

    func temporaryRun() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("train2-run-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testInterruptedRunResumesToTheSameWeights() throws {
        let records = try syntheticRecords(6)
        var options = TrainingOptions.defaults(epochs: 2, batchSize: 2)
        options.checkpointEverySteps = 2
        options.seed = 7

        let straight = try makeTrainer(records, options: options, run: temporaryRun())
        XCTAssertEqual(try straight.run(), .finished)
        XCTAssertEqual(straight.progress.globalStep, 6)

        // Killed after step 5 (last checkpoint: step 4, mid-epoch 1), then resumed.
        let run = temporaryRun()
        let first = try makeTrainer(records, options: options, run: run)
        XCTAssertEqual(try first.run(stopAfterSteps: 5), .interrupted)
        let loaded = try TrainingCheckpoint.load(from: run.appendingPathComponent(TrainingCheckpoint.fileName))
        XCTAssertEqual(loaded.progress.globalStep, 4)
        XCTAssertEqual(loaded.progress.epoch, 1)
        XCTAssertEqual(loaded.progress.stepInEpoch, 1)
        XCTAssertEqual(loaded.classes, Self.classes)
        XCTAssertFalse(loaded.momentum.isEmpty, "momentum buffers are saved")
        let resumed = try makeTrainer(records, options: options, run: run, resume: loaded)
        XCTAssertEqual(try resumed.run(), .finished)

        let a = straight.model.stateDict(), b = resumed.model.stateDict()
        XCTAssertEqual(a.keys, b.keys)
        var maxDiff: Float = 0
        for key in a.keys {
            for (x, y) in zip(a[key]!.values, b[key]!.values) { maxDiff = max(maxDiff, abs(x - y)) }
        }
        print("resumed vs uninterrupted: max |weight difference| = \(maxDiff)")
        XCTAssertEqual(maxDiff, 0, "a resumed run must replay the uninterrupted one exactly")
        let lines = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").filter { $0.contains("\"iteration\"") }
        XCTAssertEqual(lines.count, 6, "metrics.jsonl holds each iteration once after a resume")
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent("loss_curve.png").path))
        // The report of a resumed run covers the whole run: every step, before and after the resume.
        let report = try String(contentsOf: run.appendingPathComponent(TrainingReport.fileName), encoding: .utf8)
        XCTAssertTrue(report.contains("\"global_step\":[1,2,3,4,5,6]"), "report.html plots all 6 steps")
        let open = try XCTUnwrap(report.range(of: "id=\"report-data\">")).upperBound
        let close = try XCTUnwrap(report.range(of: "</script>", range: open..<report.endIndex)).lowerBound
        let plotted = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(report[open..<close].utf8)) as? [String: Any])
        let logged = try lines.map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        for key in ["loss", "loss_classifier", "lr"] {
            XCTAssertEqual((plotted[key] as? [Double])?.map(Float.init), logged.map { Float($0[key] as! Double) }, key)
        }

        // The weights-only file is a checkpoint vision predict reads.
        let detector = try Detector(checkpoint: run.appendingPathComponent(TrainingCheckpoint.modelFileName))
        XCTAssertEqual(detector.labels, Self.classes)
        XCTAssertEqual(detector.model.config.minSize, 96)
    }

    func testLossFallsWhenOverfittingTwoImages() throws {
        let records = try syntheticRecords(2)
        var options = TrainingOptions.defaults(epochs: 20, batchSize: 2)
        options.learningRate = 0.005
        options.milestones = []
        options.trainableBackboneLayers = 3
        options.warmupFactor = 1
        let trainer = try makeTrainer(records, options: options, run: temporaryRun())
        XCTAssertEqual(try trainer.run(), .finished)
        let losses = trainer.metrics.losses
        XCTAssertEqual(losses.count, 20)
        let start = losses.prefix(3).reduce(0, +) / 3, end = losses.suffix(3).reduce(0, +) / 3
        print("overfit: mean loss of the first 3 steps \(start), of the last 3 \(end); all: \(losses)")
        XCTAssertLessThan(end, 0.6 * start, "the loss must fall while overfitting two images")
    }
}
