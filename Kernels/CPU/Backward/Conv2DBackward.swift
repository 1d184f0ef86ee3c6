// Convolution backward pass: im2col + cblas_sgemm, the transpose of Conv2D.swift.
// Layouts: input / gradInput [N, Cin, H, W]; weight / gradWeight [Cout, Cin/groups*kH*kW]
// (PyTorch's [Cout, Cin/groups, kH, kW] flattened); gradBias [Cout];
// gradOutput [N, Cout, Hout, Wout]. The gradOutput is the gradient after the
// activation has been differentiated (conv backward knows no activation).
//
// Per (batch, group, tile of output rows), with cols = tile pixels, K = Cin/groups*kH*kW:
//   col  = im2col(input)                 [K, cols]
//   dW_g += dY_tile [coutG, cols] · colᵀ  (sgemm NoTrans/Trans, beta 1)
//   dcol = W_gᵀ [K, coutG] · dY_tile     (sgemm Trans/NoTrans, beta 0)
//   dX_g += col2im(dcol)                 (scatter-add of every tap)
// Pointwise convs skip im2col/col2im: the input planes are col, the gradient planes dcol.
// Depthwise convs use conv2dDepthwiseBackward. Every gradient is accumulated into:
// callers zero the buffers first (or pass nil to skip that gradient).

import COpenBLAS

/// Target floats of (columns + output gradient) per tile of the backward pass: 16 MB,
/// 8x the forward's (Conv2D.swift). The weight-gradient GEMM's inner dimension is the
/// tile's pixels and its C (the whole weight gradient) is read and written once per
/// tile, so thin tiles starve it: a fasterrcnn_resnet50_fpn training step at 800x1333
/// took 38.4 s with 2 MB tiles, 34.7 s with 16 MB and 34.5 s with 64 MB (1 thread).
public let convBackwardTileFloats = 1 << 22

public func conv2dBackward(
    input: UnsafePointer<Float>, weight: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
    gradInput: UnsafeMutablePointer<Float>?, gradWeight: UnsafeMutablePointer<Float>?,
    gradBias: UnsafeMutablePointer<Float>?, geometry g: ConvGeometry,
    threads: KernelThreads, instructionSet: InstructionSet = .detected, tileFloats: Int = convBackwardTileFloats
) {
    if g.batch == 0 { return }
    if g.isDepthwise {
        conv2dDepthwiseBackward(input: input, weight: weight, gradOutput: gradOutput, gradInput: gradInput,
                                gradWeight: gradWeight, gradBias: gradBias, geometry: g, threads: threads,
                                instructionSet: instructionSet)
        return
    }
    let outPlane = g.outH &* g.outW, inPlane = g.inH &* g.inW
    if let gradBias { accumulateBiasGradient(gradOutput, gradBias, batch: g.batch, channels: g.outChannels, plane: outPlane, threads: threads) }
    if gradInput == nil && gradWeight == nil { return }

    let k = g.reductionSize, coutG = g.outChannelsPerGroup, cinG = g.inChannelsPerGroup
    let rowsPerTile = max(1, min(g.outH, tileFloats / max(1, g.outW &* (k &+ coutG))))
    let pointwise = g.isPointwise
    let scratchSize = pointwise ? 0 : k &* rowsPerTile &* g.outW
    let columns: UnsafeMutablePointer<Float>? = (pointwise || gradWeight == nil) ? nil : .allocate(capacity: scratchSize)
    let gradColumns: UnsafeMutablePointer<Float>? = (pointwise || gradInput == nil) ? nil : .allocate(capacity: scratchSize)
    defer { columns?.deallocate(); gradColumns?.deallocate() }

    for n in 0..<g.batch {
        for group in 0..<g.groups {
            let groupInput = input + (n &* g.inChannels &+ group &* cinG) &* inPlane
            let groupGradOutput = gradOutput + (n &* g.outChannels &+ group &* coutG) &* outPlane
            let groupWeight = weight + group &* coutG &* k
            var oy0 = 0
            while oy0 < g.outH {
                let oy1 = min(g.outH, oy0 &+ rowsPerTile)
                let col0 = oy0 &* g.outW, cols = (oy1 &- oy0) &* g.outW
                let dy = groupGradOutput + col0
                if let gradWeight {
                    let b: UnsafePointer<Float>, ldb: Int
                    if let columns {
                        im2col(groupInput, columns, geometry: g, oy0: oy0, oy1: oy1, threads: threads)
                        b = UnsafePointer(columns); ldb = cols
                    } else {
                        b = groupInput + col0; ldb = inPlane
                    }
                    gemm(transB: true, m: coutG, n: k, k: cols, a: dy, lda: outPlane, b: b, ldb: ldb,
                         beta: 1, c: gradWeight + group &* coutG &* k, ldc: k, threads: threads)
                }
                if let gradInput {
                    let groupGradInput = gradInput + (n &* g.inChannels &+ group &* cinG) &* inPlane
                    if let gradColumns {
                        gemm(transA: true, m: k, n: cols, k: coutG, a: groupWeight, lda: k, b: dy, ldb: outPlane,
                             c: gradColumns, ldc: cols, threads: threads)
                        col2im(gradColumns, groupGradInput, geometry: g, oy0: oy0, oy1: oy1, threads: threads)
                    } else {
                        // Pointwise: each input pixel feeds exactly one output pixel.
                        gemm(transA: true, m: k, n: cols, k: coutG, a: groupWeight, lda: k, b: dy, ldb: outPlane,
                             beta: 1, c: groupGradInput + col0, ldc: inPlane, threads: threads)
                    }
                }
                oy0 = oy1
            }
        }
    }
}

/// gradBias[c] += sum over batch and pixels of gradOutput[n, c, :]. Double accumulation.
public func accumulateBiasGradient(
    _ gradOutput: UnsafePointer<Float>, _ gradBias: UnsafeMutablePointer<Float>, batch: Int, channels: Int, plane: Int,
    threads: KernelThreads
) {
    threads.parallelRanges(channels, costPerItem: batch &* plane) { range in
        for c in range {
            var sum: Double = 0
            for n in 0..<batch {
                let p = gradOutput + (n &* channels &+ c) &* plane
                var s: Float = 0
                for i in 0..<plane { s += p[i] }
                sum += Double(s)
            }
            gradBias[c] += Float(sum)
        }
    }
}

/// The adjoint of `im2col`: adds `columns` [Cin/groups*kH*kW, (oy1-oy0)*Wout] back into
/// the group's gradient planes `groupGradInput` [Cin/groups, H, W]. Channels are split
/// across threads; all taps of one channel run on one thread, so no two threads write
/// the same plane.
public func col2im(
    _ columns: UnsafePointer<Float>, _ groupGradInput: UnsafeMutablePointer<Float>,
    geometry g: ConvGeometry, oy0: Int, oy1: Int,
    threads: KernelThreads
) {
    let taps = g.kernelH &* g.kernelW
    let cols = (oy1 &- oy0) &* g.outW
    threads.parallelRanges(g.inChannelsPerGroup, costPerItem: taps &* cols) { channels in
        for c in channels {
            let plane = groupGradInput + c &* g.inH &* g.inW
            for tap in 0..<taps {
                let ky = tap / g.kernelW, kx = tap &- ky &* g.kernelW
                col2imRow(columns + (c &* taps &+ tap) &* cols, plane, geometry: g, ky: ky, kx: kx, oy0: oy0, oy1: oy1)
            }
        }
    }
}

@inline(__always)
func col2imRow(
    _ src: UnsafePointer<Float>, _ plane: UnsafeMutablePointer<Float>,
    geometry g: ConvGeometry, ky: Int, kx: Int, oy0: Int, oy1: Int
) {
    let outW = g.outW, sw = g.strideW
    let offX = kx &* g.dilationW &- g.padW
    let (lo, hi) = validOutputRange(offset: offX, stride: sw, inSize: g.inW, outSize: outW)
    var s = src
    for oy in oy0..<oy1 {
        let iy = oy &* g.strideH &- g.padH &+ ky &* g.dilationH
        if iy >= 0 && iy < g.inH {
            let dst = plane + (iy &* g.inW &+ offX)
            if sw == 1 {
                for ox in lo..<hi { dst[ox] += s[ox] }
            } else {
                for ox in lo..<hi { dst[ox &* sw] += s[ox] }
            }
        }
        s += outW
    }
}
