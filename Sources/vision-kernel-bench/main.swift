// vision-kernel-bench: conv2d GFLOP/s of the CPU kernels on the conv shapes of
// ResNet-50 and MobileNetV3-Large depthwise blocks at an 800x1088 input, next to
// cblas_sgemm GFLOP/s on 2048^3 measured in the same run.
// GFLOP/s = 2 * Cout * Cin/groups * kH * kW * Hout * Wout * N / seconds (median).
//
// Then the 3x3 stride-1 convs of ResNet-50 and its FPN, im2col+sgemm against
// Winograd F(4x4, 3x3), timed interleaved (A, B, A, B, ...) with medians; the
// "effective GFLOP/s" of both count the direct conv's FLOPs.
//
// Then the depthwise convs on every supported instruction set (InstructionSetComparison.swift),
// and the fused MobileNet blocks against their three convs (BlockFusionComparison.swift).
//
// Usage: vision-kernel-bench [--threads N] [--tile FLOATS] [--wino-tiles N] [--only-winograd 1]
//                            [--only-depthwise 1] [--only-sgemm 1] [--only-blocks 1] [--band FLOATS]
// VISION_CPU_ISA=generic|avx2|avx512 forces the instruction set of the first tables
// (default: the widest this CPU has).

import COpenBLAS
import Foundation
import VisionKernels

struct BenchOptions {
    var threads = 2
    var tileFloats: Int? = nil
    var winogradBlock: Int? = nil
    var onlyWinograd = false
    var onlyDepthwise = false
    /// Only the sgemm line (Tests/Benchmarks/train_flops.py reads it).
    var onlySgemm = false
    /// Only the fused-block table (BlockFusionComparison.swift).
    var onlyBlocks = false
    var bandFloats: Int? = nil

    init(arguments: [String]) {
        var i = 1
        while i < arguments.count {
            let flag = arguments[i]
            let value = i + 1 < arguments.count ? Int(arguments[i + 1]) : nil
            switch (flag, value) {
            case ("--threads", let v?) where v >= 1: threads = v
            case ("--tile", let v?) where v >= 1: tileFloats = v
            case ("--wino-tiles", let v?) where v >= 1: winogradBlock = v
            case ("--only-winograd", let v?): onlyWinograd = v != 0
            case ("--only-depthwise", let v?): onlyDepthwise = v != 0
            case ("--only-sgemm", let v?): onlySgemm = v != 0
            case ("--only-blocks", let v?): onlyBlocks = v != 0
            case ("--band", let v?) where v >= 1: bandFloats = v
            default:
                FileHandle.standardError.write("usage: vision-kernel-bench [--threads N] [--tile FLOATS]\n".data(using: .utf8)!)
                exit(2)
            }
            i += 2
        }
    }
}

struct ConvCase {
    let name: String
    let geometry: ConvGeometry

    init(_ name: String, cin: Int, cout: Int, k: Int, stride: Int = 1, h: Int, w: Int, depthwise: Bool = false) {
        self.name = name
        geometry = ConvGeometry(batch: 1, inChannels: cin, inH: h, inW: w, outChannels: cout,
                                kernelH: k, kernelW: k, strideH: stride, strideW: stride,
                                padH: k / 2, padW: k / 2, groups: depthwise ? cin : 1)
    }
}

func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Median seconds over several runs after one warm-up; fewer runs for slow cases.
func medianSeconds(budget: Double = 0.4, _ body: () -> Void) -> Double {
    let first = seconds(body)
    let runs = max(3, min(9, Int(budget / max(first, 1e-6))))
    let times = (0..<runs).map { _ in seconds(body) }.sorted()
    return times[runs / 2]
}

func randomBuffer(_ count: Int) -> UnsafeMutablePointer<Float> {
    let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
    var state: UInt32 = 12345
    for i in 0..<count {
        state = state &* 1664525 &+ 1013904223
        p[i] = Float(state >> 8) / Float(1 << 24) - 0.5
    }
    return p
}

/// cblas_sgemm with OpenBLAS's own threading at the kernels' thread count: the ceiling.
func sgemmGflops() -> Double {
    openblas_set_num_threads(Int32(threads.count))
    defer { openblas_set_num_threads(1) }  // the kernels' GEMMs set their own count in comparison mode
    let n = 2048
    let a = randomBuffer(n * n), b = randomBuffer(n * n), c = randomBuffer(n * n)
    defer { a.deallocate(); b.deallocate(); c.deallocate() }
    let t = medianSeconds(budget: 0.5) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n),
                    1, a, Int32(n), b, Int32(n), 0, c, Int32(n))
    }
    return 2 * Double(n * n * n) / t / 1e9
}

func convGflops(_ g: ConvGeometry) -> (gflops: Double, ms: Double) {
    let input = randomBuffer(g.inputCount), weight = randomBuffer(g.weightCount)
    let bias = randomBuffer(g.outChannels), output = randomBuffer(g.outputCount)
    defer { input.deallocate(); weight.deallocate(); bias.deallocate(); output.deallocate() }
    let t = medianSeconds {
        conv2d(input: input, weight: weight, bias: bias, output: output, geometry: g, activation: .relu,
               threads: threads, instructionSet: instructionSet, tiling: tiling)
    }
    return (g.flops / t / 1e9, t * 1e3)
}

let resnet50: [ConvCase] = [
    ConvCase("stem 7x7 s2 3->64", cin: 3, cout: 64, k: 7, stride: 2, h: 800, w: 1088),
    ConvCase("l1 1x1 64->64", cin: 64, cout: 64, k: 1, h: 200, w: 272),
    ConvCase("l1 3x3 64->64", cin: 64, cout: 64, k: 3, h: 200, w: 272),
    ConvCase("l1 1x1 64->256", cin: 64, cout: 256, k: 1, h: 200, w: 272),
    ConvCase("l1 1x1 256->64", cin: 256, cout: 64, k: 1, h: 200, w: 272),
    ConvCase("l2 1x1 256->128", cin: 256, cout: 128, k: 1, h: 200, w: 272),
    ConvCase("l2 3x3 s2 128->128", cin: 128, cout: 128, k: 3, stride: 2, h: 200, w: 272),
    ConvCase("l2 3x3 128->128", cin: 128, cout: 128, k: 3, h: 100, w: 136),
    ConvCase("l2 1x1 128->512", cin: 128, cout: 512, k: 1, h: 100, w: 136),
    ConvCase("l2 1x1 512->128", cin: 512, cout: 128, k: 1, h: 100, w: 136),
    ConvCase("l2 down 1x1 s2 256->512", cin: 256, cout: 512, k: 1, stride: 2, h: 200, w: 272),
    ConvCase("l3 1x1 512->256", cin: 512, cout: 256, k: 1, h: 100, w: 136),
    ConvCase("l3 3x3 s2 256->256", cin: 256, cout: 256, k: 3, stride: 2, h: 100, w: 136),
    ConvCase("l3 3x3 256->256", cin: 256, cout: 256, k: 3, h: 50, w: 68),
    ConvCase("l3 1x1 256->1024", cin: 256, cout: 1024, k: 1, h: 50, w: 68),
    ConvCase("l3 1x1 1024->256", cin: 1024, cout: 256, k: 1, h: 50, w: 68),
    ConvCase("l3 down 1x1 s2 512->1024", cin: 512, cout: 1024, k: 1, stride: 2, h: 100, w: 136),
    ConvCase("l4 1x1 1024->512", cin: 1024, cout: 512, k: 1, h: 50, w: 68),
    ConvCase("l4 3x3 s2 512->512", cin: 512, cout: 512, k: 3, stride: 2, h: 50, w: 68),
    ConvCase("l4 3x3 512->512", cin: 512, cout: 512, k: 3, h: 25, w: 34),
    ConvCase("l4 1x1 512->2048", cin: 512, cout: 2048, k: 1, h: 25, w: 34),
    ConvCase("l4 1x1 2048->512", cin: 2048, cout: 512, k: 1, h: 25, w: 34),
    ConvCase("l4 down 1x1 s2 1024->2048", cin: 1024, cout: 2048, k: 1, stride: 2, h: 50, w: 68),
]

let mobilenetDepthwise: [ConvCase] = [
    ConvCase("dw 3x3 16 @400x544", cin: 16, cout: 16, k: 3, h: 400, w: 544, depthwise: true),
    ConvCase("dw 3x3 s2 64 @400x544", cin: 64, cout: 64, k: 3, stride: 2, h: 400, w: 544, depthwise: true),
    ConvCase("dw 3x3 72 @200x272", cin: 72, cout: 72, k: 3, h: 200, w: 272, depthwise: true),
    ConvCase("dw 5x5 s2 72 @200x272", cin: 72, cout: 72, k: 5, stride: 2, h: 200, w: 272, depthwise: true),
    ConvCase("dw 5x5 120 @100x136", cin: 120, cout: 120, k: 5, h: 100, w: 136, depthwise: true),
    ConvCase("dw 3x3 s2 240 @100x136", cin: 240, cout: 240, k: 3, stride: 2, h: 100, w: 136, depthwise: true),
    ConvCase("dw 3x3 200 @50x68", cin: 200, cout: 200, k: 3, h: 50, w: 68, depthwise: true),
    ConvCase("dw 3x3 480 @50x68", cin: 480, cout: 480, k: 3, h: 50, w: 68, depthwise: true),
    ConvCase("dw 3x3 672 @50x68", cin: 672, cout: 672, k: 3, h: 50, w: 68, depthwise: true),
    ConvCase("dw 5x5 s2 672 @50x68", cin: 672, cout: 672, k: 5, stride: 2, h: 50, w: 68, depthwise: true),
    ConvCase("dw 5x5 960 @25x34", cin: 960, cout: 960, k: 5, h: 25, w: 34, depthwise: true),
]

let options = BenchOptions(arguments: CommandLine.arguments)
/// The thread count of every kernel call.
let threads = KernelThreads(options.threads)
/// The instruction set of the ResNet-50 and MobileNet tables.
let instructionSet: InstructionSet
do {
    instructionSet = try InstructionSet.fromEnvironment(ProcessInfo.processInfo.environment)
} catch {
    FileHandle.standardError.write("vision-kernel-bench: \(error)\n".data(using: .utf8)!)
    exit(2)
}
/// The block sizes of every conv call: the kernels' defaults unless --tile / --wino-tiles.
let tiling: ConvTiling = {
    var t = ConvTiling.standard
    if let tile = options.tileFloats { t.tileFloats = tile }
    if let block = options.winogradBlock { t.winogradBlockTiles = block }
    if let band = options.bandFloats { t.fusedBlockBandFloats = band }
    return t
}()

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
func fmt(_ x: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", x) }

let benchStart = DispatchTime.now().uptimeNanoseconds
let sgemm = sgemmGflops()
print("threads \(options.threads), conv tile \(tiling.tileFloats) floats, instruction set \(instructionSet)")
print("cblas_sgemm 2048x2048x2048: \(fmt(sgemm)) GFLOP/s")
if options.onlySgemm { exit(0) }
if options.onlyBlocks {
    runBlockFusionComparison(sgemm: sgemm)
    exit(0)
}
let tables = options.onlyDepthwise ? [("MobileNetV3-Large depthwise convs (input 800x1088, bias+relu)", mobilenetDepthwise)]
    : options.onlyWinograd ? [] : [("ResNet-50 convs (input 800x1088, bias+relu)", resnet50),
                       ("MobileNetV3-Large depthwise convs (input 800x1088, bias+relu)", mobilenetDepthwise)]
for (title, cases) in tables {
    print("\n\(title)")
    print("\(pad("conv", 28)) \(pad("out", 16)) \(pad("ms", 8)) \(pad("GFLOP/s", 8)) % sgemm")
    var totalFlops = 0.0, totalSeconds = 0.0
    for c in cases {
        let g = c.geometry
        let (gf, ms) = convGflops(g)
        totalFlops += g.flops; totalSeconds += ms / 1e3
        print("\(pad(c.name, 28)) \(pad("\(g.outChannels)x\(g.outH)x\(g.outW)", 16)) \(pad(fmt(ms, 2), 8)) \(pad(fmt(gf), 8)) \(fmt(100 * gf / sgemm))")
    }
    let overall = totalFlops / totalSeconds / 1e9
    print("\(pad("all (flop-weighted)", 28)) \(pad("", 16)) \(pad(fmt(totalSeconds * 1e3, 2), 8)) \(pad(fmt(overall), 8)) \(fmt(100 * overall / sgemm))")
}
if !options.onlyDepthwise { runWinogradComparison(sgemm: sgemm) }
if !options.onlyWinograd { runInstructionSetComparison(sgemm: sgemm) }
if !options.onlyWinograd && !options.onlyDepthwise { runBlockFusionComparison(sgemm: sgemm) }
print("\nbench wall time \(fmt(Double(DispatchTime.now().uptimeNanoseconds - benchStart) / 1e9)) s")
