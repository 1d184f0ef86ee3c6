// The C SIMD kernels' builds against each other and the plain reference: every
// instruction set this CPU supports (generic SSE2 always; AVX2+FMA and AVX-512F
// where present) on the depthwise edge shapes (stride 2, padding, dilation 2,
// non-square kernels, batch > 1, channel multipliers, widths around vector
// multiples), and the VISION_CPU_ISA parsing the benchmarks use.

import VisionCore
import VisionKernels
import XCTest

final class InstructionSetTests: XCTestCase {
    /// Extra shapes: channel counts that are no multiple of 8 or 16, widths just past
    /// one and four vectors of each width, the MobileNetV3 3x3 / 5x5 stride-2 blocks.
    static let cases: [DepthwiseEdgeTests.Case] = DepthwiseEdgeTests.cases + [
        DepthwiseEdgeTests.dw([2, 13, 9, 17], k: 3, s: 1, p: 1),
        DepthwiseEdgeTests.dw([1, 7, 7, 65], k: 3, s: 1, p: 1),
        DepthwiseEdgeTests.dw([1, 5, 8, 129], k: 5, s: 1, p: 2),
        DepthwiseEdgeTests.dw([2, 11, 12, 67], k: 3, s: 2, p: 1),
        DepthwiseEdgeTests.dw([1, 9, 14, 131], k: 5, s: 2, p: 2),
        DepthwiseEdgeTests.dw([1, 6, 11, 40], k: 5, s: 2, p: 4, d: 2),
        DepthwiseEdgeTests.dw([1, 3, 10, 23], k: 1, s: 2, p: 0),
        DepthwiseEdgeTests.Case(input: [1, 5, 9, 50], kernel: (3, 3),
             parameters: .init(strideH: 2, strideW: 2, padH: 1, padW: 2, dilationH: 1, dilationW: 2, groups: 5)),
    ]

    func testGenericIsAlwaysSupportedAndDetectedIsSupported() {
        XCTAssertTrue(InstructionSet.generic.isSupported)
        XCTAssertTrue(InstructionSet.detected.isSupported)
        XCTAssertEqual(InstructionSet.detect(), InstructionSet.detected)
        // The widest supported set is detected: nothing supported is wider.
        for isa in InstructionSet.allCases where isa.rawValue > InstructionSet.detected.rawValue {
            XCTAssertFalse(isa.isSupported, "\(isa) is supported but \(InstructionSet.detected) was detected")
        }
        print("InstructionSetTests: detected \(InstructionSet.detected)")
    }

    func testEverySupportedSetMatchesReferenceAndGeneric() {
        let sets = InstructionSet.allCases.filter(\.isSupported)
        let reference = ReferenceBackend()
        let backends = sets.map { CPUBackend(threads: KernelThreads(2), instructionSet: $0) }
        XCTAssertEqual(backends[0].instructionSet, .generic)
        for (i, c) in Self.cases.enumerated() {
            let (input, weight, bias) = c.tensors(seed: UInt64(900 + i), withBias: i % 4 != 3)
            let activation = allActivations[i % allActivations.count]
            let expected = reference.conv2d(
                input, reference.prepareConv2D(weight: weight, bias: bias, parameters: c.parameters), activation: activation)
            let outputs = backends.map { b in
                b.conv2d(input, b.prepareConv2D(weight: weight, bias: bias, parameters: c.parameters), activation: activation)
            }
            let label = "depthwise \(c.input) k\(c.kernel) \(c.parameters) x\(c.multiplier) \(activation)"
            for (isa, out) in zip(sets, outputs) {
                assertClose(out, expected, "\(label) \(isa) vs reference")
                assertClose(out, outputs[0], "\(label) \(isa) vs generic")
            }
        }
    }

    func testEnvironmentVariableForcesOrRejectsASet() throws {
        XCTAssertEqual(try InstructionSet.fromEnvironment([:]), .detected)
        XCTAssertEqual(try InstructionSet.fromEnvironment(["VISION_CPU_ISA": "generic"]), .generic)
        for isa in InstructionSet.allCases {
            XCTAssertEqual(InstructionSet(name: isa.description), isa)
            if isa.isSupported {
                XCTAssertEqual(try InstructionSet.fromEnvironment(["VISION_CPU_ISA": isa.description]), isa)
            } else {
                XCTAssertThrowsError(try InstructionSet.fromEnvironment(["VISION_CPU_ISA": isa.description]))
            }
        }
        XCTAssertThrowsError(try InstructionSet.fromEnvironment(["VISION_CPU_ISA": "sse9"])) { error in
            XCTAssertEqual("\(error)", "VISION_CPU_ISA=sse9 is not one of generic, avx2, avx512")
        }
    }
}
