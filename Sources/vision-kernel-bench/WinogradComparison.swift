// im2col + sgemm against Winograd F(4x4, 3x3) on the 3x3 stride-1 convs of
// ResNet-50 (800x1088 input) and its FPN. Both get the same input, weights and
// bias+relu; runs alternate A, B, A, B so load changes on the shared machine hit
// both alike; each reports the median wall time and the median process CPU time
// (CPU time is what to decide on while the machine is loaded: a descheduled
// thread does not count; with --threads 1 it is the kernel's total work). "Effective GFLOP/s" = direct-conv FLOPs
// (ConvGeometry.flops) / time, so it is comparable with sgemm's GFLOP/s.

import Foundation
import VisionKernels

let winogradCases: [ConvCase] = [
    ConvCase("l1 3x3 64->64", cin: 64, cout: 64, k: 3, h: 200, w: 272),
    ConvCase("l2 3x3 128->128", cin: 128, cout: 128, k: 3, h: 100, w: 136),
    ConvCase("l3 3x3 256->256", cin: 256, cout: 256, k: 3, h: 50, w: 68),
    ConvCase("l4 3x3 512->512", cin: 512, cout: 512, k: 3, h: 25, w: 34),
    ConvCase("fpn 3x3 256 @200x272", cin: 256, cout: 256, k: 3, h: 200, w: 272),
    ConvCase("fpn 3x3 256 @100x136", cin: 256, cout: 256, k: 3, h: 100, w: 136),
    ConvCase("fpn 3x3 256 @50x68", cin: 256, cout: 256, k: 3, h: 50, w: 68),
    ConvCase("fpn 3x3 256 @25x34", cin: 256, cout: 256, k: 3, h: 25, w: 34),
    ConvCase("fpn 3x3 256 @13x17", cin: 256, cout: 256, k: 3, h: 13, w: 17),
    ConvCase("640x480: l1 64 @120x160", cin: 64, cout: 64, k: 3, h: 120, w: 160),
    ConvCase("640x480: l4 512 @15x20", cin: 512, cout: 512, k: 3, h: 15, w: 20),
    ConvCase("small: 32 @40x48", cin: 32, cout: 32, k: 3, h: 40, w: 48),
    ConvCase("small: 16 @20x24", cin: 16, cout: 16, k: 3, h: 20, w: 24),
]

struct Timed { var wall: Double; var cpu: Double }

func processCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func timed(_ body: () -> Void) -> Timed {
    let cpu0 = processCPUSeconds()
    let wall = seconds(body)
    return Timed(wall: wall, cpu: processCPUSeconds() - cpu0)
}

func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

func winogradTimes(_ g: ConvGeometry) -> (im2col: Timed, winograd: Timed) {
    let input = randomBuffer(g.inputCount), weight = randomBuffer(g.weightCount)
    let bias = randomBuffer(g.outChannels), output = randomBuffer(g.outputCount)
    let transformed = UnsafeMutablePointer<Float>.allocate(
        capacity: winogradWeightCount(outChannels: g.outChannels, inChannels: g.inChannels))
    defer { input.deallocate(); weight.deallocate(); bias.deallocate(); output.deallocate(); transformed.deallocate() }
    winogradTransformWeights(weight: weight, outChannels: g.outChannels, inChannels: g.inChannels, output: transformed,
                             threads: threads)
    let runA = {
        conv2d(input: input, weight: weight, bias: bias, output: output, geometry: g, activation: .relu, threads: threads,
               tiling: tiling)
    }
    let runB = {
        conv2dWinograd(input: input, transformedWeight: transformed, bias: bias, output: output,
                       geometry: g, activation: .relu, threads: threads, tiling: tiling)
    }
    let first = seconds(runA) + seconds(runB)
    let runs = max(5, min(15, Int(1.0 / max(first, 1e-6))))
    var a: [Timed] = [], b: [Timed] = []
    for _ in 0..<runs {
        a.append(timed(runA))
        b.append(timed(runB))
    }
    return (Timed(wall: median(a.map(\.wall)), cpu: median(a.map(\.cpu))),
            Timed(wall: median(b.map(\.wall)), cpu: median(b.map(\.cpu))))
}

func runWinogradComparison(sgemm: Double) {
    print("\n3x3 stride-1 convs: im2col+sgemm vs Winograd F(4x4,3x3) (bias+relu, interleaved medians)")
    print("winograd block \(tiling.winogradBlockTiles) tiles (\(tiling.winogradMinBlockTiles) min, \(tiling.winogradBlockFloats) floats max); sgemm \(fmt(sgemm)) GFLOP/s")
    print("\(pad("conv", 26)) \(pad("out", 14)) \(pad("im2col ms", 10)) \(pad("wino ms", 10)) \(pad("im2col GF/s", 12)) \(pad("wino eff GF/s", 14)) \(pad("speedup", 8)) \(pad("cpu ms im2col/wino", 19)) cpu speedup")
    for c in winogradCases {
        let g = c.geometry
        let (a, b) = winogradTimes(g)
        print("\(pad(c.name, 26)) \(pad("\(g.outChannels)x\(g.outH)x\(g.outW)", 14)) \(pad(fmt(a.wall * 1e3, 2), 10)) \(pad(fmt(b.wall * 1e3, 2), 10)) \(pad(fmt(g.flops / a.wall / 1e9), 12)) \(pad(fmt(g.flops / b.wall / 1e9), 14)) \(pad(fmt(a.wall / b.wall, 2) + "x", 8)) \(pad(fmt(a.cpu * 1e3, 2) + "/" + fmt(b.cpu * 1e3, 2), 19)) \(fmt(a.cpu / b.cpu, 2))x")
    }
}
