// SGD (torch.optim.SGD semantics), the warm-up + MultiStepLR schedule, the matcher's
// special cases, the sampler, and tape mechanics (shared inputs, flattenPredictions).

import VisionCore
import VisionDetection
import VisionKernels
import VisionTraining
import XCTest

final class OptimizerAndTapeTests: XCTestCase {
    /// Two steps checked against torch.optim.SGD's update written out by hand:
    /// g' = g + wd p; buf = g' (first step) or mu buf + g'; p -= lr buf.
    func testSGDMatchesTorchUpdateRule() {
        let p = Variable(Tensor(shape: [3], values: [1, -2, 0.5]), requiresGrad: true)
        let sgd = SGD(parameters: [p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        var expected: [Double] = [1, -2, 0.5]
        var buffer: [Double] = [0, 0, 0]
        for (step, grad) in [[0.5, 0.25, -1], [0.1, -0.3, 0.2]].enumerated() {
            p.accumulateGrad(Tensor(shape: [3], values: grad.map(Float.init)), backend: CPUBackend())
            sgd.step()
            sgd.zeroGrad()
            for i in 0..<3 {
                let g = grad[i] + 0.01 * expected[i]
                buffer[i] = step == 0 ? g : 0.9 * buffer[i] + g
                expected[i] -= 0.1 * buffer[i]
            }
            assertClose(p.value.values, expected, tolerance: 1e-6, "SGD after step \(step + 1)")
        }
        XCTAssertNil(p.grad)
        // A parameter without a gradient is left alone (torch skips grad None).
        let before = p.value.values
        sgd.step()
        XCTAssertEqual(p.value.values, before)
    }

    func testLearningRateSchedule() {
        let s = LearningRateSchedule(baseLearningRate: 0.02, milestones: [16, 22], gamma: 0.1,
                                     warmupFactor: 1.0 / 1000, warmupIterations: 100)
        XCTAssertEqual(s.learningRate(epoch: 0, iteration: 0), 0.02 / 1000, accuracy: 1e-9)
        XCTAssertEqual(s.learningRate(epoch: 0, iteration: 50), 0.02 * (0.001 * 0.5 + 0.5), accuracy: 1e-8)
        XCTAssertEqual(s.learningRate(epoch: 0, iteration: 100), 0.02, accuracy: 1e-9)
        XCTAssertEqual(s.learningRate(epoch: 15, iteration: 0), 0.02, accuracy: 1e-9)
        XCTAssertEqual(s.learningRate(epoch: 16, iteration: 0), 0.002, accuracy: 1e-9)
        XCTAssertEqual(s.learningRate(epoch: 22, iteration: 3), 0.0002, accuracy: 1e-10)
        XCTAssertEqual(LearningRateSchedule.warmupIterations(iterationsPerEpoch: 50), 49)
        XCTAssertEqual(LearningRateSchedule.warmupIterations(iterationsPerEpoch: 5000), 1000)
    }

    func testMatcherThresholdsAndLowQualityMatches() {
        // 2 GT x 4 predictions.
        let quality: [Float] = [0.8, 0.5, 0.1, 0.2,
                                0.1, 0.6, 0.25, 0.2]
        let strict = Matcher(highThreshold: 0.7, lowThreshold: 0.3, allowLowQualityMatches: false)
        XCTAssertEqual(strict.match(quality: quality, groundTruthCount: 2, predictionCount: 4), [0, -2, -1, -1])
        // GT 1's best is 0.6 (prediction 1): kept as a match to GT 1. GT 0's best is prediction 0.
        XCTAssertEqual(Matcher.rpn.match(quality: quality, groundTruthCount: 2, predictionCount: 4), [0, 1, -1, -1])
        // Ties: both predictions reaching GT 0's highest quality (0.2) keep their match; the max
        // over GT picks the first GT on equal quality, so prediction 0 stays with GT 0 although
        // it is also GT 1's best. Prediction 2 (0.15 < 0.3) is nobody's best: background.
        let ties: [Float] = [0.2, 0.2, 0.1,
                             0.2, 0.1, 0.15]
        XCTAssertEqual(Matcher.rpn.match(quality: ties, groundTruthCount: 2, predictionCount: 3), [0, 0, -1])
        XCTAssertEqual(Matcher.rpn.match(quality: [], groundTruthCount: 0, predictionCount: 2), [-1, -1])
    }

    func testBoxIoU() {
        let a = Boxes(coordinates: [0, 0, 10, 10, 5, 5, 15, 15])
        let b = Boxes(coordinates: [0, 0, 10, 10, 20, 20, 30, 30, 5, 0, 15, 10])
        let iou = boxIoU(a, b)
        XCTAssertEqual(iou.count, 6)
        XCTAssertEqual(iou[0], 1); XCTAssertEqual(iou[1], 0); XCTAssertEqual(iou[2], 50.0 / 150, accuracy: 1e-7)
        XCTAssertEqual(iou[3], 25.0 / 175, accuracy: 1e-7)
    }

    func testSamplerCountsAndReplay() {
        let labels = [[1, 0, 0, -1, 2, 0, 0, 1], [0, 0, -1]]
        let sampler = BalancedPositiveNegativeSampler(batchSizePerImage: 4, positiveFraction: 0.25)
        // Image 0: 3 positives (0, 4, 7) -> 1 kept; 4 negatives (1, 2, 5, 6) -> 3 kept.
        var replay = RecordedPermutations([[2, 0, 1], [3, 1, 0, 2], [], [1, 0]])
        let s = sampler.sample(labels, permutations: &replay)
        XCTAssertEqual(s[0].positive, [7])
        XCTAssertEqual(s[0].negative, [1, 2, 6])
        XCTAssertEqual(s[1].positive, [])
        XCTAssertEqual(s[1].negative, [0, 1])
        var seeded = SeededPermutations(seed: 7)
        let random = sampler.sample(labels, permutations: &seeded)
        XCTAssertEqual(random[0].positive.count, 1)
        XCTAssertEqual(random[0].negative.count, 3)
        XCTAssertEqual(Set(seeded.permutation(10)), Set(0..<10))
    }

    /// A variable feeding two ops (like the RPN head over FPN levels) gets both gradients.
    func testSharedInputAccumulates() {
        let w = Variable(Tensor(shape: [2], values: [3, -1]), requiresGrad: true)
        let a = Variable(Tensor(shape: [2], values: [2, 5]))
        let tape = Tape(threads: .allCores)
        let y1 = tape.multiply(w, a)
        let y2 = tape.add(y1, w)
        let y3 = tape.multiply(y2, w)  // y3 = (w*a + w) * w; dy3/dw = 2 w a + 2 w
        tape.backward([(y3, Tensor(shape: [2], repeating: 1))])
        let expected: [Float] = [18, -12]  // 2*3*2 + 2*3, 2*(-1)*5 + 2*(-1)
        XCTAssertEqual(w.grad?.values, expected)
        XCTAssertEqual(tape.count, 0)
    }

    /// flattenPredictions reorders [N, A*V, H, W] levels into torchvision's (image, level, y, x, a)
    /// rows, and its backward is the exact inverse scatter.
    func testFlattenPredictionsOrderAndGradient() {
        let l0 = Variable(Tensor(shape: [2, 4, 2, 3], values: (0..<48).map(Float.init)), requiresGrad: true)
        let l1 = Variable(Tensor(shape: [2, 4, 1, 2], values: (100..<116).map(Float.init)), requiresGrad: true)
        let tape = Tape(threads: .allCores)
        let flat = tape.flattenPredictions([l0, l1], valuesPerAnchor: 2)  // A = 2 anchors, V = 2 values
        XCTAssertEqual(flat.shape, [2 * (12 + 4), 2])
        let v = flat.value.values
        // Image 0, level 0, pixel 0, anchor 0: channels 0, 1 at pixel 0 -> 0, 6.
        XCTAssertEqual(Array(v[0..<2]), [0, 6])
        // Image 0, level 0, pixel 0, anchor 1: channels 2, 3 -> 12, 18.
        XCTAssertEqual(Array(v[2..<4]), [12, 18])
        // Image 0, level 1, pixel 1, anchor 1: row 12 + 1*2 + 1 = 15; channels 2, 3 at pixel 1 -> 105, 107.
        XCTAssertEqual(Array(v[30..<32]), [105, 107])
        // Image 1 starts at row 16: level 0 pixel 0 anchor 0 -> 24, 30.
        XCTAssertEqual(Array(v[32..<34]), [24, 30])
        let seed = Tensor(shape: flat.shape, values: (0..<64).map { Float($0) })
        tape.backward([(flat, seed)])
        // Each input element receives exactly the seed value of the row it was copied to.
        var recovered = [Float](repeating: 0, count: 64)
        for (i, value) in v.enumerated() {
            let grad = value < 100 ? l0.grad!.values[Int(value)] : l1.grad!.values[Int(value) - 100]
            recovered[i] = grad
        }
        XCTAssertEqual(recovered, (0..<64).map(Float.init))
    }
}
