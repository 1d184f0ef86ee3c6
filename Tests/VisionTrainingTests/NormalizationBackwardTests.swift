// BatchNorm2d (training mode: batch statistics) and GroupNorm on the tape, against a
// plain Double reference written from the definitions: forward values, and every
// gradient (input, weight, bias) against central finite differences of the reference
// (objective sum(y * R)). The statistics depend on x, so these gradients are the full
// ones torch computes, not a frozen affine's. Odd shapes, a single-pixel map and
// group counts of 1 and C included.

import VisionCore
import VisionTraining
import XCTest

final class NormalizationBackwardTests: XCTestCase {
    /// y[n, c, i] = (x - mean_s) / sqrt(var_s + eps) * w[c] + b[c], s = the statistic of (n, c):
    /// `groupOf(n, c)`; mean and biased variance over every (n', c', i) with the same statistic.
    static func reference(_ x: [Double], shape: [Int], w: [Double], b: [Double], eps: Double,
                          groupOf: (Int, Int) -> Int) -> [Double] {
        let (n, c, plane) = (shape[0], shape[1], shape[2] * shape[3])
        var sums: [Int: (sum: Double, count: Double)] = [:]
        for i in 0..<n { for j in 0..<c { for k in 0..<plane {
            let s = groupOf(i, j), v = x[(i * c + j) * plane + k]
            sums[s, default: (0, 0)].sum += v
            sums[s, default: (0, 0)].count += 1
        } } }
        var squares: [Int: Double] = [:]
        for i in 0..<n { for j in 0..<c { for k in 0..<plane {
            let s = groupOf(i, j), d = x[(i * c + j) * plane + k] - sums[s]!.sum / sums[s]!.count
            squares[s, default: 0] += d * d
        } } }
        var y = [Double](repeating: 0, count: x.count)
        for i in 0..<n { for j in 0..<c { for k in 0..<plane {
            let s = groupOf(i, j), m = sums[s]!.sum / sums[s]!.count, v = squares[s]! / sums[s]!.count
            let idx = (i * c + j) * plane + k
            y[idx] = (x[idx] - m) / (v + eps).squareRoot() * w[j] + b[j]
        } } }
        return y
    }

    /// Central differences of sum(reference * r) in Double, step h, for each element of `values`.
    static func differences(_ values: [Double], step h: Double, _ loss: ([Double]) -> Double) -> [Double] {
        values.indices.map { i in
            var plus = values, minus = values
            plus[i] += h
            minus[i] -= h
            return (loss(plus) - loss(minus)) / (2 * h)
        }
    }

    /// Runs `op` on the tape with x, w, b as parameters and seed R; compares y and the three
    /// gradients with the reference and its finite differences.
    func check(_ shape: [Int], eps: Float, seed: UInt64, _ what: String, groupOf: @escaping (Int, Int) -> Int,
               op: (Tape, Variable, Variable, Variable) -> Variable) {
        var rng = TestRandom(seed)
        let count = shape.reduce(1, *), c = shape[1]
        // Per-channel offsets and scales, so statistics differ between channels and groups.
        let x = (0..<count).map { i -> Float in
            let ch = (i / (shape[2] * shape[3])) % c
            return rng.uniform(-1, 1) * Float(1 + ch % 3) + Float(ch) * 0.3
        }
        let w = rng.array(c, 0.5, 1.5), b = rng.array(c), r = rng.array(count)
        let tape = Tape(backend: CPUBackend(threads: .allCores))
        let xv = Variable(Tensor(shape: shape, values: x), requiresGrad: true)
        let wv = Variable(Tensor(shape: [c], values: w), requiresGrad: true)
        let bv = Variable(Tensor(shape: [c], values: b), requiresGrad: true)
        let y = op(tape, xv, wv, bv)
        tape.backward([(y, Tensor(shape: shape, values: r))])

        let xd = x.map(Double.init), wd = w.map(Double.init), bd = b.map(Double.init), rd = r.map(Double.init)
        func loss(_ x: [Double], _ w: [Double], _ b: [Double]) -> Double {
            let out = Self.reference(x, shape: shape, w: w, b: b, eps: Double(eps), groupOf: groupOf)
            return zip(out, rd).reduce(0) { $0 + $1.0 * $1.1 }
        }
        assertClose(y.value.values, Self.reference(xd, shape: shape, w: wd, b: bd, eps: Double(eps), groupOf: groupOf),
                    tolerance: 1e-5, "\(what) \(shape) forward vs reference")
        let h = 1e-4
        assertClose(xv.grad?.values ?? [], Self.differences(xd, step: h) { loss($0, wd, bd) }, tolerance: 1e-4,
                    "\(what) \(shape) dX vs FD")
        assertClose(wv.grad?.values ?? [], Self.differences(wd, step: h) { loss(xd, $0, bd) }, tolerance: 1e-4,
                    "\(what) \(shape) dWeight vs FD")
        assertClose(bv.grad?.values ?? [], Self.differences(bd, step: h) { loss(xd, wd, $0) }, tolerance: 1e-4,
                    "\(what) \(shape) dBias vs FD")
    }

    func testBatchNormTrainingModeGradientsMatchFiniteDifferences() {
        // [N, C, H, W]: odd sizes, one image, a 1x1 map with two images (M = 2).
        for (k, shape) in [[3, 5, 7, 3], [1, 4, 5, 9], [2, 3, 1, 1]].enumerated() {
            check(shape, eps: 1e-5, seed: 40 + UInt64(k), "batch norm", groupOf: { _, c in c }) { tape, x, w, b in
                let r = tape.batchNorm(x, weight: w, bias: b, eps: 1e-5)
                // The statistics returned for the running update: the batch mean and biased variance.
                XCTAssertEqual(r.mean.count, shape[1])
                XCTAssertEqual(r.variance.count, shape[1])
                return r.output
            }
        }
    }

    func testBatchNormStatisticsAreTheBatchMeanAndBiasedVariance() {
        // Channel 0: 1, 2, 3, 4 over two images of 1x2; channel 1: constant 5.
        let x = Tensor(shape: [2, 2, 1, 2], values: [1, 2, 5, 5, 3, 4, 5, 5])
        let tape = Tape(backend: CPUBackend(threads: .single))
        let r = tape.batchNorm(Variable(x), weight: Variable(Tensor(shape: [2], values: [1, 2])),
                               bias: Variable(Tensor(shape: [2], values: [0, 7])), eps: 0)
        XCTAssertEqual(r.mean.values, [2.5, 5])
        XCTAssertEqual(r.variance.values, [1.25, 0])
        // Channel 1 has zero variance and eps 0: 0 / 0 would be NaN, torch gives NaN too; check channel 0.
        let y = r.output.value.values
        XCTAssertEqual(Double(y[0]), -1.5 / 1.25.squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(Double(y[5]), 1.5 / 1.25.squareRoot(), accuracy: 1e-6)
    }

    func testGroupNormGradientsMatchFiniteDifferences() {
        // (shape, groups): groups of 2 channels, one group (layer norm over C, H, W), one channel per group.
        for (k, (shape, groups)) in [([2, 6, 5, 3], 3), ([3, 4, 3, 5], 1), ([2, 5, 3, 3], 5), ([1, 6, 1, 7], 2)].enumerated() {
            let perGroup = shape[1] / groups
            check(shape, eps: 1e-5, seed: 50 + UInt64(k), "group norm (\(groups) groups)",
                  groupOf: { n, c in n * groups + c / perGroup }) { tape, x, w, b in
                tape.groupNorm(x, weight: w, bias: b, groups: groups, eps: 1e-5)
            }
        }
    }
}
