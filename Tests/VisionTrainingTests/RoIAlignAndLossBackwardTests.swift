// RoIAlign backward (fast against torchvision-order reference, both against finite
// differences) and the loss kernels' gradients against finite differences.
//
// RoIAlign is linear in the features, so FD with step 1e-2 is exact up to Float32
// rounding (tolerance 3e-3 of max(1, |grad|)). The losses are smooth away from
// smooth-L1's kinks at ±beta (test points keep 0.01 away); step 1e-3, where the
// curvature error is below 1e-6 and Float32 rounding of the Double-summed loss ~1e-4.

import VisionCore
import VisionDetection
import VisionKernels
import XCTest

final class RoIAlignAndLossBackwardTests: XCTestCase {
    let boxes: [Float] = [1, 2, 15, 12,   0, 0, 21, 17,   5.5, 3.2, 9.1, 7.7,   -3, 4, 30, 25,   10, 10, 10.5, 10.2,
                          18, 1, 40, 19]
    let batchIndices = [0, 1, 0, 1, 0, 1]

    func testFastMatchesReferenceAndFiniteDifferences() {
        var rng = TestRandom(31)
        let (n, c, h, w, s) = (2, 3, 9, 11, 3)
        for (ratio, scale) in [(2, Float(0.5)), (0, Float(0.25)), (1, Float(1))] {
            let g = RoIAlignGeometry(batch: n, channels: c, height: h, width: w, pooledHeight: s, pooledWidth: s,
                                     spatialScale: scale, samplingRatio: ratio)
            let k = boxes.count / 4
            let r = rng.array(k * c * s * s)
            var fast = [Float](repeating: 0, count: n * c * h * w), slow = fast
            roiAlignBackward(gradOutput: r, gradInput: &fast, boxes: boxes, batchIndices: batchIndices, roiCount: k, geometry: g, threads: .allCores)
            roiAlignBackwardReference(gradOutput: r, gradInput: &slow, boxes: boxes, batchIndices: batchIndices, roiCount: k, geometry: g)
            assertClose(fast, slow, tolerance: 1e-5, "roiAlign ratio \(ratio) fast vs reference")
            var x = rng.array(n * c * h * w)
            let fd = finiteDifferences(&x, step: 1e-2) { v in
                let y = roiAlign(features: Tensor(shape: [n, c, h, w], values: v), boxes: Boxes(coordinates: self.boxes),
                                 batchIndices: self.batchIndices, outputHeight: s, outputWidth: s,
                                 spatialScale: scale, samplingRatio: ratio, threads: .allCores)
                return weightedSum(y.storage.pointer, r)
            }
            assertClose(fast, fd, tolerance: 3e-3, "roiAlign ratio \(ratio) vs FD")
        }
    }

    /// The fast form adds runs of channels at a time (channels-last): 37 channels split
    /// over 1, 2 and 3 threads, 7x7 bins, many overlapping RoIs, fixed and adaptive
    /// sampling, against the reference.
    func testFastMatchesReferenceOnManyChannels() {
        var rng = TestRandom(33)
        let (n, c, h, w, s) = (2, 37, 13, 19, 7)
        var boxes: [Float] = []
        var batchIndices: [Int] = []
        for i in 0..<24 {
            let x1 = rng.uniform(-4, 56), y1 = rng.uniform(-4, 36)
            boxes += [x1, y1, x1 + rng.uniform(2, 42), y1 + rng.uniform(2, 32)]
            batchIndices.append(i % 2)
        }
        for (ratio, scale) in [(2, Float(0.25)), (0, Float(0.5))] {
            let g = RoIAlignGeometry(batch: n, channels: c, height: h, width: w, pooledHeight: s, pooledWidth: s,
                                     spatialScale: scale, samplingRatio: ratio)
            let k = boxes.count / 4
            let r = rng.array(k * c * s * s)
            var slow = [Float](repeating: 0, count: n * c * h * w)
            roiAlignBackwardReference(gradOutput: r, gradInput: &slow, boxes: boxes, batchIndices: batchIndices, roiCount: k, geometry: g)
            for threads in [1, 2, 3] {
                var fast = [Float](repeating: 0, count: n * c * h * w)
                roiAlignBackward(gradOutput: r, gradInput: &fast, boxes: boxes, batchIndices: batchIndices, roiCount: k,
                                 geometry: g, threads: KernelThreads(threads))
                assertClose(fast, slow, tolerance: 1e-5, "roiAlign \(c) channels ratio \(ratio), \(threads) threads")
            }
        }
    }

    /// With `levels`, only the RoIs of the given level scatter.
    func testLevelSelection() {
        var rng = TestRandom(32)
        let g = RoIAlignGeometry(batch: 2, channels: 2, height: 9, width: 11, pooledHeight: 2, pooledWidth: 2,
                                 spatialScale: 0.5, samplingRatio: 2)
        let k = boxes.count / 4
        let r = rng.array(k * 2 * 4)
        let levels = [0, 1, 0, 1, 1, 0]
        var all = [Float](repeating: 0, count: 2 * 2 * 9 * 11), l0 = all, l1 = all
        roiAlignBackward(gradOutput: r, gradInput: &all, boxes: boxes, batchIndices: batchIndices, roiCount: k, geometry: g, threads: .allCores)
        roiAlignBackward(gradOutput: r, gradInput: &l0, boxes: boxes, batchIndices: batchIndices, roiCount: k,
                         levels: levels, level: 0, geometry: g, threads: .allCores)
        roiAlignBackward(gradOutput: r, gradInput: &l1, boxes: boxes, batchIndices: batchIndices, roiCount: k,
                         levels: levels, level: 1, geometry: g, threads: .allCores)
        assertClose(zip(l0, l1).map { $0 + $1 }, all, tolerance: 1e-6, "level 0 + level 1 = all")
        XCTAssertNotEqual(l0, all, "level selection must drop some RoIs")
    }

    func testLossGradientsAgainstFiniteDifferences() {
        var rng = TestRandom(33)
        // Cross-entropy over 7 rows x 5 classes.
        let rows = 7, classes = 5
        var logits = rng.array(rows * classes, -3, 3)
        let labels = (0..<rows).map { $0 % classes }
        var ceGrad = [Float](repeating: 0, count: logits.count)
        _ = softmaxCrossEntropy(logits: logits, labels: labels, rows: rows, classes: classes, gradLogits: &ceGrad, gradScale: 1.5)
        let fdCE = finiteDifferences(&logits, step: 1e-3) { v in
            1.5 * Double(softmaxCrossEntropy(logits: v, labels: labels, rows: rows, classes: classes, gradLogits: nil))
        }
        assertClose(ceGrad, fdCE, tolerance: 3e-3, "cross entropy vs FD")

        // BCE with logits, targets in {0, 1}.
        var x = rng.array(11, -4, 4)
        let y: [Float] = (0..<11).map { Float($0 % 2) }
        var bceGrad = [Float](repeating: 0, count: x.count)
        _ = binaryCrossEntropyWithLogits(logits: x, targets: y, count: x.count, gradLogits: &bceGrad, gradScale: 2)
        let fdBCE = finiteDifferences(&x, step: 1e-3) { v in
            2 * Double(binaryCrossEntropyWithLogits(logits: v, targets: y, count: v.count, gradLogits: nil))
        }
        assertClose(bceGrad, fdBCE, tolerance: 3e-3, "BCE with logits vs FD")

        // Smooth L1 (beta 1/9): both the quadratic and the linear part, away from the kinks.
        let beta: Float = 1.0 / 9
        let target = rng.array(13)
        var input = target.enumerated().map { i, t in t + (i % 2 == 0 ? 0.05 : 0.4) * (i % 3 == 0 ? -1 : 1) }
        var slGrad = [Float](repeating: 0, count: input.count)
        _ = smoothL1LossSum(input: input, target: target, count: input.count, beta: beta, gradInput: &slGrad, gradScale: 0.5)
        let fdSL = finiteDifferences(&input, step: 1e-3) { v in
            0.5 * Double(smoothL1LossSum(input: v, target: target, count: v.count, beta: beta, gradInput: nil))
        }
        assertClose(slGrad, fdSL, tolerance: 3e-3, "smooth L1 vs FD")
    }

    /// Loss values against closed forms computed here in Double.
    func testLossValues() {
        let logits: [Float] = [2, -1, 0.5, 0, 0, 0]
        let ce = softmaxCrossEntropy(logits: logits, labels: [0, 2], rows: 2, classes: 3, gradLogits: nil)
        let row0 = log(exp(2.0) + exp(-1.0) + exp(0.5)) - 2
        let row1 = log(3.0)
        assertRelative(ce, Float((row0 + row1) / 2), tolerance: 1e-6, "cross entropy value")
        let bce = binaryCrossEntropyWithLogits(logits: [3, -2], targets: [1, 1], count: 2, gradLogits: nil)
        assertRelative(bce, Float((log(1 + exp(-3.0)) + log(1 + exp(2.0))) / 2), tolerance: 1e-6, "BCE value")
        let sl = smoothL1LossSum(input: [0.05, 1], target: [0, 0], count: 2, beta: 1.0 / 9, gradInput: nil)
        assertRelative(sl, Float(0.5 * 0.05 * 0.05 * 9 + (1 - 0.5 / 9)), tolerance: 1e-6, "smooth L1 value")
    }
}
