// The depthwise convs of MobileNetV3-Large (800x1088 input) on every instruction
// set this CPU supports (generic SSE2, AVX2+FMA, AVX-512F builds of the C kernel),
// runs interleaved (generic, avx2, avx512, generic, ...) so load changes on the
// shared machine hit all alike; median wall and process CPU time of each, GFLOP/s
// by wall time next to the sgemm of the same run.

import Foundation
import VisionKernels

func depthwiseTimes(_ g: ConvGeometry, _ sets: [InstructionSet]) -> [Timed] {
    let input = randomBuffer(g.inputCount), weight = randomBuffer(g.weightCount)
    let bias = randomBuffer(g.outChannels), output = randomBuffer(g.outputCount)
    defer { input.deallocate(); weight.deallocate(); bias.deallocate(); output.deallocate() }
    let runs = sets.map { isa in
        { conv2d(input: input, weight: weight, bias: bias, output: output, geometry: g, activation: .relu,
                 threads: threads, instructionSet: isa, tiling: tiling) }
    }
    let first = runs.reduce(0) { $0 + seconds($1) }
    let rounds = max(5, min(15, Int(0.6 / max(first, 1e-6))))
    var times = Array(repeating: [Timed](), count: sets.count)
    for _ in 0..<rounds {
        for (i, run) in runs.enumerated() { times[i].append(timed(run)) }
    }
    return times.map { Timed(wall: median($0.map(\.wall)), cpu: median($0.map(\.cpu))) }
}

func runInstructionSetComparison(sgemm: Double) {
    let sets = InstructionSet.allCases.filter(\.isSupported)
    print("\nDepthwise convs per instruction set (bias+relu, interleaved medians; detected: \(InstructionSet.detected))")
    let header = sets.map { pad("\($0) ms/GF/s/%", 22) }.joined(separator: " ")
    print("\(pad("conv", 28)) \(header) cpu ms \(sets.map(\.description).joined(separator: "/"))")
    var flops = 0.0
    var wall = Array(repeating: 0.0, count: sets.count)
    for c in mobilenetDepthwise {
        let g = c.geometry
        let t = depthwiseTimes(g, sets)
        flops += g.flops
        for i in sets.indices { wall[i] += t[i].wall }
        let cells = t.map { x -> String in
            let gf = g.flops / x.wall / 1e9
            return pad("\(fmt(x.wall * 1e3, 2)) / \(fmt(gf)) / \(fmt(100 * gf / sgemm))", 22)
        }.joined(separator: " ")
        print("\(pad(c.name, 28)) \(cells) \(t.map { fmt($0.cpu * 1e3, 2) }.joined(separator: "/"))")
    }
    let total = wall.map { w -> String in
        let gf = flops / w / 1e9
        return pad("\(fmt(w * 1e3, 2)) / \(fmt(gf)) / \(fmt(100 * gf / sgemm))", 22)
    }.joined(separator: " ")
    print("\(pad("all (flop-weighted)", 28)) \(total)")
}
