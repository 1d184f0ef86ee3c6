// Backward of linear, pooling, upsampling, element-wise and activation kernels:
// fast forms against naive references and everything against central finite
// differences of the forward kernels (objective sum(y * R), Double accumulation).
//
// Tolerances: the linear maps (linear, avg pool, upsample, multiply, channel scale)
// are exact for FD up to Float32 rounding (step 1e-2, ~1e-3 absolute, tolerance 3e-3
// of max(1, |grad|)). Max pooling uses well-separated input values (gaps > 2h) so no
// window's argmax flips inside the step. Activations use step 1e-3 at points at least
// 0.05 away from every kink, where the curvature error h²f'''/6 is below 1e-6.

import VisionKernels
import XCTest

final class LayerBackwardTests: XCTestCase {
    func testLinear() {
        var rng = TestRandom(21)
        let n = 3, inF = 7, outF = 5
        var x = rng.array(n * inF), w = rng.array(outF * inF), b = rng.array(outF)
        let r = rng.array(n * outF)
        func forward(_ x: [Float], _ w: [Float], _ b: [Float]) -> Double {
            var y = [Float](repeating: 0, count: n * outF)
            linear(input: x, weight: w, bias: b, output: &y, batch: n, inFeatures: inF, outFeatures: outF, activation: .identity, threads: .allCores)
            return y.withUnsafeBufferPointer { weightedSum($0.baseAddress!, r) }
        }
        var fast = ([Float](repeating: 0, count: n * inF), [Float](repeating: 0, count: outF * inF), [Float](repeating: 0, count: outF))
        var slow = fast
        linearBackward(input: x, weight: w, gradOutput: r, gradInput: &fast.0, gradWeight: &fast.1, gradBias: &fast.2,
                       batch: n, inFeatures: inF, outFeatures: outF, threads: .allCores)
        linearBackwardReference(input: x, weight: w, gradOutput: r, gradInput: &slow.0, gradWeight: &slow.1, gradBias: &slow.2,
                                batch: n, inFeatures: inF, outFeatures: outF)
        assertClose(fast.0, slow.0, tolerance: 1e-5, "linear dX fast vs reference")
        assertClose(fast.1, slow.1, tolerance: 1e-5, "linear dW fast vs reference")
        assertClose(fast.2, slow.2, tolerance: 1e-5, "linear dB fast vs reference")
        let (x0, w0, b0) = (x, w, b)
        assertClose(fast.0, finiteDifferences(&x, step: 1e-2) { forward($0, w0, b0) }, tolerance: 3e-3, "linear dX vs FD")
        assertClose(fast.1, finiteDifferences(&w, step: 1e-2) { forward(x0, $0, b0) }, tolerance: 3e-3, "linear dW vs FD")
        assertClose(fast.2, finiteDifferences(&b, step: 1e-2) { forward(x0, w0, $0) }, tolerance: 3e-3, "linear dB vs FD")
    }

    func testMaxPool() {
        var rng = TestRandom(22)
        // (planes, H, W, kernel, stride, padding): the backbone's 3x3/2/1 and odd shapes.
        for (planes, h, w, k, s, p) in [(3, 7, 9, 3, 2, 1), (2, 5, 6, 2, 2, 0), (1, 8, 7, 3, 1, 1)] {
            // Distinct values 0.1 apart, shuffled, so FD steps of 1e-2 never change an argmax.
            var x = (0..<(planes * h * w)).map { Float($0) * 0.1 }
            for i in stride(from: x.count - 1, to: 0, by: -1) { x.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            let oh = maxPoolOutputSize(input: h, kernel: k, stride: s, padding: p)
            let ow = maxPoolOutputSize(input: w, kernel: k, stride: s, padding: p)
            let r = rng.array(planes * oh * ow)
            var fast = [Float](repeating: 0, count: x.count), slow = fast
            maxPool2dBackward(input: x, gradOutput: r, gradInput: &fast, planes: planes, inH: h, inW: w, kernel: k, stride: s, padding: p, threads: .allCores)
            maxPool2dBackwardReference(input: x, gradOutput: r, gradInput: &slow, planes: planes, inH: h, inW: w,
                                       kernel: k, stride: s, padding: p)
            assertClose(fast, slow, tolerance: 0, "maxpool \(k)/\(s)/\(p) fast vs reference")
            let fd = finiteDifferences(&x, step: 1e-2) { v in
                var y = [Float](repeating: 0, count: r.count)
                maxPool2d(input: v, output: &y, planes: planes, inH: h, inW: w, kernel: k, stride: s, padding: p, threads: .allCores)
                return y.withUnsafeBufferPointer { weightedSum($0.baseAddress!, r) }
            }
            assertClose(fast, fd, tolerance: 3e-3, "maxpool \(k)/\(s)/\(p) vs FD")
        }
    }

    /// Ties: PyTorch routes the gradient to the first maximum in row-major window order.
    func testMaxPoolTieGoesToFirstMaximum() {
        let x: [Float] = [1, 1, 0,
                          1, 0.5, 1]
        var fast = [Float](repeating: 0, count: 6), slow = fast
        maxPool2dBackward(input: x, gradOutput: [1, 1], gradInput: &fast, planes: 1, inH: 2, inW: 3, kernel: 2, stride: 1, padding: 0, threads: .allCores)
        maxPool2dBackwardReference(input: x, gradOutput: [1, 1], gradInput: &slow, planes: 1, inH: 2, inW: 3, kernel: 2, stride: 1, padding: 0)
        // torch: max_pool2d(x, 2, 1).sum().backward() gives [[1, 1, 0], [0, 0, 0]].
        XCTAssertEqual(fast, [1, 1, 0, 0, 0, 0])
        XCTAssertEqual(slow, [1, 1, 0, 0, 0, 0])
    }

    func testGlobalAveragePoolAndUpsample() {
        var rng = TestRandom(23)
        let planes = 4, size = 15
        var x = rng.array(planes * size)
        let r = rng.array(planes)
        var dx = [Float](repeating: 0, count: x.count)
        globalAveragePoolBackward(gradOutput: r, gradInput: &dx, planes: planes, planeSize: size, threads: .allCores)
        let fd = finiteDifferences(&x, step: 1e-2) { v in
            var y = [Float](repeating: 0, count: planes)
            globalAveragePool(input: v, output: &y, planes: planes, planeSize: size, threads: .allCores)
            return y.withUnsafeBufferPointer { weightedSum($0.baseAddress!, r) }
        }
        assertClose(dx, fd, tolerance: 3e-3, "global average pool vs FD")

        // FPN's top-down sizes: exact 2x, and odd sizes (the float-scale rule).
        for (h, w, oh, ow) in [(3, 4, 6, 8), (3, 5, 7, 9), (4, 4, 4, 4)] {
            var u = rng.array(2 * h * w)
            let ru = rng.array(2 * oh * ow)
            var du = [Float](repeating: 0, count: u.count)
            upsampleNearestBackward(gradOutput: ru, gradInput: &du, planes: 2, inH: h, inW: w, outH: oh, outW: ow, threads: .allCores)
            let fdu = finiteDifferences(&u, step: 1e-2) { v in
                var y = [Float](repeating: 0, count: ru.count)
                upsampleNearest(input: v, output: &y, planes: 2, inH: h, inW: w, outH: oh, outW: ow, threads: .allCores)
                return y.withUnsafeBufferPointer { weightedSum($0.baseAddress!, ru) }
            }
            assertClose(du, fdu, tolerance: 3e-3, "upsample \(h)x\(w)->\(oh)x\(ow) vs FD")
        }
    }

    func testMultiplyAndChannelScale() {
        var rng = TestRandom(24)
        let planes = 6, size = 5
        var a = rng.array(planes * size), s = rng.array(planes)
        let b = rng.array(planes * size), r = rng.array(planes * size)
        var da = [Float](repeating: 0, count: a.count), db = da
        multiplyBackward(a, b, gradOutput: r, gradA: &da, gradB: &db, count: a.count, threads: .allCores)
        let a0 = a
        let fdA = finiteDifferences(&a, step: 1e-2) { v in
            var y = [Float](repeating: 0, count: r.count)
            multiply(v, b, output: &y, count: r.count, threads: .allCores)
            return y.withUnsafeBufferPointer { weightedSum($0.baseAddress!, r) }
        }
        assertClose(da, fdA, tolerance: 3e-3, "multiply dA vs FD")
        assertClose(db, zip(r, a0).map { Double($0) * Double($1) }, tolerance: 1e-6, "multiply dB")

        var dx = [Float](repeating: 0, count: a.count), ds = [Float](repeating: 0, count: planes)
        scaleChannelsBackward(a0, scale: s, gradOutput: r, gradX: &dx, gradScale: &ds, planes: planes, planeSize: size, threads: .allCores)
        let fdS = finiteDifferences(&s, step: 1e-2) { v in
            var y = [Float](repeating: 0, count: r.count)
            scaleChannels(a0, scale: v, output: &y, planes: planes, planeSize: size, threads: .allCores)
            return y.withUnsafeBufferPointer { weightedSum($0.baseAddress!, r) }
        }
        assertClose(ds, fdS, tolerance: 3e-3, "channel scale dScale vs FD")
        assertClose(dx, (0..<a0.count).map { Double(r[$0]) * Double(s[$0 / size]) }, tolerance: 1e-6, "channel scale dX")
    }

    func testActivationsAgainstFiniteDifferences() {
        var rng = TestRandom(25)
        let kinks: [KernelActivation: [Float]] = [.relu: [0], .relu6: [0, 6], .hardswish: [-3, 3], .hardsigmoid: [-3, 3]]
        for act in KernelActivation.allCases {
            // Points in [-8, 8] at least 0.05 from every kink.
            var x = rng.array(64, -8, 8).filter { v in (kinks[act] ?? []).allSatisfy { abs(v - $0) > 0.05 } }
            let r = rng.array(x.count)
            var dx = [Float](repeating: 0, count: x.count)
            activationBackward(input: x, gradOutput: r, gradInput: &dx, count: x.count, activation: act, threads: .allCores)
            let fd = finiteDifferences(&x, step: 1e-3) { v in
                var y = [Float](repeating: 0, count: v.count)
                activate(v, output: &y, count: v.count, activation: act, threads: .allCores)
                return y.withUnsafeBufferPointer { weightedSum($0.baseAddress!, r) }
            }
            assertClose(dx, fd, tolerance: 3e-3, "\(act) vs FD")
        }
    }

    /// The derivative at the kinks is PyTorch's (torch 2.x autograd values).
    func testActivationKinksFollowPyTorch() {
        let x: [Float] = [-3, 0, 3, 6, .nan]
        let expected: [KernelActivation: [Float]] = [
            .relu: [0, 0, 1, 1, 1],
            .relu6: [0, 0, 1, 0, 0],
            .hardswish: [0, 0.5, 1, 1, .nan],
            .hardsigmoid: [0, 1.0 / 6, 0, 0, 0],
        ]
        for (act, want) in expected {
            let got = x.map { act.backward($0, 1) }
            for (g, e) in zip(got, want) {
                if e.isNaN { XCTAssertTrue(g.isNaN, "\(act): expected NaN, got \(g)") } else { XCTAssertEqual(g, e, "\(act) at kinks: \(got)") }
            }
        }
    }
}
