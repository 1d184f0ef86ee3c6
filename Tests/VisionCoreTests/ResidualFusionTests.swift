// The residual add fused into the conv (CPUBackend.conv2d(_:_:activation:adding:)):
// against the reference backend's unfused conv then add on every conv path (im2col,
// pointwise, small maps batched, Winograd, depthwise) and instruction set, and bit
// for bit against the CPU backend's own unfused conv + add (same operation order).
// Then the C epilogue kernel itself against its Swift reference, bit for bit.

import VisionCore
import VisionKernels
import XCTest

final class ResidualFusionTests: XCTestCase {
    static let cases: [Conv2DTests.Case] = [
        .init(name: "1x1 pointwise (ResNet conv3)", input: [2, 13, 9, 17], cout: 19, kernel: (1, 1), parameters: .init()),
        .init(name: "1x1 no bias (FPN v2 lateral)", input: [1, 8, 5, 33], cout: 6, kernel: (1, 1), parameters: .init(), bias: false),
        .init(name: "3x3 s2 p1 im2col", input: [1, 5, 11, 9], cout: 7, kernel: (3, 3), parameters: .init(stride: 2, padding: 1)),
        .init(name: "1x1 batch 9 small maps", input: [9, 12, 5, 4], cout: 10, kernel: (1, 1), parameters: .init()),
        .init(name: "3x3 Winograd", input: [1, 16, 23, 21], cout: 16, kernel: (3, 3), parameters: .init(padding: 1)),
        .init(name: "depthwise 3x3", input: [2, 6, 7, 19], cout: 6, kernel: (3, 3), parameters: .init(padding: 1, groups: 6)),
    ]

    func testFusedAddMatchesReferenceOnEveryPathAndInstructionSet() {
        let reference = ReferenceBackend()
        for isa in InstructionSet.allCases where isa.isSupported {
            let cpu = CPUBackend(threads: KernelThreads(2), winogradRouting: .always, instructionSet: isa)
            for (i, c) in Self.cases.enumerated() {
                let cinG = c.input[1] / c.parameters.groups
                let input = randomTensor(c.input, seed: UInt64(40 + i))
                let weight = randomTensor([c.cout, cinG, c.kernel.h, c.kernel.w], seed: UInt64(50 + i), scale: 0.5)
                let bias = c.bias ? randomTensor([c.cout], seed: UInt64(60 + i)) : nil
                let fastConv = cpu.prepareConv2D(weight: weight, bias: bias, parameters: c.parameters)
                let slowConv = reference.prepareConv2D(weight: weight, bias: bias, parameters: c.parameters)
                let outShape = reference.conv2d(input, slowConv, activation: .identity).shape
                let residual = randomTensor(outShape, seed: UInt64(70 + i))
                for activation in allActivations {
                    let fused = cpu.conv2d(input, fastConv, activation: activation, adding: residual)
                    let expected = reference.add(reference.conv2d(input, slowConv, activation: .identity), residual,
                                                 activation: activation)
                    assertClose(fused, expected, "\(c.name) \(isa) \(activation) fused vs reference")
                    let unfused = cpu.add(cpu.conv2d(input, fastConv, activation: .identity), residual, activation: activation)
                    XCTAssertEqual(fused.values, unfused.values, "\(c.name) \(isa) \(activation): fusing changed bits")
                }
            }
        }
    }

    func testProtocolDefaultIsConvThenAdd() {
        // The protocol's default (conv, then add) is what other backends get: same result.
        let reference = ReferenceBackend()
        let conv = reference.prepareConv2D(weight: randomTensor([4, 3, 1, 1], seed: 1), bias: nil, parameters: .init())
        let input = randomTensor([1, 3, 5, 5], seed: 2), residual = randomTensor([1, 4, 5, 5], seed: 3)
        let viaDefault = reference.conv2d(input, conv, activation: .relu, adding: residual)
        let byHand = reference.add(reference.conv2d(input, conv, activation: .identity), residual, activation: .relu)
        XCTAssertEqual(viaDefault.values, byHand.values)
        XCTAssertTrue(viaDefault.values.contains(0) && viaDefault.values.contains { $0 > 0 }, "relu applied after the add")
    }

    func testEpilogueKernelMatchesSwiftReferenceBitForBit() {
        let rows = 3, stride = 41
        for isa in InstructionSet.allCases where isa.isSupported {
            for count in [1, 3, 7, 8, 15, 16, 17, 31, 33, 40] {
                for activation in KernelActivation.allCases {
                    for (useBias, useResidual) in [(true, true), (false, true), (true, false)] {
                        let start = randomTensor([rows * stride], seed: UInt64(count)).values
                        let residual = randomTensor([rows * stride], seed: UInt64(count + 100), scale: 2).values
                        let bias = randomTensor([rows + 2], seed: 7).values
                        var expected = start, actual = start
                        // Reference: bias pass, then the add with the activation (the unfused order).
                        expected.withUnsafeMutableBufferPointer { out in
                            bias.withUnsafeBufferPointer { b in
                                applyBiasActivation(out.baseAddress!, rows: 0..<rows, rowStride: stride, count: count,
                                                    bias: useBias ? b.baseAddress! : nil, biasOffset: 2,
                                                    activation: useResidual ? .identity : activation)
                            }
                            if useResidual {
                                for r in 0..<rows {
                                    for c in 0..<count {
                                        out[r * stride + c] = activation.apply(out[r * stride + c] + residual[r * stride + c])
                                    }
                                }
                            }
                        }
                        actual.withUnsafeMutableBufferPointer { out in
                            bias.withUnsafeBufferPointer { b in
                                residual.withUnsafeBufferPointer { res in
                                    finishGemmBlock(out.baseAddress!, rows: rows, rowStride: stride, count: count,
                                                    bias: useBias ? b.baseAddress! : nil, biasOffset: 2,
                                                    residual: useResidual ? res.baseAddress! : nil, residualStride: stride,
                                                    activation: activation, threads: .single, instructionSet: isa)
                                }
                            }
                        }
                        // Columns past `count` stay as they were.
                        XCTAssertEqual(actual, expected, "\(isa) count \(count) \(activation) bias \(useBias) residual \(useResidual)")
                    }
                }
            }
        }
    }
}
