// Convolution backward: the fast im2col/sgemm and depthwise kernels against the naive
// reference, and both against central finite differences of the forward kernel.
//
// Objective L = sum(conv(x) * R) for a random R, so dL/dY = R. Finite differences use
// step 1e-2 on the Float32 forward with L accumulated in Double: L is linear in each
// of x, w, b, so the only FD error is Float32 rounding of the conv outputs
// (~1e-7 relative, ~1e-5 absolute on L) divided by 2h, i.e. ~1e-3 absolute; the
// tolerance is 3e-3 of max(1, max |gradient|).

import VisionKernels
import XCTest

final class ConvBackwardTests: XCTestCase {
    struct Case {
        let geometry: ConvGeometry
        let name: String
    }

    let cases: [Case] = [
        Case(geometry: ConvGeometry(batch: 2, inChannels: 3, inH: 7, inW: 9, outChannels: 5, kernelH: 3, kernelW: 3,
                                    padH: 1, padW: 1), name: "3x3 pad 1"),
        Case(geometry: ConvGeometry(batch: 1, inChannels: 4, inH: 9, inW: 7, outChannels: 6, kernelH: 3, kernelW: 3,
                                    strideH: 2, strideW: 2, padH: 1, padW: 1, dilationH: 2, dilationW: 2, groups: 2),
             name: "3x3 stride 2 dilation 2 groups 2"),
        Case(geometry: ConvGeometry(batch: 2, inChannels: 3, inH: 5, inW: 5, outChannels: 4, kernelH: 1, kernelW: 1),
             name: "1x1 pointwise"),
        Case(geometry: ConvGeometry(batch: 1, inChannels: 3, inH: 6, inW: 7, outChannels: 2, kernelH: 2, kernelW: 3,
                                    strideH: 1, strideW: 2, padH: 0, padW: 1), name: "2x3 stride (1,2)"),
        Case(geometry: ConvGeometry(batch: 2, inChannels: 3, inH: 7, inW: 7, outChannels: 6, kernelH: 3, kernelW: 3,
                                    strideH: 2, strideW: 2, padH: 1, padW: 1, groups: 3), name: "depthwise x2 stride 2"),
        Case(geometry: ConvGeometry(batch: 1, inChannels: 4, inH: 9, inW: 8, outChannels: 4, kernelH: 5, kernelW: 5,
                                    padH: 2, padW: 2, groups: 4), name: "depthwise 5x5"),
    ]

    func forward(_ x: [Float], _ w: [Float], _ b: [Float], _ g: ConvGeometry) -> [Float] {
        var out = [Float](repeating: 0, count: g.outputCount)
        conv2d(input: x, weight: w, bias: b, output: &out, geometry: g, activation: .identity, threads: .allCores)
        return out
    }

    func gradients(_ x: [Float], _ w: [Float], _ r: [Float], _ g: ConvGeometry, reference: Bool)
        -> (dx: [Float], dw: [Float], db: [Float]) {
        var dx = [Float](repeating: 0, count: g.inputCount)
        var dw = [Float](repeating: 0, count: g.weightCount)
        var db = [Float](repeating: 0, count: g.outChannels)
        if reference {
            conv2dBackwardReference(input: x, weight: w, gradOutput: r, gradInput: &dx, gradWeight: &dw, gradBias: &db,
                                    geometry: g)
        } else {
            conv2dBackward(input: x, weight: w, gradOutput: r, gradInput: &dx, gradWeight: &dw, gradBias: &db,
                           geometry: g, threads: .allCores)
        }
        return (dx, dw, db)
    }

    func testFastMatchesReference() {
        var rng = TestRandom(11)
        for c in cases {
            let g = c.geometry
            let x = rng.array(g.inputCount), w = rng.array(g.weightCount), r = rng.array(g.outputCount)
            let fast = gradients(x, w, r, g, reference: false)
            let slow = gradients(x, w, r, g, reference: true)
            assertClose(fast.dx, slow.dx.map(Double.init), tolerance: 1e-5, "\(c.name) dX fast vs reference")
            assertClose(fast.dw, slow.dw.map(Double.init), tolerance: 1e-5, "\(c.name) dW fast vs reference")
            assertClose(fast.db, slow.db.map(Double.init), tolerance: 1e-5, "\(c.name) dB fast vs reference")
        }
    }

    func testAgainstFiniteDifferences() {
        var rng = TestRandom(12)
        for c in cases {
            let g = c.geometry
            var x = rng.array(g.inputCount), w = rng.array(g.weightCount), b = rng.array(g.outChannels)
            let r = rng.array(g.outputCount)
            let analytic = gradients(x, w, r, g, reference: false)
            let (w0, b0, x0) = (w, b, x)
            let fdX = finiteDifferences(&x, step: 1e-2) { v in
                self.forward(v, w0, b0, g).withUnsafeBufferPointer { weightedSum($0.baseAddress!, r) }
            }
            let fdW = finiteDifferences(&w, step: 1e-2) { v in
                self.forward(x0, v, b0, g).withUnsafeBufferPointer { weightedSum($0.baseAddress!, r) }
            }
            let fdB = finiteDifferences(&b, step: 1e-2) { v in
                self.forward(x0, w0, v, g).withUnsafeBufferPointer { weightedSum($0.baseAddress!, r) }
            }
            assertClose(analytic.dx, fdX, tolerance: 3e-3, "\(c.name) dX vs finite differences")
            assertClose(analytic.dw, fdW, tolerance: 3e-3, "\(c.name) dW vs finite differences")
            assertClose(analytic.db, fdB, tolerance: 3e-3, "\(c.name) dB vs finite differences")
        }
    }

    /// The depthwise backward's vector loops (16-float registers, four partial sums, stride 2
    /// through even-lane shuffles) only run on rows wider than 2-4 registers: wide, odd
    /// shapes here, every instruction set this CPU has against the reference.
    func testDepthwiseEveryInstructionSetOnWideRows() {
        var rng = TestRandom(14)
        let wide: [(ConvGeometry, String)] = [
            (ConvGeometry(batch: 2, inChannels: 3, inH: 5, inW: 131, outChannels: 3, kernelH: 3, kernelW: 3,
                          padH: 1, padW: 1, groups: 3), "3x3 width 131"),
            (ConvGeometry(batch: 1, inChannels: 5, inH: 7, inW: 133, outChannels: 5, kernelH: 3, kernelW: 3,
                          strideH: 2, strideW: 2, padH: 1, padW: 1, groups: 5), "3x3 stride 2 width 133"),
            (ConvGeometry(batch: 1, inChannels: 2, inH: 9, inW: 70, outChannels: 4, kernelH: 5, kernelW: 5,
                          padH: 4, padW: 4, dilationH: 2, dilationW: 2, groups: 2), "5x5 dilation 2 multiplier 2 width 70"),
            (ConvGeometry(batch: 2, inChannels: 3, inH: 6, inW: 97, outChannels: 3, kernelH: 3, kernelW: 5,
                          strideH: 1, strideW: 2, padH: 0, padW: 2, groups: 3), "3x5 stride (1,2) width 97"),
            (ConvGeometry(batch: 1, inChannels: 2, inH: 4, inW: 67, outChannels: 2, kernelH: 3, kernelW: 3,
                          strideH: 3, strideW: 3, padH: 1, padW: 1, groups: 2), "3x3 stride 3 width 67"),
        ]
        for (g, name) in wide {
            let x = rng.array(g.inputCount), w = rng.array(g.weightCount), r = rng.array(g.outputCount)
            let slow = gradients(x, w, r, g, reference: true)
            for isa in InstructionSet.allCases where isa.isSupported {
                var dx = [Float](repeating: 0, count: g.inputCount)
                var dw = [Float](repeating: 0, count: g.weightCount)
                var db = [Float](repeating: 0, count: g.outChannels)
                conv2dBackward(input: x, weight: w, gradOutput: r, gradInput: &dx, gradWeight: &dw, gradBias: &db,
                               geometry: g, threads: .allCores, instructionSet: isa)
                assertClose(dx, slow.dx.map(Double.init), tolerance: 1e-5, "\(name) \(isa) dX")
                assertClose(dw, slow.dw.map(Double.init), tolerance: 1e-5, "\(name) \(isa) dW")
                assertClose(db, slow.db.map(Double.init), tolerance: 1e-5, "\(name) \(isa) dB")
            }
        }
    }

    /// Row tiles: with a tile budget of a few rows, every case runs as several tiles
    /// (the last one partial) and must equal the one-tile result.
    func testRowTilesMatchOneTile() {
        var rng = TestRandom(15)
        for c in cases where !c.geometry.isDepthwise {
            let g = c.geometry
            let x = rng.array(g.inputCount), w = rng.array(g.weightCount), r = rng.array(g.outputCount)
            let whole = gradients(x, w, r, g, reference: false)
            var dx = [Float](repeating: 0, count: g.inputCount)
            var dw = [Float](repeating: 0, count: g.weightCount)
            var db = [Float](repeating: 0, count: g.outChannels)
            let oneRow = g.outW * (g.reductionSize + g.outChannelsPerGroup)
            conv2dBackward(input: x, weight: w, gradOutput: r, gradInput: &dx, gradWeight: &dw, gradBias: &db,
                           geometry: g, threads: .allCores, tileFloats: 2 * oneRow)
            assertClose(dx, whole.dx.map(Double.init), tolerance: 1e-6, "\(c.name) dX in 2-row tiles")
            assertClose(dw, whole.dw.map(Double.init), tolerance: 1e-6, "\(c.name) dW in 2-row tiles")
        }
    }

    /// Gradients accumulate: a second backward into the same buffers doubles them.
    func testAccumulates() {
        var rng = TestRandom(13)
        let g = cases[0].geometry
        let x = rng.array(g.inputCount), w = rng.array(g.weightCount), r = rng.array(g.outputCount)
        var dx = [Float](repeating: 0, count: g.inputCount)
        var dw = [Float](repeating: 0, count: g.weightCount)
        var db = [Float](repeating: 0, count: g.outChannels)
        conv2dBackward(input: x, weight: w, gradOutput: r, gradInput: &dx, gradWeight: &dw, gradBias: &db, geometry: g, threads: .allCores)
        let once = (dx, dw, db)
        conv2dBackward(input: x, weight: w, gradOutput: r, gradInput: &dx, gradWeight: &dw, gradBias: &db, geometry: g, threads: .allCores)
        assertClose(dx, once.0.map { 2 * Double($0) }, tolerance: 1e-6, "accumulated dX")
        assertClose(dw, once.1.map { 2 * Double($0) }, tolerance: 1e-6, "accumulated dW")
        assertClose(db, once.2.map { 2 * Double($0) }, tolerance: 1e-6, "accumulated dB")
    }
}
