// Fast convolution: im2col + cblas_sgemm per (batch, group, tile of output rows).
// Layouts: input [N, Cin, H, W]; weight [Cout, Cin/groups * kH * kW] (PyTorch's
// [Cout, Cin/groups, kH, kW] flattened: exactly the GEMM's A matrix per group);
// bias [Cout]; output [N, Cout, Hout, Wout].
//
// Per tile: B = im2col columns [K, cols] (K = Cin/groups*kH*kW, cols = rows*Wout),
// C = output[n, group's channels, tile's pixels] with ldc = Hout*Wout. Tiles keep
// B and C in cache so the bias+activation pass that follows each GEMM is cheap.
// 1x1 stride-1 unpadded convs skip im2col: the input plane block is B.
// Depthwise convs (one input channel per group) use the direct kernel instead.
// `residual` (same layout as output, or nil) is added before the activation:
// output = act(conv + bias + residual), in the GEMM's epilogue.

import COpenBLAS


public func conv2d(
    input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
    output: UnsafeMutablePointer<Float>, geometry g: ConvGeometry, activation: KernelActivation,
    threads: KernelThreads, instructionSet: InstructionSet = .detected, residual: UnsafePointer<Float>? = nil,
    tiling: ConvTiling = .standard
) {
    if g.batch == 0 { return }
    if g.isDepthwise {
        conv2dDepthwise(input: input, weight: weight, bias: bias, output: output, geometry: g,
                        activation: residual == nil ? activation : .identity,
                        threads: threads, instructionSet: instructionSet)
        // No model adds a residual right after a depthwise conv: a separate pass suffices.
        if let residual {
            add(output, residual, output: output, count: g.outputCount, activation: activation, threads: threads)
        }
        return
    }
    let k = g.reductionSize, coutG = g.outChannelsPerGroup, cinG = g.inChannelsPerGroup
    let outPlane = g.outH &* g.outW, inPlane = g.inH &* g.inW
    if g.groups == 1 && g.batch > 1 && outPlane < tiling.batchedMaxPlane {
        conv2dBatchedSmallMaps(input: input, weight: weight, bias: bias, output: output, geometry: g, activation: activation,
                               threads: threads, instructionSet: instructionSet, residual: residual,
                               batchedColumns: tiling.batchedColumns)
        return
    }
    let rowsPerTile = max(1, min(g.outH, tiling.tileFloats / max(1, g.outW &* (k &+ coutG))))
    let pointwise = g.isPointwise
    let scratch: UnsafeMutablePointer<Float>? =
        pointwise ? nil : UnsafeMutablePointer<Float>.allocate(capacity: k &* rowsPerTile &* g.outW)
    defer { scratch?.deallocate() }

    for n in 0..<g.batch {
        for group in 0..<g.groups {
            let groupInput = input + (n &* g.inChannels &+ group &* cinG) &* inPlane
            let groupOffset = (n &* g.outChannels &+ group &* coutG) &* outPlane
            let groupOutput = output + groupOffset
            let groupWeight = weight + group &* coutG &* k
            var oy0 = 0
            while oy0 < g.outH {
                let oy1 = min(g.outH, oy0 &+ rowsPerTile)
                let col0 = oy0 &* g.outW, cols = (oy1 &- oy0) &* g.outW
                let b: UnsafePointer<Float>
                let ldb: Int
                if let scratch {
                    im2col(groupInput, scratch, geometry: g, oy0: oy0, oy1: oy1, threads: threads)
                    b = UnsafePointer(scratch); ldb = cols
                } else {
                    b = groupInput + col0; ldb = inPlane
                }
                let c = groupOutput + col0
                gemm(m: coutG, n: cols, k: k, a: groupWeight, lda: k, b: b, ldb: ldb, c: c, ldc: outPlane, threads: threads)
                finishGemmBlock(c, rows: coutG, rowStride: outPlane, count: cols, bias: bias, biasOffset: group &* coutG,
                                residual: residual.map { $0 + (groupOffset &+ col0) }, residualStride: outPlane,
                                activation: activation, threads: threads, instructionSet: instructionSet)
                oy0 = oy1
            }
        }
    }
}

/// Small output maps with many images (v2's box head: 1000 RoIs of 7x7): a GEMM of
/// 49 columns per image wastes the kernel, so `m` images are im2col'ed side by side,
/// B = [K, m * outPlane] (image j's columns at j * outPlane), one GEMM gives
/// C = [Cout, m * outPlane], then each image's block is copied out to
/// output[n, Cout, outPlane] with bias + activation. groups == 1 only.
func conv2dBatchedSmallMaps(
    input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
    output: UnsafeMutablePointer<Float>, geometry g: ConvGeometry, activation: KernelActivation,
    threads: KernelThreads, instructionSet: InstructionSet, residual: UnsafePointer<Float>?, batchedColumns: Int
) {
    let k = g.reductionSize, cout = g.outChannels
    let outPlane = g.outH &* g.outW, inPlane = g.inH &* g.inW
    let taps = g.kernelH &* g.kernelW
    let m = max(1, min(g.batch, batchedColumns / max(1, outPlane)))
    let columns = UnsafeMutablePointer<Float>.allocate(capacity: k &* m &* outPlane)
    let product = UnsafeMutablePointer<Float>.allocate(capacity: cout &* m &* outPlane)
    defer { columns.deallocate(); product.deallocate() }
    var n0 = 0
    while n0 < g.batch {
        let count = min(m, g.batch &- n0)
        let width = count &* outPlane
        threads.parallelRanges(k, costPerItem: width) { rows in
            for r in rows {
                let c = r / taps, tap = r &- c &* taps
                let ky = tap / g.kernelW, kx = tap &- ky &* g.kernelW
                for j in 0..<count {
                    im2colRow(input + ((n0 &+ j) &* g.inChannels &+ c) &* inPlane, columns + (r &* width &+ j &* outPlane),
                              geometry: g, ky: ky, kx: kx, oy0: 0, oy1: g.outH)
                }
            }
        }
        gemm(m: cout, n: width, k: k, a: weight, lda: k, b: columns, ldb: width, c: product, ldc: width, threads: threads)
        threads.parallelRanges(count, costPerItem: cout &* outPlane) { images in
            for j in images {
                let dst: UnsafeMutablePointer<Float> = output + (n0 &+ j) &* cout &* outPlane
                for co in 0..<cout {
                    let source: UnsafeMutablePointer<Float> = product + (co &* width &+ j &* outPlane)
                    (dst + co &* outPlane).update(from: source, count: outPlane)
                }
                finishGemmBlock(dst, rows: cout, rowStride: outPlane, count: outPlane, bias: bias,
                                residual: residual.map { $0 + ((n0 &+ j) &* cout &* outPlane) }, residualStride: outPlane,
                                activation: activation, threads: .single, instructionSet: instructionSet)
            }
        }
        n0 &+= count
    }
}

/// Fills `columns` [Cin/groups * kH * kW, (oy1 - oy0) * Wout] for one group's input
/// planes `groupInput` [Cin/groups, H, W]; padded taps read as 0.
public func im2col(
    _ groupInput: UnsafePointer<Float>, _ columns: UnsafeMutablePointer<Float>,
    geometry g: ConvGeometry, oy0: Int, oy1: Int,
    threads: KernelThreads
) {
    let taps = g.kernelH &* g.kernelW
    let cols = (oy1 &- oy0) &* g.outW
    threads.parallelRanges(g.reductionSize, costPerItem: cols) { rows in
        for r in rows {
            let c = r / taps, tap = r &- c &* taps
            let ky = tap / g.kernelW, kx = tap &- ky &* g.kernelW
            im2colRow(groupInput + c &* g.inH &* g.inW, columns + r &* cols,
                      geometry: g, ky: ky, kx: kx, oy0: oy0, oy1: oy1)
        }
    }
}

/// The half-open range of output x whose tap at input offset `offset + ox*stride`
/// lands inside [0, inSize).
@inlinable @inline(__always)
func validOutputRange(offset: Int, stride: Int, inSize: Int, outSize: Int) -> (lo: Int, hi: Int) {
    let lo = offset >= 0 ? 0 : min(outSize, (-offset &+ stride &- 1) / stride)
    let last = inSize &- 1 &- offset
    let hi = last < 0 ? 0 : min(outSize, last / stride &+ 1)
    return (lo, max(lo, hi))
}

@inline(__always)
func im2colRow(
    _ plane: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
    geometry g: ConvGeometry, ky: Int, kx: Int, oy0: Int, oy1: Int
) {
    let outW = g.outW, sw = g.strideW
    let offX = kx &* g.dilationW &- g.padW
    let (lo, hi) = validOutputRange(offset: offX, stride: sw, inSize: g.inW, outSize: outW)
    var d = dst
    for oy in oy0..<oy1 {
        let iy = oy &* g.strideH &- g.padH &+ ky &* g.dilationH
        if iy < 0 || iy >= g.inH {
            d.update(repeating: 0, count: outW)
        } else {
            let src = plane + (iy &* g.inW &+ offX)
            for ox in 0..<lo { d[ox] = 0 }
            if sw == 1 {
                for ox in lo..<hi { d[ox] = src[ox] }
            } else {
                for ox in lo..<hi { d[ox] = src[ox &* sw] }
            }
            for ox in hi..<outW { d[ox] = 0 }
        }
        d += outW
    }
}
