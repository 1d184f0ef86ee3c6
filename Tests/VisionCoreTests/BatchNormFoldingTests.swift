// Folding a frozen batch norm into the conv must match conv followed by the
// batch norm applied as torchvision's FrozenBatchNorm2d computes it.

import Foundation
import VisionCore
import XCTest

final class BatchNormFoldingTests: XCTestCase {
    func runFolding(convBias: Bool, eps: Float, activation: Activation) {
        let cout = 6
        let input = randomTensor([2, 4, 9, 8], seed: 1)
        let weight = randomTensor([cout, 4, 3, 3], seed: 2)
        let bias = convBias ? randomTensor([cout], seed: 3) : nil
        let gamma = randomTensor([cout], seed: 4, scale: 2)
        let beta = randomTensor([cout], seed: 5)
        let mean = randomTensor([cout], seed: 6)
        let variance = Tensor(shape: [cout], values: randomTensor([cout], seed: 7).values.map { abs($0) + 0.1 })
        let parameters = Conv2DParameters(stride: 2, padding: 1)

        // Unfolded: reference conv, then FrozenBatchNorm2d's scale/shift, then activation.
        let reference = ReferenceBackend()
        let conv = reference.conv2d(input, reference.prepareConv2D(weight: weight, bias: bias, parameters: parameters), activation: .identity)
        let plane = conv.shape[2] * conv.shape[3]
        var expected = conv.values
        for i in 0..<expected.count {
            let c = (i / plane) % cout
            let scale = gamma[flat: c] * (1 / (variance[flat: c] + eps).squareRoot())
            let shift = beta[flat: c] - mean[flat: c] * scale
            expected[i] = activation == .relu ? max(expected[i] * scale + shift, 0) : expected[i] * scale + shift
        }

        let folded = foldBatchNorm(weight: weight, bias: bias, gamma: gamma, beta: beta,
                                   runningMean: mean, runningVar: variance, eps: eps)
        XCTAssertEqual(folded.weight.shape, weight.shape)
        XCTAssertEqual(folded.bias.shape, [cout])
        let cpu = CPUBackend()
        let actual = cpu.conv2d(input, cpu.prepareConv2D(weight: folded.weight, bias: folded.bias, parameters: parameters),
                                activation: activation)
        assertClose(actual, Tensor(shape: conv.shape, values: expected),
                    "folded BN conv bias=\(convBias) eps=\(eps) \(activation)")
    }

    func testFoldedConvMatchesConvThenFrozenBatchNorm() {
        runFolding(convBias: false, eps: 0, activation: .relu)
        runFolding(convBias: false, eps: 1e-5, activation: .identity)
        runFolding(convBias: true, eps: 1e-5, activation: .relu)
    }

    func testFoldedParametersFollowFrozenBatchNormFormula() {
        let weight = Tensor(shape: [1, 1, 1, 2], values: [1, -2])
        let folded = foldBatchNorm(
            weight: weight, bias: nil,
            gamma: Tensor(shape: [1], values: [3]), beta: Tensor(shape: [1], values: [0.5]),
            runningMean: Tensor(shape: [1], values: [2]), runningVar: Tensor(shape: [1], values: [4]), eps: 0)
        // scale = 3 / sqrt(4) = 1.5; bias = 0.5 - 2 * 1.5 = -2.5
        XCTAssertEqual(folded.weight.values, [1.5, -3])
        XCTAssertEqual(folded.bias.values, [-2.5])
    }
}
