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
    output: UnsafeMutablePointer<Float>, geometry g: ConvGeometry, activation: KernelActivation,
    threads: KernelThreads, tiling: ConvTiling = .standard
) {
    precondition(winogradSupports(g), "conv2dWinograd needs a 3x3 stride-1 undilated ungrouped conv, got \(g)")
    if g.batch == 0 { return }
    let plan = WinogradPlan(g, threads: threads, tiling: tiling)
    let next = ChunkCounter()
    // The blocks' GEMMs run inside our threads: OpenBLAS single-threaded for the call (it
    // always is, except in the VISION_OPENBLAS_THREADS=1 comparison mode).
    setOpenBLASThreadsForComparison(.single)
    threads.forEachWorker(limit: plan.blocks) { _ in
        let scratch = WinogradScratch(plan)
        defer { scratch.release() }
        let v = scratch.v, m = scratch.m
        while let block = next.take(below: plan.blocks) {
            let first = block &* plan.blockTiles
            let count = min(plan.blockTiles, plan.totalTiles &- first)
            plan.locateTiles(first: first, count: count, scratch)
            plan.transformInput(input, count: count, into: v, scratch)
            for xi in 0..<WinogradF43.points {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                            Int32(g.outChannels), Int32(count), Int32(g.inChannels),
                            1, transformedWeight + xi &* g.outChannels &* g.inChannels, Int32(g.inChannels),
                            v + xi &* g.inChannels &* count, Int32(count),
                            0, m + xi &* g.outChannels &* count, Int32(count))
            }
            plan.transformOutput(m, count: count, bias: bias, activation: activation, into: output, scratch)
        }
    }
}

/// Tile grid and block size of one call, plus the per-block transforms.
struct WinogradPlan {
    let g: ConvGeometry
    let tilesH: Int, tilesW: Int, totalTiles: Int
    let blockTiles: Int, blocks: Int

    init(_ g: ConvGeometry, threads: KernelThreads, tiling: ConvTiling) {
        self.g = g
        tilesH = (g.outH + 3) / 4
        tilesW = (g.outW + 3) / 4
        totalTiles = g.batch * tilesH * tilesW
        let perTile = WinogradF43.points * (g.inChannels + g.outChannels)
        var tiles = max(tiling.winogradMinBlockTiles, min(tiling.winogradBlockTiles, tiling.winogradBlockFloats / perTile))
        // Enough blocks to keep every thread busy, then equal-sized blocks. The block width
        // (the GEMMs' N) thus follows the thread count, and OpenBLAS's sgemm rounds
        // differently for different N: results differ across thread counts by ~1e-6
        // relative (the im2col path's do not).
        let minBlocks = 2 * threads.count
        if totalTiles < tiles * minBlocks { tiles = max(16, (totalTiles + minBlocks - 1) / minBlocks) }
        tiles = min(tiles, totalTiles)
        let blocks = (totalTiles + tiles - 1) / tiles
        blockTiles = (totalTiles + blocks - 1) / blocks
        self.blocks = (totalTiles + blockTiles - 1) / blockTiles
    }

    /// Where tile `first + j` sits, for j < count: image `image[j]`, output origin
    /// (`y[j]`, `x[j]`) = 4 * (tile row, tile column).
    func locateTiles(first: Int, count: Int, _ scratch: WinogradScratch) {
        let tilesPerImage = tilesH &* tilesW
        var n = first / tilesPerImage
        var ty = (first &- n &* tilesPerImage) / tilesW
        var tx = first &- n &* tilesPerImage &- ty &* tilesW
        for j in 0..<count {
            scratch.image[j] = n; scratch.y[j] = ty &* 4; scratch.x[j] = tx &* 4
            tx &+= 1
            if tx == tilesW {
                tx = 0; ty &+= 1
                if ty == tilesH { ty = 0; n &+= 1 }
            }
        }
    }

    /// Points the patch of tile j of channel c at the input (interior tiles) or at
    /// the zero-padded copy `patch` (edge tiles); returns (rows, row stride).
    @inline(__always)
    func patch(_ input: UnsafePointer<Float>, channel c: Int, tile j: Int, _ scratch: WinogradScratch,
               copyInto patch: UnsafeMutablePointer<Float>) -> (UnsafePointer<Float>, Int) {
        let inH = g.inH, inW = g.inW
        let src = input + ((scratch.image[j] &* g.inChannels &+ c) &* (inH &* inW))
        let y0 = scratch.y[j] &- g.padH, x0 = scratch.x[j] &- g.padW
        if y0 >= 0 && x0 >= 0 && y0 &+ 6 <= inH && x0 &+ 6 <= inW {
            return (src + (y0 &* inW &+ x0), inW)
        }
        // Edge tile: the in-bounds part, zeros elsewhere (padding and overhang).
        for r in 0..<6 {
            let y = y0 &+ r
            for s in 0..<6 {
                let x = x0 &+ s
                patch[r &* 6 &+ s] = (y >= 0 && y < inH && x >= 0 && x < inW) ? src[y &* inW &+ x] : 0
            }
        }
        return (UnsafePointer(patch), 6)
    }

    /// V[xi, c, j] for the located tiles j < count, all input channels.
    func transformInput(_ input: UnsafePointer<Float>, count: Int, into v: UnsafeMutablePointer<Float>,
                        _ scratch: WinogradScratch) {
        let pointStride = g.inChannels &* count
        let groups = count / 8
        for c in 0..<g.inChannels {
            for group in 0..<groups {
                let j0 = group &* 8
                for l in 0..<8 {
                    let (base, stride) = patch(input, channel: c, tile: j0 &+ l, scratch,
                                               copyInto: scratch.patches + l &* 36)
                    scratch.bases[l] = base; scratch.strides[l] = stride
                }
                winogradInputTiles8(scratch.bases, scratch.strides, work: scratch.lanes,
                                    v + (c &* count &+ j0), pointStride: pointStride)
            }
            for j in (groups &* 8)..<count {
                let (base, stride) = patch(input, channel: c, tile: j, scratch, copyInto: scratch.patches)
                winogradInputTile(base, rowStride: stride, work: scratch.floats, v + (c &* count &+ j),
                                  pointStride: pointStride)
            }
        }
    }

    func transformOutput(
        _ m: UnsafePointer<Float>, count: Int, bias: UnsafePointer<Float>?,
        activation: KernelActivation, into output: UnsafeMutablePointer<Float>, _ scratch: WinogradScratch
    ) {
        switch activation {
        case .identity: finishTiles(IdentityActivation.self, m, count, bias, output, scratch)
        case .relu: finishTiles(ReluActivation.self, m, count, bias, output, scratch)
        case .relu6: finishTiles(Relu6Activation.self, m, count, bias, output, scratch)
        case .hardswish: finishTiles(HardswishActivation.self, m, count, bias, output, scratch)
        case .hardsigmoid: finishTiles(HardsigmoidActivation.self, m, count, bias, output, scratch)
        case .sigmoid: finishTiles(SigmoidActivation.self, m, count, bias, output, scratch)
        }
    }

    /// output[n, o, 4ty + r, 4tx + s] = act(Y[r, s] + bias[o]) inside the output.
    @inline(__always)
    private func finishTiles<A: ActivationFunction>(
        _: A.Type, _ m: UnsafePointer<Float>, _ count: Int, _ bias: UnsafePointer<Float>?,
        _ output: UnsafeMutablePointer<Float>, _ scratch: WinogradScratch
    ) {
        let cout = g.outChannels, outH = g.outH, outW = g.outW, plane = outH &* outW
        let pointStride = cout &* count
        let groups = count / 8
        let y = scratch.tileResults, yLane = UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self)
        @inline(__always) func store(_ o: Int, _ j: Int, _ b: Float, _ value: (Int) -> Float) {
            let oy0 = scratch.y[j], ox0 = scratch.x[j]
            let rows = min(4, outH &- oy0), cols = min(4, outW &- ox0)
            var dst = output + ((scratch.image[j] &* cout &+ o) &* plane &+ oy0 &* outW &+ ox0)
            for r in 0..<rows {
                for s in 0..<cols { dst[s] = A.apply(value(r &* 4 &+ s) + b) }
                dst += outW
            }
        }
        for o in 0..<cout {
            let b: Float = bias.map { $0[o] } ?? 0
            for group in 0..<groups {
                let j0 = group &* 8
                winogradOutputTiles8(m + (o &* count &+ j0), pointStride: pointStride, work: scratch.lanes, y)
                for l in 0..<8 { store(o, j0 &+ l, b) { yLane[$0 &* 8 &+ l] } }
            }
            for j in (groups &* 8)..<count {
                winogradOutputTile(m + (o &* count &+ j), pointStride: pointStride, work: scratch.floats, yLane)
                store(o, j, b) { yLane[$0] }
            }
        }
    }
}

/// One thread's buffers: V, M, tile positions and transform scratch.
struct WinogradScratch {
    let v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>
    let image: UnsafeMutablePointer<Int>, y: UnsafeMutablePointer<Int>, x: UnsafeMutablePointer<Int>
    let bases: UnsafeMutablePointer<UnsafePointer<Float>>, strides: UnsafeMutablePointer<Int>
    /// 8 edge patches of 36 floats.
    let patches: UnsafeMutablePointer<Float>
    /// 36 floats for the one-tile transforms.
    let floats: UnsafeMutablePointer<Float>
    /// 36 Lanes for the eight-tile transforms; `tileResults` 16 Lanes.
    let lanes: UnsafeMutablePointer<Lanes>, tileResults: UnsafeMutablePointer<Lanes>

    init(_ plan: WinogradPlan) {
        let t = plan.blockTiles
        v = .allocate(capacity: WinogradF43.points &* plan.g.inChannels &* t)
        m = .allocate(capacity: WinogradF43.points &* plan.g.outChannels &* t)
        image = .allocate(capacity: t); y = .allocate(capacity: t); x = .allocate(capacity: t)
        bases = .allocate(capacity: 8); strides = .allocate(capacity: 8)
        patches = .allocate(capacity: 8 &* 36); floats = .allocate(capacity: 36)
        lanes = .allocate(capacity: 36); tileResults = .allocate(capacity: 16)
    }

    func release() {
        v.deallocate(); m.deallocate(); image.deallocate(); y.deallocate(); x.deallocate()
        bases.deallocate(); strides.deallocate(); patches.deallocate(); floats.deallocate()
        lanes.deallocate(); tileResults.deallocate()
    }
}
