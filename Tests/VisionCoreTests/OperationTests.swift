// Linear, pooling, resize, element-wise, softmax, concat and top-k on the CPU
// backend, against reference kernels or hand-computed / PyTorch-derived values.

import Foundation
import VisionCore
import XCTest

final class OperationTests: XCTestCase {
    let cpu = CPUBackend()
    let reference = ReferenceBackend()

    func testLinearMatchesReference() {
        for (i, (n, inF, outF)) in [(1, 7, 5), (13, 64, 33), (100, 300, 91)].enumerated() {
            let input = randomTensor([n, inF], seed: UInt64(10 + i))
            let weight = randomTensor([outF, inF], seed: UInt64(20 + i))
            let bias = i == 1 ? nil : randomTensor([outF], seed: UInt64(30 + i))
            let activation = allActivations[(i * 2 + 1) % allActivations.count]
            let fast = cpu.linear(input, cpu.prepareLinear(weight: weight, bias: bias), activation: activation)
            let slow = reference.linear(input, reference.prepareLinear(weight: weight, bias: bias), activation: activation)
            assertClose(fast, slow, "linear \(n)x\(inF)->\(outF) \(activation)")
        }
    }

    func testMaxPoolMatchesReference() {
        for (kernel, stride, padding, shape) in [(3, 2, 1, [2, 3, 11, 14]), (1, 2, 0, [1, 4, 9, 7]), (3, 2, 1, [1, 2, 8, 8]), (2, 2, 0, [1, 1, 5, 5])] {
            let input = randomTensor(shape, seed: UInt64(shape.reduce(0, +)))
            let fast = cpu.maxPool2d(input, kernel: kernel, stride: stride, padding: padding)
            let slow = reference.maxPool2d(input, kernel: kernel, stride: stride, padding: padding)
            assertClose(fast, slow, tolerance: 0, "maxpool k\(kernel) s\(stride) p\(padding) \(shape)")
        }
        // Padding is -inf: an all-negative input keeps negative maxima at the border.
        let negative = Tensor(shape: [1, 1, 2, 2], values: [-4, -3, -2, -1])
        XCTAssertEqual(cpu.maxPool2d(negative, kernel: 3, stride: 2, padding: 1).values, [-1])
        // k1 s2 (FPN's LastLevelMaxPool) is a subsample.
        let grid = Tensor(shape: [1, 1, 3, 3], values: (0..<9).map(Float.init))
        XCTAssertEqual(cpu.maxPool2d(grid, kernel: 1, stride: 2, padding: 0).values, [0, 2, 6, 8])
    }

    func testUpsampleNearestMatchesTorchIndices() {
        // Source indices printed by torch.nn.functional.interpolate(size=, mode="nearest").
        let torchIndices: [(Int, Int, [Int])] = [
            (5, 7, [0, 0, 1, 2, 2, 3, 4]),
            (7, 5, [0, 1, 2, 4, 5]),
            (13, 25, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12]),
            (3, 8, [0, 0, 0, 1, 1, 1, 2, 2]),
            (10, 3, [0, 3, 6]),
        ]
        for (inSize, outSize, expected) in torchIndices {
            // Rows index along H, columns along W: check both axes at once.
            let input = Tensor(shape: [1, 1, inSize, inSize], values: (0..<(inSize * inSize)).map(Float.init))
            let out = cpu.upsampleNearest(input, height: outSize, width: outSize)
            XCTAssertEqual(out.shape, [1, 1, outSize, outSize])
            let values = out.values
            var mismatches = 0
            for y in 0..<outSize {
                for x in 0..<outSize where values[y * outSize + x] != Float(expected[y] * inSize + expected[x]) {
                    mismatches += 1
                }
            }
            print("upsample nearest \(inSize)->\(outSize): \(mismatches) mismatched pixels")
            XCTAssertEqual(mismatches, 0, "upsample \(inSize)->\(outSize)")
        }
        let nonSquare = cpu.upsampleNearest(randomTensor([2, 3, 5, 7], seed: 4), height: 13, width: 10)
        XCTAssertEqual(nonSquare.shape, [2, 3, 13, 10])
    }

    func testSoftmaxMatchesReferenceAndIsStable() {
        let input = randomTensor([7, 91], seed: 5, scale: 20)
        assertClose(cpu.softmax(input), reference.softmax(input), tolerance: 1e-5, "softmax [7, 91]")
        let huge = Tensor(shape: [1, 3], values: [1000, 1000, 999])
        let s = cpu.softmax(huge).values
        XCTAssertFalse(s.contains { $0.isNaN }, "softmax overflowed: \(s)")
        let e = Float(exp(-1.0))
        XCTAssertEqual(s[0], 1 / (2 + e), accuracy: 1e-6)
        XCTAssertEqual(s.reduce(0, +), 1, accuracy: 1e-6)
    }

    func testTopKSortsDescendingWithTiesByLowerIndex() {
        let x = Tensor(shape: [8], values: [1, 3, 3, 2, 5, 5, 0, 5])
        let (values, indices) = cpu.topK(x, k: 5)
        XCTAssertEqual(values, [5, 5, 5, 3, 3])
        XCTAssertEqual(indices, [4, 5, 7, 1, 2])
        XCTAssertEqual(cpu.topK(x, k: 20).indices, [4, 5, 7, 1, 2, 3, 0, 6])
        XCTAssertEqual(cpu.topK(x, k: 0).indices, [])
        // Many ties, larger input: heap selection agrees with a full stable sort.
        let many = Tensor(shape: [5000], values: (0..<5000).map { Float(($0 * 7919) % 97) })
        let fast = cpu.topK(many, k: 300), slow = reference.topK(many, k: 300)
        XCTAssertEqual(fast.indices, slow.indices)
        XCTAssertEqual(fast.values, slow.values)
    }

    func testActivationsMatchFormulas() {
        let xs: [Float] = [-7, -3.5, -3, -1.25, -0.5, 0, 0.3, 1, 2.9, 3, 4.5, 6, 6.5, 10]
        let input = Tensor(shape: [xs.count], values: xs)
        func relu6(_ x: Double) -> Double { min(max(x, 0), 6) }
        let formulas: [(Activation, (Double) -> Double)] = [
            (.identity, { $0 }),
            (.relu, { max($0, 0) }),
            (.relu6, relu6),
            (.hardswish, { $0 * relu6($0 + 3) / 6 }),
            (.hardsigmoid, { relu6($0 + 3) / 6 }),
            (.sigmoid, { 1 / (1 + exp(-$0)) }),
        ]
        for (activation, formula) in formulas {
            let expected = Tensor(shape: [xs.count], values: xs.map { Float(formula(Double($0))) })
            assertClose(cpu.activate(input, activation), expected, tolerance: 1e-6, "activation \(activation)")
        }
    }

    func testElementwiseOps() {
        let a = randomTensor([2, 3, 40, 50], seed: 61), b = randomTensor([2, 3, 40, 50], seed: 62)
        let av = a.values, bv = b.values
        let sum = Tensor(shape: a.shape, values: zip(av, bv).map { max($0 + $1, 0) })
        assertClose(cpu.add(a, b, activation: .relu), sum, tolerance: 0, "add+relu")
        let product = Tensor(shape: a.shape, values: zip(av, bv).map { $0 * $1 })
        assertClose(cpu.multiply(a, b), product, tolerance: 0, "multiply")

        let scale = randomTensor([2, 3, 1, 1], seed: 63)
        let scaled = Tensor(shape: a.shape, values: av.enumerated().map { $1 * scale[flat: $0 / 2000] })
        assertClose(cpu.scaleChannels(a, by: scale), scaled, tolerance: 0, "scaleChannels")

        let gap = cpu.globalAveragePool(a)
        XCTAssertEqual(gap.shape, [2, 3, 1, 1])
        let means = (0..<6).map { p in Float(av[(p * 2000)..<((p + 1) * 2000)].reduce(0.0) { $0 + Double($1) } / 2000) }
        assertClose(gap, Tensor(shape: [2, 3, 1, 1], values: means), tolerance: 1e-6, "globalAveragePool")
    }

    func testConcat() {
        let a = Tensor(shape: [2, 1, 2], values: [1, 2, 3, 4])
        let b = Tensor(shape: [2, 2, 2], values: [5, 6, 7, 8, 9, 10, 11, 12])
        let c = cpu.concat([a, b], axis: 1)
        XCTAssertEqual(c.shape, [2, 3, 2])
        XCTAssertEqual(c.values, [1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12])
        let d = cpu.concat([a, a], axis: 0)
        XCTAssertEqual(d.shape, [4, 1, 2])
        XCTAssertEqual(d.values, [1, 2, 3, 4, 1, 2, 3, 4])
        XCTAssertEqual(cpu.concat([a, a], axis: -1).values, [1, 2, 1, 2, 3, 4, 3, 4])
    }
}
