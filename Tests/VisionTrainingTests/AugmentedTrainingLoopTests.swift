// The training loop with every augmentation on: the background loader gives the same
// steps whatever its thread count and timing, an interrupted run resumes to exactly the
// uninterrupted one's weights, and best.safetensors / --patience keep the best epoch and
// stop a run whose validation AP50 no longer improves.

import Foundation
import VisionCheckpoint
import VisionCore
import VisionData
import VisionDetection
import VisionTraining
import XCTest

extension TrainingLoopTests {
    func augmentedOptions(epochs: Int) -> TrainingOptions {
        var options = TrainingOptions.defaults(epochs: epochs, batchSize: 2)
        options.seed = 11
        options.multiScaleSizes = [80, 96, 112]
        options.photometricProbability = 0.5
        options.channelPermutationProbability = 0.5
        options.iouCrop = true
        return options
    }

    func testBackgroundLoaderGivesTheSameStepsOnAnyThreadCount() throws {
        let records = try syntheticRecords(5)
        let (config, _) = try tinyConfig()
        let preparation = StepPreparation(records: records, options: augmentedOptions(epochs: 2), config: config,
                                          transform: DetectionTransform(config: config))
        let positions = preparation.positions(epoch: 0, step: 1, globalStep: 1, epochs: 2)
        XCTAssertEqual(positions.count, 5, "3 steps per epoch, from step 1 of epoch 0")
        XCTAssertEqual(positions.last, StepPosition(epoch: 1, step: 2, globalStep: 5))
        let direct = positions.map { preparation.prepare($0) }
        var sizes = Set<Int>()
        for workers in [1, 3] {
            let loader = BackgroundLoader(preparation: preparation, positions: positions, workers: workers, capacity: workers)
            for expected in direct {
                let got = loader.next()
                XCTAssertEqual(got.position, expected.position)
                XCTAssertEqual(got.rng, expected.rng)
                XCTAssertEqual(got.batch?.boxes, expected.batch?.boxes, "workers \(workers) step \(got.position.globalStep)")
                XCTAssertEqual(got.batch?.images.values, expected.batch?.images.values)
                XCTAssertEqual(got.batch?.labels, expected.batch?.labels)
                for s in got.batch?.imageSizes ?? [] { sizes.insert(min(s.height, s.width)) }
            }
            loader.cancel()
        }
        XCTAssertGreaterThan(sizes.count, 1, "multi-scale training draws several sizes")
    }

    func testLoaderCancelledMidRunStopsItsThreads() throws {
        let records = try syntheticRecords(4)
        let (config, _) = try tinyConfig()
        let preparation = StepPreparation(records: records, options: augmentedOptions(epochs: 50), config: config,
                                          transform: DetectionTransform(config: config))
        let loader = BackgroundLoader(preparation: preparation,
                                      positions: preparation.positions(epoch: 0, step: 0, globalStep: 0, epochs: 50),
                                      workers: 2, capacity: 2)
        _ = loader.next()
        let start = Date()
        loader.cancel()
        XCTAssertLessThan(Date().timeIntervalSince(start), 10, "cancel returns once the workers' current steps end")
    }

    func testAugmentedRunResumesToTheSameWeights() throws {
        let records = try syntheticRecords(5)
        var options = augmentedOptions(epochs: 2)
        options.checkpointEverySteps = 2
        let straight = try makeTrainer(records, options: options, run: temporaryRun())
        XCTAssertEqual(try straight.run(), .finished)

        let run = temporaryRun()
        XCTAssertEqual(try makeTrainer(records, options: options, run: run).run(stopAfterSteps: 5), .interrupted)
        let loaded = try TrainingCheckpoint.load(from: run.appendingPathComponent(TrainingCheckpoint.fileName))
        XCTAssertEqual(loaded.progress.globalStep, 4, "the last checkpoint: step 4 (every 2 steps), mid-epoch 1")
        XCTAssertEqual(loaded.progress.stepInEpoch, 1)
        XCTAssertEqual(loaded.progress.options.multiScaleSizes, [80, 96, 112], "augmentations are saved with the run")
        XCTAssertEqual(try makeTrainer(records, options: options, run: run, resume: loaded).run(), .finished)
        let a = straight.model.stateDict(), b = try TrainingCheckpoint.load(from: run.appendingPathComponent(TrainingCheckpoint.fileName)).state
        for key in a.keys { XCTAssertEqual(a[key]!.values, b[key]!.values, key) }
    }

    func testBestCheckpointAndPatience() throws {
        let records = try syntheticRecords(4)
        var options = TrainingOptions.defaults(epochs: 6, batchSize: 2)
        options.learningRate = 0  // the weights never change, so AP50 never improves on epoch 1's
        options.patience = 2
        let run = temporaryRun()
        let trainer = try makeTrainer(records, options: options, run: run)
        var lines: [String] = []
        trainer.report = { lines.append($0) }
        trainer.validation = Validation(records: records, classes: Array(Self.classes.dropFirst()), splitName: "val")
        XCTAssertEqual(try trainer.run(), .stoppedEarly(epoch: 3))
        XCTAssertEqual(trainer.progress.bestEpoch, 1)
        XCTAssertTrue(lines.contains { $0.contains("stopping early after epoch 3/6: validation AP50 has not improved for 2 epochs") },
                      lines.joined(separator: "\n"))
        let best = run.appendingPathComponent(TrainingCheckpoint.bestFileName)
        let (state, _) = try loadStateDict(from: best)
        XCTAssertEqual(state.metadata[TrainingCheckpoint.runMetadataKey], trainer.progress.runID)
        XCTAssertEqual(try Detector(checkpoint: best).labels, Self.classes, "best.safetensors is a checkpoint predict reads")
        let report = try String(contentsOf: run.appendingPathComponent(TrainingReport.fileName), encoding: .utf8)
        XCTAssertTrue(report.contains("Stopped early after epoch 3 of 6"))
        XCTAssertTrue(report.contains("best.safetensors: epoch 1"))

        // A best.safetensors this run did not write is never replaced.
        let other = temporaryRun()
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        let foreign = Data("not this run's".utf8)
        try foreign.write(to: other.appendingPathComponent(TrainingCheckpoint.bestFileName))
        let second = try makeTrainer(records, options: options, run: other)
        second.validation = trainer.validation
        XCTAssertThrowsError(try second.run()) { XCTAssertTrue("\($0)".contains("was not written by this run"), "\($0)") }
        XCTAssertEqual(try Data(contentsOf: other.appendingPathComponent(TrainingCheckpoint.bestFileName)), foreign)
    }
}
