// Fast conv2d (im2col + sgemm, pointwise sgemm, direct depthwise) against the
// naive reference on odd shapes; every activation is used at least once.

import VisionCore
import XCTest

final class Conv2DTests: XCTestCase {
    struct Case {
        var name: String
        var input: [Int]          // [N, Cin, H, W]
        var cout: Int
        var kernel: (h: Int, w: Int)
        var parameters: Conv2DParameters
        var bias = true
    }

    static let cases: [Case] = [
        Case(name: "3x3 s2 p1", input: [1, 5, 11, 9], cout: 7, kernel: (3, 3), parameters: .init(stride: 2, padding: 1)),
        Case(name: "3x3 s1 p1 batch 3", input: [3, 4, 8, 10], cout: 6, kernel: (3, 3), parameters: .init(stride: 1, padding: 1)),
        Case(name: "3x3 dilation 2 p2", input: [1, 3, 13, 12], cout: 5, kernel: (3, 3), parameters: .init(padding: 2, dilation: 2)),
        Case(name: "3x3 groups 2", input: [2, 6, 9, 7], cout: 8, kernel: (3, 3), parameters: .init(padding: 1, groups: 2)),
        Case(name: "3x3 s2 groups 4", input: [1, 8, 10, 11], cout: 12, kernel: (3, 3), parameters: .init(stride: 2, padding: 1, groups: 4)),
        Case(name: "depthwise 3x3 s1", input: [2, 16, 14, 13], cout: 16, kernel: (3, 3), parameters: .init(padding: 1, groups: 16)),
        Case(name: "depthwise 3x3 s2", input: [1, 24, 15, 17], cout: 24, kernel: (3, 3), parameters: .init(stride: 2, padding: 1, groups: 24)),
        Case(name: "depthwise 5x5 s1", input: [1, 10, 12, 19], cout: 10, kernel: (5, 5), parameters: .init(padding: 2, groups: 10)),
        Case(name: "depthwise 5x5 s2", input: [2, 12, 21, 16], cout: 12, kernel: (5, 5), parameters: .init(stride: 2, padding: 2, groups: 12)),
        Case(name: "depthwise multiplier 2", input: [1, 4, 9, 9], cout: 8, kernel: (3, 3), parameters: .init(padding: 1, groups: 4)),
        Case(name: "depthwise 3x3 dilation 2 no bias", input: [1, 6, 11, 10], cout: 6, kernel: (3, 3),
             parameters: .init(padding: 2, dilation: 2, groups: 6), bias: false),
        Case(name: "depthwise 5x5 on 3x2 (no interior)", input: [1, 3, 3, 2], cout: 3, kernel: (5, 5), parameters: .init(padding: 2, groups: 3)),
        Case(name: "depthwise 3x3 wide rows", input: [1, 8, 6, 70], cout: 8, kernel: (3, 3), parameters: .init(padding: 1, groups: 8)),
        Case(name: "depthwise 5x5 s2 wide rows", input: [1, 8, 9, 77], cout: 8, kernel: (5, 5), parameters: .init(stride: 2, padding: 2, groups: 8)),
        Case(name: "non-square 3x5 on 9x14", input: [1, 3, 9, 14], cout: 4, kernel: (3, 5),
             parameters: .init(strideH: 1, strideW: 2, padH: 1, padW: 2, dilationH: 1, dilationW: 1, groups: 1)),
        Case(name: "non-square 1x7 and 7x1", input: [2, 4, 8, 12], cout: 3, kernel: (7, 1),
             parameters: .init(strideH: 1, strideW: 1, padH: 3, padW: 0, dilationH: 1, dilationW: 1, groups: 1)),
        Case(name: "1x1 s1", input: [2, 32, 7, 9], cout: 40, kernel: (1, 1), parameters: .init()),
        Case(name: "1x1 s1 no bias", input: [1, 17, 5, 6], cout: 9, kernel: (1, 1), parameters: .init(), bias: false),
        Case(name: "1x1 s2", input: [2, 16, 9, 11], cout: 24, kernel: (1, 1), parameters: .init(stride: 2)),
        Case(name: "7x7 s2 p3 stem", input: [1, 3, 37, 29], cout: 8, kernel: (7, 7), parameters: .init(stride: 2, padding: 3)),
        Case(name: "2x2 s1 p0 even kernel", input: [1, 3, 6, 5], cout: 2, kernel: (2, 2), parameters: .init()),
        Case(name: "large 3x3 (tiles)", input: [1, 32, 24, 300], cout: 32, kernel: (3, 3), parameters: .init(padding: 1)),
        // Batch > 1 on small maps: several images per GEMM (conv2dBatchedSmallMaps); 45 RoI-like
        // 7x7 maps make chunks of 20, 20 and 5 images.
        Case(name: "batched 3x3 on 7x7, batch 45", input: [45, 24, 7, 7], cout: 16, kernel: (3, 3), parameters: .init(padding: 1)),
        Case(name: "batched 3x3 s2 on 9x6, batch 7, no bias", input: [7, 5, 9, 6], cout: 11, kernel: (3, 3),
             parameters: .init(stride: 2, padding: 1), bias: false),
        Case(name: "batched 1x1 on 5x4, batch 9", input: [9, 12, 5, 4], cout: 10, kernel: (1, 1), parameters: .init()),
        Case(name: "large 1x1 (tiles)", input: [1, 256, 30, 200], cout: 96, kernel: (1, 1), parameters: .init()),
    ]

    @discardableResult
    func run(_ c: Case, activation: Activation, seed: UInt64) -> Difference {
        let cinG = c.input[1] / c.parameters.groups
        let input = randomTensor(c.input, seed: seed)
        let weight = randomTensor([c.cout, cinG, c.kernel.h, c.kernel.w], seed: seed + 1, scale: 0.5)
        let bias = c.bias ? randomTensor([c.cout], seed: seed + 2) : nil
        let cpu = CPUBackend(), reference = ReferenceBackend()
        let fast = cpu.conv2d(input, cpu.prepareConv2D(weight: weight, bias: bias, parameters: c.parameters), activation: activation)
        let slow = reference.conv2d(input, reference.prepareConv2D(weight: weight, bias: bias, parameters: c.parameters), activation: activation)
        return assertClose(fast, slow, "conv \(c.name) \(activation)")
    }

    func testFastMatchesReferenceOnOddShapes() {
        for (i, c) in Self.cases.enumerated() {
            run(c, activation: allActivations[i % allActivations.count], seed: UInt64(100 * i))
        }
    }

    func testEveryActivationOnEachPath() {
        // im2col + sgemm, direct depthwise (unrolled rows), pointwise sgemm, batched small maps.
        let names = ["3x3 s2 p1", "depthwise 3x3 s2", "depthwise 5x5 s2 wide rows", "1x1 s1", "batched 3x3 on 7x7, batch 45"]
        for (i, name) in names.enumerated() {
            guard let c = Self.cases.first(where: { $0.name == name }) else { return XCTFail("no case \(name)") }
            for (j, activation) in allActivations.enumerated() {
                run(c, activation: activation, seed: UInt64(7000 + 10 * i + j))
            }
        }
    }

    func testOutputShapeFollowsPyTorchFormula() {
        let cpu = CPUBackend()
        let conv = cpu.prepareConv2D(weight: Tensor(shape: [4, 3, 3, 3]), bias: nil,
                                     parameters: .init(stride: 2, padding: 1))
        let out = cpu.conv2d(Tensor(shape: [1, 3, 800, 1087]), conv, activation: .identity)
        XCTAssertEqual(out.shape, [1, 4, 400, 544])
        XCTAssertEqual(Conv2DParameters.outputSize(input: 800, kernel: 7, stride: 2, padding: 3, dilation: 1), 400)
    }

    func testKnownValues() {
        // 1 channel 3x3 input, 2x2 kernel of ones, bias 0.5: sums of 2x2 windows.
        let cpu = CPUBackend()
        let input = Tensor(shape: [1, 1, 3, 3], values: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let conv = cpu.prepareConv2D(weight: Tensor(shape: [1, 1, 2, 2], repeating: 1),
                                     bias: Tensor(shape: [1], values: [0.5]), parameters: .init())
        XCTAssertEqual(cpu.conv2d(input, conv, activation: .identity).values, [12.5, 16.5, 24.5, 28.5])
    }
}
