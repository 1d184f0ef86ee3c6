// Winograd F(4x4, 3x3) against the direct reference conv on odd shapes: sizes
// that are not multiples of the 4x4 tile, tiny inputs (1x1, 2x3), padding 0 and 1,
// batches, channel counts from 1 to 70, every activation, and block sizes that
// split the tiles into several blocks with remainders of the 8-tile groups.
//
// Bound: max |diff| / max |ref| <= 1e-4, the project's kernel bound. F(4x4, 3x3)
// in fp32 loses about two decimal digits against a direct sum (its transform
// constants reach 8 and 1/24, so intermediate magnitudes grow ~10-100x before
// cancelling); the measured worst case here is printed and sits near 1e-6..1e-5.

import VisionCore
import VisionKernels
import XCTest

final class WinogradTests: XCTestCase {
    struct Case {
        var name: String
        var input: [Int]  // [N, Cin, H, W]
        var cout: Int
        var padding: Int
        var bias = true
    }

    static let cases: [Case] = [
        Case(name: "7x9 p1", input: [1, 16, 7, 9], cout: 16, padding: 1),
        Case(name: "13x5 p1 batch 2", input: [2, 17, 13, 5], cout: 19, padding: 1),
        Case(name: "13x5 p0", input: [1, 16, 13, 5], cout: 24, padding: 0),
        Case(name: "1x1 p1", input: [1, 20, 1, 1], cout: 18, padding: 1),
        Case(name: "2x3 p1 batch 3", input: [3, 16, 2, 3], cout: 16, padding: 1),
        Case(name: "3x3 p0 (one output pixel)", input: [2, 16, 3, 3], cout: 17, padding: 0),
        Case(name: "6x6 p0 (exactly one tile)", input: [1, 16, 6, 6], cout: 16, padding: 0),
        Case(name: "1 channel 11x10 p1", input: [1, 1, 11, 10], cout: 1, padding: 1),
        Case(name: "3 -> 5 channels 9x12 p1 no bias", input: [2, 3, 9, 12], cout: 5, padding: 1, bias: false),
        Case(name: "70 -> 33 channels 21x37 p1", input: [1, 70, 21, 37], cout: 33, padding: 1),
        Case(name: "32 channels 40x48 p1 batch 2", input: [2, 32, 40, 48], cout: 32, padding: 1),
        Case(name: "64 channels 30x19 p0", input: [1, 64, 30, 19], cout: 48, padding: 0),
        Case(name: "wide 5x131 p1", input: [1, 16, 5, 131], cout: 20, padding: 1),
        // v2's box head: many RoIs of 7x7 (routed to Winograd by their total pixel count).
        Case(name: "RoI-like 7x7 p1 batch 50", input: [50, 32, 7, 7], cout: 24, padding: 1),
    ]

    /// Runs `c` with Winograd (forced for every eligible conv) and with the reference
    /// backend; asserts the kernel bound and that the Winograd path was taken.
    @discardableResult
    func run(_ c: Case, activation: Activation, seed: UInt64, threads: KernelThreads = .allCores,
             tiling: ConvTiling = .standard) -> Difference {
        let parameters = Conv2DParameters(stride: 1, padding: c.padding)
        let input = randomTensor(c.input, seed: seed)
        let weight = randomTensor([c.cout, c.input[1], 3, 3], seed: seed + 1, scale: 0.5)
        let bias = c.bias ? randomTensor([c.cout], seed: seed + 2) : nil
        let cpu = CPUBackend(threads: threads, winogradRouting: .always, tiling: tiling), reference = ReferenceBackend()
        let prepared = cpu.prepareConv2D(weight: weight, bias: bias, parameters: parameters)
        let prepared2 = prepared as? CPUPreparedConv2D
        XCTAssertNotNil(prepared2?.winogradWeight, "\(c.name): Winograd weights prepared")
        if let p = prepared2 { XCTAssertTrue(p.usesWinograd(p.geometry(for: input)), "\(c.name): routed to Winograd") }
        let fast = cpu.conv2d(input, prepared, activation: activation)
        let slow = reference.conv2d(input, reference.prepareConv2D(weight: weight, bias: bias, parameters: parameters),
                                    activation: activation)
        return assertClose(fast, slow, tolerance: 1e-4, "winograd \(c.name) \(activation)")
    }

    func testMatchesReferenceOnOddShapesWithEveryActivation() {
        var worst: Float = 0
        for (i, c) in Self.cases.enumerated() {
            for (k, activation) in allActivations.enumerated() where (i + k) % 2 == 0 || c.input[1] <= 20 {
                worst = max(worst, run(c, activation: activation, seed: UInt64(1000 * i + k)).maxRelative)
            }
        }
        print("winograd worst relative error over all cases: \(worst)")
        XCTAssertLessThanOrEqual(worst, 1e-4)
    }

    /// Small blocks: many blocks per call, blocks ending mid-row and mid-image,
    /// 8-tile groups with remainders; the single-threaded and threaded paths.
    func testBlockSplitsAndThreadCounts() {
        let c = Case(name: "blocks 2x16x23x29", input: [2, 16, 23, 29], cout: 16, padding: 1)
        for (block, threads) in [(1, 1), (1, 2), (36 * 32 * 13, 2), (36 * 32 * 13, 1), (1 << 22, 2)] {
            run(c, activation: .relu, seed: UInt64(block + threads), threads: KernelThreads(threads),
                tiling: ConvTiling(winogradBlockFloats: block, winogradMinBlockTiles: 1))
        }
    }

    /// The kernel-level API: transformed weights have 36 * Cout * Cin floats, and
    /// conv2dWinograd agrees with conv2dReference directly.
    func testKernelAPIAgreesWithReference() {
        let g = ConvGeometry(batch: 1, inChannels: 24, inH: 17, inW: 14, outChannels: 20,
                             kernelH: 3, kernelW: 3, padH: 1, padW: 1)
        XCTAssertTrue(winogradSupports(g))
        XCTAssertFalse(winogradSupports(ConvGeometry(batch: 1, inChannels: 24, inH: 17, inW: 14, outChannels: 20,
                                                     kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padH: 1, padW: 1)))
        XCTAssertEqual(winogradWeightCount(outChannels: 20, inChannels: 24), 36 * 20 * 24)
        let input = randomTensor([1, 24, 17, 14], seed: 7), weight = randomTensor([20, 24, 3, 3], seed: 8, scale: 0.5)
        let bias = randomTensor([20], seed: 9)
        let u = Tensor(uninitializedShape: [36, 20, 24])
        winogradTransformWeights(weight: weight.storage.pointer, outChannels: 20, inChannels: 24, output: u.storage.pointer,
                                 threads: .allCores)
        let fast = Tensor(uninitializedShape: [1, 20, 17, 14]), slow = Tensor(uninitializedShape: [1, 20, 17, 14])
        conv2dWinograd(input: input.storage.pointer, transformedWeight: u.storage.pointer, bias: bias.storage.pointer,
                       output: fast.storage.pointer, geometry: g, activation: .hardswish, threads: .allCores)
        conv2dReference(input: input.storage.pointer, weight: weight.storage.pointer, bias: bias.storage.pointer,
                        output: slow.storage.pointer, geometry: g, activation: .hardswish)
        assertClose(fast, slow, tolerance: 1e-4, "winograd kernel API")
    }

    /// The default rule: small channel counts, strided, grouped or tiny maps stay on im2col.
    func testMeasuredRoutingSkipsIneligibleConvs() {
        let cpu = CPUBackend(winogradRouting: .measured)
        func prepared(_ cin: Int, _ cout: Int, _ p: Conv2DParameters, k: Int = 3) -> CPUPreparedConv2D {
            cpu.prepareConv2D(weight: randomTensor([cout, cin / p.groups, k, k], seed: 1), bias: nil, parameters: p)
                as! CPUPreparedConv2D
        }
        let big = Tensor(uninitializedShape: [1, 64, 64, 64])
        let eligible = prepared(64, 64, .init(padding: 1))
        XCTAssertTrue(eligible.usesWinograd(eligible.geometry(for: big)))
        XCTAssertFalse(eligible.usesWinograd(eligible.geometry(for: Tensor(uninitializedShape: [1, 64, 5, 5]))),
                       "tiny map")
        XCTAssertTrue(eligible.usesWinograd(eligible.geometry(for: Tensor(uninitializedShape: [1000, 64, 7, 7]))),
                      "1000 RoIs of 7x7 count as one large problem")
        XCTAssertNil(prepared(8, 8, .init(padding: 1)).winogradWeight, "few channels")
        XCTAssertNil(prepared(64, 64, .init(stride: 2, padding: 1)).winogradWeight, "stride 2")
        XCTAssertNil(prepared(64, 64, .init(padding: 2, dilation: 2)).winogradWeight, "dilation 2")
        XCTAssertNil(prepared(64, 64, .init(padding: 1, groups: 2)).winogradWeight, "groups 2")
        XCTAssertNil(prepared(64, 64, .init(), k: 1).winogradWeight, "1x1")
    }
}
