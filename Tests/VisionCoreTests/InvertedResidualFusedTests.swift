// The CPU backend's fused inverted-residual block (VisionKernels' invertedResidualFused)
// against the reference backend's three separate convs (conv2dReference), on odd shapes:
// widths and heights that are not multiples of a vector or of a chunk, stride 1 and 2,
// 3x3 and 5x5 depthwise kernels, with and without expand and residual, batches of 2,
// 1 to 3 threads (slices of 1 row and slices of unequal length), chunk budgets so small
// that every chunk is one row (the kept-rows path runs for every chunk) and so large that
// a slice is one chunk, and every supported instruction set.

import VisionCore
import VisionKernels
import XCTest

final class InvertedResidualFusedTests: XCTestCase {
    struct Block {
        var input: [Int]  // [N, Cin, H, W]
        var expanded: Int?  // Cexp, nil: no expand conv (Cexp == Cin)
        var out: Int
        var kernel: Int
        var stride: Int
        var residual: Bool { stride == 1 && input[1] == out }
        var dilation = 1
    }

    static let blocks: [Block] = [
        Block(input: [1, 8, 9, 13], expanded: 24, out: 8, kernel: 3, stride: 1),    // residual
        Block(input: [2, 6, 11, 21], expanded: 18, out: 10, kernel: 3, stride: 2),  // odd sizes, stride 2, batch 2
        Block(input: [1, 5, 14, 17], expanded: 30, out: 5, kernel: 5, stride: 1),   // 5x5, residual
        Block(input: [1, 7, 13, 10], expanded: 21, out: 9, kernel: 5, stride: 2),   // 5x5 stride 2, odd height
        Block(input: [2, 16, 7, 35], expanded: nil, out: 12, kernel: 3, stride: 1), // no expand (MobileNet's first block)
        Block(input: [1, 12, 3, 5], expanded: 72, out: 12, kernel: 3, stride: 1),   // tiny map, fewer rows than threads x 2
        Block(input: [1, 4, 12, 19], expanded: 16, out: 4, kernel: 3, stride: 1, dilation: 2),
        Block(input: [1, 8, 37, 9], expanded: 24, out: 16, kernel: 3, stride: 2),    // tall: chunks of several groups
    ]

    /// Random weights for the block's convs (prepared on `backend`), with BN-like biases.
    func convs(_ b: Block, on backend: ComputeBackend, seed: UInt64, activation: Activation) -> InvertedResidualConvs {
        let cin = b.input[1], cexp = b.expanded ?? cin
        let pad = (b.kernel - 1) / 2 * b.dilation
        func prepared(_ shape: [Int], _ parameters: Conv2DParameters, _ s: UInt64) -> PreparedConv2D {
            backend.prepareConv2D(weight: randomTensor(shape, seed: seed + s, scale: 0.4),
                                  bias: randomTensor([shape[0]], seed: seed + s + 1), parameters: parameters)
        }
        return InvertedResidualConvs(
            expand: b.expanded.map { (prepared([$0, cin, 1, 1], .init(), 10), activation) },
            depthwise: (prepared([cexp, 1, b.kernel, b.kernel],
                                 .init(stride: b.stride, padding: pad, dilation: b.dilation, groups: cexp), 20), activation),
            project: (prepared([b.out, cexp, 1, 1], .init(), 30), .identity),
            addsInput: b.residual)
    }

    func check(threads: Int, bandFloats: Int, instructionSet: InstructionSet = .detected, label: String) {
        let fused = CPUBackend(threads: KernelThreads(threads), instructionSet: instructionSet,
                               tiling: ConvTiling(fusedBlockBandFloats: bandFloats, fusedBlockMinPixels: 1))
        let reference = ReferenceBackend()
        for (i, b) in Self.blocks.enumerated() {
            let activation: Activation = [.relu6, .hardswish, .relu][i % 3]
            let x = randomTensor(b.input, seed: UInt64(700 + i))
            let expected = reference.invertedResidual(x, convs(b, on: reference, seed: UInt64(40 * i), activation: activation))
            let actual = fused.invertedResidual(x, convs(b, on: fused, seed: UInt64(40 * i), activation: activation))
            assertClose(actual, expected, "\(label) block \(i) \(b.input) exp \(b.expanded ?? 0) k\(b.kernel) s\(b.stride)")
        }
    }

    func testFusedBlockMatchesThreeReferenceConvs() {
        for threads in 1...3 {
            // 1: every chunk one row; 1 << 22: every slice one chunk; 2000: a few rows per chunk.
            for bandFloats in [1, 2000, 1 << 22] {
                check(threads: threads, bandFloats: bandFloats, label: "threads \(threads) band \(bandFloats)")
            }
        }
    }

    func testEverySupportedInstructionSet() {
        for isa in InstructionSet.allCases where isa.isSupported {
            check(threads: 2, bandFloats: 2000, instructionSet: isa, label: "\(isa)")
        }
    }

    /// The fused block against the same backend's three convs (same kernels, per band).
    func testFusedEqualsUnfusedOnTheSameBackend() {
        let cpu = CPUBackend(threads: KernelThreads(2), tiling: ConvTiling(fusedBlockBandFloats: 3000, fusedBlockMinPixels: 1))
        for (i, b) in Self.blocks.enumerated() {
            let x = randomTensor(b.input, seed: UInt64(800 + i))
            let block = convs(b, on: cpu, seed: UInt64(60 * i), activation: .relu6)
            let fused = cpu.invertedResidual(x, block)
            XCTAssertFalse(fused.values.contains { !$0.isFinite }, "block \(i): non-finite output")
            assertClose(fused, unfusedInvertedResidual(x, block, on: cpu), "fused vs unfused block \(i)")
        }
    }

    /// The partition is the same for every thread count: 1, 2 and 3 threads give the same
    /// bits (the property KernelThreadsTests asks of every kernel without Winograd).
    func testThreadCountChangesNoBit() {
        for bandFloats in [1, 2000, 1 << 22] {
            let backends = (1...3).map {
                CPUBackend(threads: KernelThreads($0), tiling: ConvTiling(fusedBlockBandFloats: bandFloats, fusedBlockMinPixels: 1))
            }
            for (i, b) in Self.blocks.enumerated() {
                let x = randomTensor(b.input, seed: UInt64(900 + i))
                let outputs = backends.map { $0.invertedResidual(x, convs(b, on: $0, seed: UInt64(70 * i), activation: .hardswish)) }
                for (t, out) in outputs.enumerated().dropFirst() {
                    let differing = zip(out.values, outputs[0].values).filter { $0.0.bitPattern != $0.1.bitPattern }.count
                    XCTAssertEqual(differing, 0, "block \(i) band \(bandFloats): \(t + 1) threads vs 1")
                }
            }
        }
    }

    /// Maps under `fusedBlockMinPixels` take the three convs: bit-identical to the unfused path.
    func testSmallMapsRunUnfused() {
        let cpu = CPUBackend(threads: KernelThreads(2))
        let b = Block(input: [1, 24, 20, 36], expanded: 72, out: 24, kernel: 3, stride: 1)
        let x = randomTensor(b.input, seed: 5)
        let block = convs(b, on: cpu, seed: 6, activation: .relu)
        XCTAssertEqual(cpu.invertedResidual(x, block).values.map(\.bitPattern),
                       unfusedInvertedResidual(x, block, on: cpu).values.map(\.bitPattern))
    }
}
