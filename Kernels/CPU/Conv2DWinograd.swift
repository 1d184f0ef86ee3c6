// 3x3 stride-1 convolution by Winograd F(4x4, 3x3): 36 GEMMs of [Cout, Cin] x
// [Cin, tiles] instead of one [Cout, 9 Cin] x [9 Cin, pixels] GEMM, i.e. 2.25x
// fewer multiplies per output pixel than im2col (36 per 16 pixels vs 9 per pixel).
//
// Layouts: input [N, Cin, H, W]; transformed weight [36, Cout, Cin]
// (winogradTransformWeights); bias [Cout]; output [N, Cout, Hout, Wout].
// Tiles: the 4x4 output tiles of all images, numbered (n, tileRow, tileCol)
// row-major; they are processed in blocks of `count` tiles, each block with
//   V [36, Cin, count]   input transform Bᵀ d B of every (channel, tile),
//   M [36, Cout, count]  M[xi] = U[xi] V[xi] (cblas_sgemm),
// then the output transform Aᵀ M A fused with bias + activation, clipped at the
// right and bottom edges. Each thread owns a V/M pair and takes blocks from a
// shared counter; OpenBLAS runs single-threaded meanwhile (threads are ours).

import COpenBLAS
import Foundation

/// Target floats of V + M per block (per thread); tuned with vision-kernel-bench.
nonisolated(unsafe) public var winogradBlockFloats: Int = 1 << 19
/// Fewest tiles per block: GEMMs narrower than this run far below peak.
nonisolated(unsafe) public var winogradMinBlockTiles: Int = 48

/// Convolutions Winograd F(4x4, 3x3) computes: 3x3, stride 1, dilation 1, one group.
public func winogradSupports(_ g: ConvGeometry) -> Bool {
    g.kernelH == 3 && g.kernelW == 3 && g.strideH == 1 && g.strideW == 1
        && g.dilationH == 1 && g.dilationW == 1 && g.groups == 1
}

/// Floats of the transformed weight for `outChannels` x `inChannels` 3x3 filters.
public func winogradWeightCount(outChannels: Int, inChannels: Int) -> Int {
    WinogradF43.points * outChannels * inChannels
}

/// Same result as `conv2d` for a geometry `winogradSupports` accepts, up to
/// rounding (relative error ~1e-6..1e-5 of the output's largest magnitude).
public func conv2dWinograd(
    input: UnsafePointer<Float>, transformedWeight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
    output: UnsafeMutablePointer<Float>, geometry g: ConvGeometry, activation: KernelActivation
) {
    precondition(winogradSupports(g), "conv2dWinograd needs a 3x3 stride-1 undilated ungrouped conv, got \(g)")
    if g.batch == 0 { return }
    let plan = WinogradPlan(g)
    let threads = max(1, min(kernelThreadCount, plan.blocks))
    let next = BlockCounter()
    if threads > 1 { openblas_set_num_threads(1) }
    defer { if threads > 1 { openblas_set_num_threads(Int32(kernelThreadCount)) } }
    DispatchQueue.concurrentPerform(iterations: threads) { _ in
        let v = UnsafeMutablePointer<Float>.allocate(capacity: WinogradF43.points &* g.inChannels &* plan.blockTiles)
        let m = UnsafeMutablePointer<Float>.allocate(capacity: WinogradF43.points &* g.outChannels &* plan.blockTiles)
        let work = UnsafeMutablePointer<Float>.allocate(capacity: 36 &+ 36 &+ 24 &+ 16)
        defer { v.deallocate(); m.deallocate(); work.deallocate() }
        while let block = next.take(below: plan.blocks) {
            let first = block &* plan.blockTiles
            let count = min(plan.blockTiles, plan.totalTiles &- first)
            plan.transformInput(input, first: first, count: count, into: v, work: work)
            for xi in 0..<WinogradF43.points {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                            Int32(g.outChannels), Int32(count), Int32(g.inChannels),
                            1, transformedWeight + xi &* g.outChannels &* g.inChannels, Int32(g.inChannels),
                            v + xi &* g.inChannels &* count, Int32(count),
                            0, m + xi &* g.outChannels &* count, Int32(count))
            }
            plan.transformOutput(m, first: first, count: count, bias: bias, activation: activation,
                                 into: output, work: work)
        }
    }
}

/// Hands out block numbers 0, 1, 2, ... to whichever thread asks first.
final class BlockCounter: @unchecked Sendable {
    private var next = 0
    private let lock = NSLock()

    func take(below limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < limit else { return nil }
        next += 1
        return next - 1
    }
}

/// Tile grid and block size of one call, plus the per-block transforms.
struct WinogradPlan {
    let g: ConvGeometry
    let tilesH: Int, tilesW: Int, totalTiles: Int
    let blockTiles: Int, blocks: Int

    init(_ g: ConvGeometry) {
        self.g = g
        tilesH = (g.outH + 3) / 4
        tilesW = (g.outW + 3) / 4
        totalTiles = g.batch * tilesH * tilesW
        let perTile = WinogradF43.points * (g.inChannels + g.outChannels)
        var tiles = max(winogradMinBlockTiles, winogradBlockFloats / perTile)
        // Enough blocks to keep every thread busy, then equal-sized blocks.
        let minBlocks = 2 * max(1, kernelThreadCount)
        if totalTiles < tiles * minBlocks { tiles = max(16, (totalTiles + minBlocks - 1) / minBlocks) }
        tiles = min(tiles, totalTiles)
        let blocks = (totalTiles + tiles - 1) / tiles
        blockTiles = (totalTiles + blocks - 1) / blocks
        self.blocks = (totalTiles + blockTiles - 1) / blockTiles
    }

    /// V[xi, c, j] for tiles first ..< first + count, all input channels.
    func transformInput(
        _ input: UnsafePointer<Float>, first: Int, count: Int,
        into v: UnsafeMutablePointer<Float>, work: UnsafeMutablePointer<Float>
    ) {
        let cin = g.inChannels, inH = g.inH, inW = g.inW, plane = inH &* inW
        let pointStride = cin &* count
        let patch = work + 36, scratch = work
        let tilesPerImage = tilesH &* tilesW
        for c in 0..<cin {
            var n = first / tilesPerImage
            var ty = (first &- n &* tilesPerImage) / tilesW
            var tx = first &- n &* tilesPerImage &- ty &* tilesW
            for j in 0..<count {
                let src = input + ((n &* cin &+ c) &* plane)
                let y0 = ty &* 4 &- g.padH, x0 = tx &* 4 &- g.padW
                let out = v + (c &* count &+ j)
                if y0 >= 0 && x0 >= 0 && y0 &+ 6 <= inH && x0 &+ 6 <= inW {
                    winogradInputTile(src + (y0 &* inW &+ x0), rowStride: inW, work: scratch, out, pointStride: pointStride)
                } else {
                    // Edge tile: copy the in-bounds part, zeros elsewhere (padding and overhang).
                    for r in 0..<6 {
                        let y = y0 &+ r
                        for s in 0..<6 {
                            let x = x0 &+ s
                            patch[r &* 6 &+ s] = (y >= 0 && y < inH && x >= 0 && x < inW) ? src[y &* inW &+ x] : 0
                        }
                    }
                    winogradInputTile(patch, rowStride: 6, work: scratch, out, pointStride: pointStride)
                }
                tx &+= 1
                if tx == tilesW {
                    tx = 0; ty &+= 1
                    if ty == tilesH { ty = 0; n &+= 1 }
                }
            }
        }
    }

    func transformOutput(
        _ m: UnsafePointer<Float>, first: Int, count: Int, bias: UnsafePointer<Float>?,
        activation: KernelActivation, into output: UnsafeMutablePointer<Float>, work: UnsafeMutablePointer<Float>
    ) {
        switch activation {
        case .identity: finishTiles(IdentityActivation.self, m, first, count, bias, output, work)
        case .relu: finishTiles(ReluActivation.self, m, first, count, bias, output, work)
        case .relu6: finishTiles(Relu6Activation.self, m, first, count, bias, output, work)
        case .hardswish: finishTiles(HardswishActivation.self, m, first, count, bias, output, work)
        case .hardsigmoid: finishTiles(HardsigmoidActivation.self, m, first, count, bias, output, work)
        case .sigmoid: finishTiles(SigmoidActivation.self, m, first, count, bias, output, work)
        }
    }

    /// output[n, o, 4ty + r, 4tx + s] = act(Y[r, s] + bias[o]) inside the output.
    @inline(__always)
    private func finishTiles<A: ActivationFunction>(
        _: A.Type, _ m: UnsafePointer<Float>, _ first: Int, _ count: Int, _ bias: UnsafePointer<Float>?,
        _ output: UnsafeMutablePointer<Float>, _ work: UnsafeMutablePointer<Float>
    ) {
        let cout = g.outChannels, outH = g.outH, outW = g.outW, plane = outH &* outW
        let pointStride = cout &* count
        let scratch = work + 72, y = work + 96
        let tilesPerImage = tilesH &* tilesW
        for o in 0..<cout {
            let b: Float = bias.map { $0[o] } ?? 0
            var n = first / tilesPerImage
            var ty = (first &- n &* tilesPerImage) / tilesW
            var tx = first &- n &* tilesPerImage &- ty &* tilesW
            for j in 0..<count {
                winogradOutputTile(m + (o &* count &+ j), pointStride: pointStride, work: scratch, y)
                let oy0 = ty &* 4, ox0 = tx &* 4
                let rows = min(4, outH &- oy0), cols = min(4, outW &- ox0)
                var dst = output + ((n &* cout &+ o) &* plane &+ oy0 &* outW &+ ox0)
                for r in 0..<rows {
                    for s in 0..<cols { dst[s] = A.apply(y[r &* 4 &+ s] + b) }
                    dst += outW
                }
                tx &+= 1
                if tx == tilesW {
                    tx = 0; ty &+= 1
                    if ty == tilesH { ty = 0; n &+= 1 }
                }
            }
        }
    }
}
