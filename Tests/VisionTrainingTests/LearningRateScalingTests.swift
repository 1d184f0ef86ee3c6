// The schedule scaled to the run's length: a short run reaches the full rate early and
// spends a real part of its steps there (warm-up at most a tenth of the steps, no decay
// in epoch 0), a long run keeps torchvision's schedule, and lengthening a resumed run
// moves only the milestones still ahead.

import VisionTraining
import XCTest

final class LearningRateScalingTests: XCTestCase {
    func testEveryRunLengthReachesTheBaseRateAndStaysThere() {
        for epochs in [1, 2, 3, 20] {
            for iterationsPerEpoch in [1, 2, 7, 100, 5000] {
                let options = TrainingOptions.defaults(epochs: epochs, batchSize: 2)
                let warmup = LearningRateSchedule.warmupIterations(iterationsPerEpoch: iterationsPerEpoch, epochs: epochs)
                let schedule = LearningRateSchedule(baseLearningRate: options.learningRate, milestones: options.milestones,
                                                    warmupFactor: options.warmupFactor, warmupIterations: warmup)
                let context = "\(epochs) epochs of \(iterationsPerEpoch) steps (warm-up \(warmup), milestones \(options.milestones))"
                var atBase = 0, total = 0
                var firstAtBase: Int?
                for epoch in 0..<epochs {
                    for step in 0..<iterationsPerEpoch {
                        let rate = schedule.learningRate(epoch: epoch, iteration: step)
                        XCTAssertLessThanOrEqual(rate, options.learningRate, context)
                        if rate == options.learningRate {
                            atBase += 1
                            firstAtBase = firstAtBase ?? total
                        }
                        total += 1
                    }
                }
                XCTAssertNotNil(firstAtBase, "never at the base rate: \(context)")
                XCTAssertLessThanOrEqual(warmup * 10, total, "warm-up longer than a tenth of the run: \(context)")
                XCTAssertGreaterThanOrEqual(Double(atBase) / Double(total), 0.35, "too few steps at the base rate: \(context)")
                for milestone in options.milestones {
                    XCTAssertTrue((1..<epochs).contains(milestone), "milestone \(milestone) outside the run: \(context)")
                }
            }
        }
        // Long runs keep torchvision's recipe.
        XCTAssertEqual(LearningRateSchedule.warmupIterations(iterationsPerEpoch: 5000, epochs: 20), 1000)
        XCTAssertEqual(LearningRateSchedule.warmupIterations(iterationsPerEpoch: 100, epochs: 20), 99)
        XCTAssertEqual(TrainingOptions.defaults(epochs: 20, batchSize: 2).milestones, [13, 17])
        XCTAssertEqual(TrainingOptions.defaults(epochs: 26, batchSize: 2).milestones, [17, 22])
    }

    func testLengtheningMovesOnlyTheMilestonesAhead() {
        let twenty = TrainingOptions.defaults(epochs: 20, batchSize: 2)
        // Stopped at epoch 5, before any decay: both milestones scale to the new length.
        XCTAssertEqual(twenty.extended(toEpochs: 40, currentEpoch: 5).milestones, [26, 34])
        // Between the milestones: the passed one stays, the other scales.
        XCTAssertEqual(twenty.extended(toEpochs: 40, currentEpoch: 15).milestones, [13, 34])
        // Finished: the rate never rises again.
        let finished = twenty.extended(toEpochs: 30, currentEpoch: 20)
        XCTAssertEqual(finished.milestones, [13, 17])
        XCTAssertEqual(finished.epochs, 30)
        var withWarmup = twenty
        withWarmup.warmupSteps = 42
        XCTAssertEqual(withWarmup.extended(toEpochs: 30, currentEpoch: 20).warmupSteps, 42, "warm-up is fixed at the start")
    }
}
