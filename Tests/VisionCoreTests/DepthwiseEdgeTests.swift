// The fast depthwise kernel against the naive reference, on shapes chosen to hit
// the edges of vectorised kernels: row widths around multiples of 8, odd widths with stride 2,
// paddings 0..2, dilation with stride 2 (no de-interleave), stride 3 (lane
// gathers), non-square kernels, channel multipliers and batches > 1.

import VisionCore
import XCTest

final class DepthwiseEdgeTests: XCTestCase {
    struct Case {
        var input: [Int]      // [N, C, H, W]
        var multiplier = 1
        var kernel: (h: Int, w: Int)
        var parameters: Conv2DParameters

        /// Random input, weight [Cout, 1, kH, kW] and bias [Cout] (nil unless `withBias`),
        /// seeded with seed, seed + 100 and seed + 200.
        func tensors(seed: UInt64, withBias: Bool) -> (input: Tensor, weight: Tensor, bias: Tensor?) {
            let cout = input[1] * multiplier
            return (randomTensor(input, seed: seed),
                    randomTensor([cout, 1, kernel.h, kernel.w], seed: seed + 100, scale: 0.5),
                    withBias ? randomTensor([cout], seed: seed + 200) : nil)
        }
    }

    static func dw(_ input: [Int], k: Int, s: Int, p: Int, d: Int = 1, multiplier: Int = 1) -> Case {
        Case(input: input, multiplier: multiplier, kernel: (k, k),
             parameters: .init(stride: s, padding: p, dilation: d, groups: input[1]))
    }

    static let cases: [Case] = [
        dw([1, 3, 5, 8], k: 3, s: 1, p: 1),          // interior 6: scalar only
        dw([1, 3, 5, 10], k: 3, s: 1, p: 1),         // interior 8: one chunk
        dw([2, 4, 7, 19], k: 3, s: 1, p: 1),         // chunks + tail, batch 2
        dw([1, 5, 9, 33], k: 5, s: 1, p: 2),
        dw([1, 3, 6, 24], k: 3, s: 1, p: 0),         // no padding
        dw([1, 4, 11, 35], k: 3, s: 2, p: 1),        // odd width, stride 2
        dw([2, 3, 10, 36], k: 3, s: 2, p: 1),        // even width, stride 2, batch 2
        dw([1, 6, 13, 41], k: 5, s: 2, p: 2),
        dw([1, 2, 12, 40], k: 5, s: 2, p: 0),
        dw([1, 3, 9, 37], k: 3, s: 2, p: 0),
        dw([1, 4, 12, 45], k: 3, s: 2, p: 2, d: 2),  // stride 2 with dilation: lane gathers
        dw([1, 3, 10, 50], k: 3, s: 3, p: 1),        // stride 3: lane gathers
        dw([1, 3, 9, 30], k: 3, s: 1, p: 2, d: 2),   // dilation 2, stride 1
        dw([1, 4, 9, 34], k: 3, s: 2, p: 1, multiplier: 2),
        dw([3, 2, 6, 17], k: 5, s: 1, p: 2, multiplier: 3),
        dw([1, 2, 2, 3], k: 5, s: 2, p: 2),          // tiny: every output a border
        Case(input: [1, 3, 8, 29], kernel: (3, 5),
             parameters: .init(strideH: 1, strideW: 2, padH: 1, padW: 2, dilationH: 1, dilationW: 1, groups: 3)),
        Case(input: [2, 3, 11, 26], kernel: (5, 3),
             parameters: .init(strideH: 2, strideW: 1, padH: 2, padW: 1, dilationH: 1, dilationW: 1, groups: 3)),
    ]

    func testDepthwiseMatchesReferenceAtEdges() {
        let cpu = CPUBackend(), reference = ReferenceBackend()
        var worst: Float = 0
        for (i, c) in Self.cases.enumerated() {
            let (input, weight, bias) = c.tensors(seed: UInt64(500 + i), withBias: i % 3 != 2)
            let activation = allActivations[i % allActivations.count]
            let fast = cpu.conv2d(input, cpu.prepareConv2D(weight: weight, bias: bias, parameters: c.parameters),
                                  activation: activation)
            let slow = reference.conv2d(input, reference.prepareConv2D(weight: weight, bias: bias, parameters: c.parameters),
                                        activation: activation)
            let d = assertClose(fast, slow, "depthwise \(c.input) k\(c.kernel) \(c.parameters) x\(c.multiplier) \(activation)")
            worst = max(worst, d.maxAbs)
        }
        print("DepthwiseEdgeTests: worst max abs diff \(worst)")
    }
}
