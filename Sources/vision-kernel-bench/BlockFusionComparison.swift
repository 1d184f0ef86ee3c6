// The MobileNet inverted-residual blocks without squeeze-excitation, fused
// (invertedResidualFused: band by band, each thread its own rows) against the three
// separate convs the unfused path runs (conv2d expand, conv2d depthwise, conv2d project
// with the residual in its epilogue), timed interleaved (A, B, A, B, ...) with medians, on
// the block shapes of MobileNetV3-Large at the 800 px and the 320 px detectors' inputs
// and of MobileNetV2 at the shipped model's 640 px input (1280x720 images).
// GFLOP/s count the three convs' FLOPs. "backend" says which of the two the CPU backend
// runs for the block (ConvTiling.fusedBlockMinPixels).

import Foundation
import VisionKernels

struct BlockCase {
    let name: String
    let inChannels: Int, expanded: Int, outChannels: Int, kernel: Int, stride: Int
    let h: Int, w: Int
    let activation: KernelActivation

    var hasExpand: Bool { expanded != inChannels }
    var residual: Bool { stride == 1 && inChannels == outChannels }
    var depthwise: ConvGeometry {
        ConvGeometry(batch: 1, inChannels: expanded, inH: h, inW: w, outChannels: expanded, kernelH: kernel, kernelW: kernel,
                     strideH: stride, strideW: stride, padH: kernel / 2, padW: kernel / 2, groups: expanded)
    }
    var expand: ConvGeometry { ConvGeometry(batch: 1, inChannels: inChannels, inH: h, inW: w, outChannels: expanded, kernelH: 1, kernelW: 1) }
    var project: ConvGeometry {
        ConvGeometry(batch: 1, inChannels: expanded, inH: depthwise.outH, inW: depthwise.outW, outChannels: outChannels,
                     kernelH: 1, kernelW: 1)
    }
    var flops: Double { (hasExpand ? expand.flops : 0) + depthwise.flops + project.flops }
}

/// MobileNetV3-Large's blocks without squeeze-excitation (torchvision's table), input h x w of the image.
func mobilenetV3Blocks(imageH: Int, imageW: Int) -> [BlockCase] {
    let s2 = (imageH / 2, imageW / 2), s4 = (imageH / 4, imageW / 4), s8 = (imageH / 8, imageW / 8), s16 = (imageH / 16, imageW / 16)
    return [
        BlockCase(name: "v3 16 k3 16->16", inChannels: 16, expanded: 16, outChannels: 16, kernel: 3, stride: 1, h: s2.0, w: s2.1, activation: .relu),
        BlockCase(name: "v3 16 k3 s2 64->24", inChannels: 16, expanded: 64, outChannels: 24, kernel: 3, stride: 2, h: s2.0, w: s2.1, activation: .relu),
        BlockCase(name: "v3 24 k3 72->24", inChannels: 24, expanded: 72, outChannels: 24, kernel: 3, stride: 1, h: s4.0, w: s4.1, activation: .relu),
        BlockCase(name: "v3 40 k3 s2 240->80", inChannels: 40, expanded: 240, outChannels: 80, kernel: 3, stride: 2, h: s8.0, w: s8.1, activation: .hardswish),
        BlockCase(name: "v3 80 k3 200->80", inChannels: 80, expanded: 200, outChannels: 80, kernel: 3, stride: 1, h: s16.0, w: s16.1, activation: .hardswish),
        BlockCase(name: "v3 80 k3 184->80 (x2)", inChannels: 80, expanded: 184, outChannels: 80, kernel: 3, stride: 1, h: s16.0, w: s16.1, activation: .hardswish),
    ]
}

/// MobileNetV2's blocks (all without squeeze-excitation), one of each distinct shape.
func mobilenetV2Blocks(imageH: Int, imageW: Int) -> [BlockCase] {
    func at(_ f: Int) -> (Int, Int) { (imageH / f, imageW / f) }
    func block(_ cin: Int, _ cexp: Int, _ cout: Int, _ s: Int, _ f: Int, _ note: String = "") -> BlockCase {
        BlockCase(name: "v2 \(cin) s\(s) \(cexp)->\(cout)\(note)", inChannels: cin, expanded: cexp, outChannels: cout, kernel: 3,
                  stride: s, h: at(f).0, w: at(f).1, activation: .relu6)
    }
    return [
        block(32, 32, 16, 1, 2), block(16, 96, 24, 2, 2), block(24, 144, 24, 1, 4), block(24, 144, 32, 2, 4),
        block(32, 192, 32, 1, 8, " (x2)"), block(32, 192, 64, 2, 8), block(64, 384, 64, 1, 16, " (x3)"),
        block(64, 384, 96, 1, 16), block(96, 576, 96, 1, 16, " (x2)"), block(96, 576, 160, 2, 16),
        block(160, 960, 160, 1, 32, " (x2)"), block(160, 960, 320, 1, 32),
    ]
}

/// (fused ms, unfused ms), interleaved medians.
func timeBlock(_ c: BlockCase) -> (fused: Double, unfused: Double) {
    let dg = c.depthwise
    let input = randomBuffer(c.inChannels * c.h * c.w)
    let expandWeight = randomBuffer(c.expanded * c.inChannels), expandBias = randomBuffer(c.expanded)
    let dwWeight = randomBuffer(c.expanded * c.kernel * c.kernel), dwBias = randomBuffer(c.expanded)
    let projectWeight = randomBuffer(c.outChannels * c.expanded), projectBias = randomBuffer(c.outChannels)
    let expandedMap = randomBuffer(c.expanded * c.h * c.w), dwMap = randomBuffer(c.expanded * dg.outH * dg.outW)
    let output = randomBuffer(c.outChannels * dg.outH * dg.outW)
    defer {
        for p in [input, expandWeight, expandBias, dwWeight, dwBias, projectWeight, projectBias, expandedMap, dwMap, output] {
            p.deallocate()
        }
    }
    let fused = {
        invertedResidualFused(
            input: input, inChannels: c.inChannels,
            expand: c.hasExpand ? FusedConvStep(weight: expandWeight, bias: expandBias, activation: c.activation) : nil,
            depthwise: FusedConvStep(weight: dwWeight, bias: dwBias, activation: c.activation), depthwise: dg,
            project: FusedConvStep(weight: projectWeight, bias: projectBias, activation: .identity),
            outChannels: c.outChannels, addsInput: c.residual, output: output, threads: threads,
            instructionSet: instructionSet, bandFloats: tiling.fusedBlockBandFloats)
    }
    let unfused = {
        if c.hasExpand {
            conv2d(input: input, weight: expandWeight, bias: expandBias, output: expandedMap, geometry: c.expand,
                   activation: c.activation, threads: threads, instructionSet: instructionSet, tiling: tiling)
        }
        conv2d(input: c.hasExpand ? UnsafePointer(expandedMap) : UnsafePointer(input), weight: dwWeight, bias: dwBias,
               output: dwMap, geometry: dg, activation: c.activation, threads: threads, instructionSet: instructionSet,
               tiling: tiling)
        conv2d(input: dwMap, weight: projectWeight, bias: projectBias, output: output, geometry: c.project,
               activation: .identity, threads: threads, instructionSet: instructionSet,
               residual: c.residual ? UnsafePointer(input) : nil, tiling: tiling)
    }
    fused(); unfused()
    let first = seconds(fused)
    let runs = max(5, min(15, Int(0.3 / max(first, 1e-6))))
    var a: [Double] = [], b: [Double] = []
    for _ in 0..<runs {
        a.append(seconds(fused))
        b.append(seconds(unfused))
    }
    return (a.sorted()[runs / 2] * 1e3, b.sorted()[runs / 2] * 1e3)
}

func runBlockFusionComparison(sgemm: Double) {
    let tables = [
        ("MobileNetV3-Large blocks without SE, 800x1344 input (1280x720 image, 800 px model)", mobilenetV3Blocks(imageH: 800, imageW: 1344)),
        ("MobileNetV3-Large blocks without SE, 320x576 input (1280x720 image, 320 px model)", mobilenetV3Blocks(imageH: 320, imageW: 576)),
        ("MobileNetV2 blocks, 640x1152 input (1280x720 image, the shipped 640 px model)", mobilenetV2Blocks(imageH: 640, imageW: 1152)),
    ]
    for (title, cases) in tables {
        print("\n\(title): fused vs three convs, interleaved medians")
        print("\(pad("block", 26)) \(pad("in", 14)) \(pad("fused ms", 9)) \(pad("3 convs ms", 11)) \(pad("ratio", 6)) \(pad("backend", 8)) fused % sgemm")
        var fusedTotal = 0.0, unfusedTotal = 0.0, flops = 0.0
        for c in cases {
            let (f, u) = timeBlock(c)
            fusedTotal += f; unfusedTotal += u; flops += c.flops
            let gf = c.flops / (f / 1e3) / 1e9
            let routed = c.depthwise.outH * c.depthwise.outW >= tiling.fusedBlockMinPixels ? "fused" : "3 convs"
            print("\(pad(c.name, 26)) \(pad("\(c.inChannels)x\(c.h)x\(c.w)", 14)) \(pad(fmt(f, 3), 9)) \(pad(fmt(u, 3), 11)) \(pad(fmt(f / u, 2), 6)) \(pad(routed, 8)) \(fmt(100 * gf / sgemm))")
        }
        print("\(pad("all (each shape once)", 26)) \(pad("", 14)) \(pad(fmt(fusedTotal, 3), 9)) \(pad(fmt(unfusedTotal, 3), 11)) \(pad(fmt(fusedTotal / unfusedTotal, 2), 6)) \(pad("", 8)) \(fmt(100 * flops / (fusedTotal / 1e3) / 1e9 / sgemm))")
    }
}
