// Direct depthwise convolution: each group has one input channel and
// `multiplier = Cout / groups` output channels (output channel oc reads input
// channel oc / multiplier). Layouts as in Conv2D.swift; weight [Cout, kH * kW].
//
// Per output row: start from the bias, add one pass per kernel row (taps
// unrolled for 3- and 5-wide kernels, see depthwiseRow), then activate the row
// while it is in L1. Planes (n, oc) are split across threads.

public func conv2dDepthwise(
    input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
    output: UnsafeMutablePointer<Float>, geometry g: ConvGeometry, activation: KernelActivation,
    threads: KernelThreads
) {
    precondition(g.isDepthwise || g.inChannelsPerGroup == 1, "conv2dDepthwise needs one input channel per group")
    let multiplier = g.outChannels / g.groups
    let planes = g.batch &* g.outChannels
    let outPlane = g.outH &* g.outW, inPlane = g.inH &* g.inW
    let taps = g.kernelH &* g.kernelW
    threads.parallelRanges(planes, costPerItem: outPlane &* taps) { range in
        for p in range {
            let n = p / g.outChannels, oc = p &- n &* g.outChannels
            let ic = oc / multiplier
            let src = input + (n &* g.inChannels &+ ic) &* inPlane
            let w = weight + oc &* taps
            let b: Float = bias?[oc] ?? 0
            let dstPlane = output + p &* outPlane
            for oy in 0..<g.outH {
                let row = dstPlane + oy &* g.outW
                row.update(repeating: b, count: g.outW)
                depthwiseRow(src, w, row, geometry: g, oy: oy)
                applyBiasActivation(row, rows: 0..<1, rowStride: 0, count: g.outW,
                                    bias: nil, activation: activation)
            }
        }
    }
}

/// Adds every in-bounds tap of output row `oy` into `row`. For kernel widths 3
/// and 5 with stride 1 or 2, each kernel row is one pass over the interior of
/// the output row with its taps unrolled (constant stride, so it vectorises);
/// the few border outputs and other shapes take one pass per tap.
@inline(__always)
func depthwiseRow(
    _ src: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ row: UnsafeMutablePointer<Float>,
    geometry g: ConvGeometry, oy: Int
) {
    let sw = g.strideW, kw = g.kernelW, dw = g.dilationW
    // Interior: outputs whose first and last taps are both in bounds.
    let first = validOutputRange(offset: -g.padW, stride: sw, inSize: g.inW, outSize: g.outW)
    let last = validOutputRange(offset: (kw &- 1) &* dw &- g.padW, stride: sw, inSize: g.inW, outSize: g.outW)
    let lo = max(first.lo, last.lo), hi = max(lo, min(first.hi, last.hi))
    let unrolled = (kw == 3 || kw == 5) && (sw == 1 || sw == 2) && hi > lo
    for ky in 0..<g.kernelH {
        let iy = oy &* g.strideH &- g.padH &+ ky &* g.dilationH
        if iy < 0 || iy >= g.inH { continue }
        let inRow = src + iy &* g.inW
        let wk = w + ky &* kw
        if !unrolled {
            tapPasses(inRow, wk, row, geometry: g, outRange: 0..<g.outW)
            continue
        }
        let base = inRow - g.padW
        switch (kw, sw) {
        case (3, 1): interiorPass3(row, base, wk, dw, lo, hi, stride: 1)
        case (3, _): interiorPass3(row, base, wk, dw, lo, hi, stride: 2)
        case (5, 1): interiorPass5(row, base, wk, dw, lo, hi, stride: 1)
        default: interiorPass5(row, base, wk, dw, lo, hi, stride: 2)
        }
        tapPasses(inRow, wk, row, geometry: g, outRange: 0..<lo)
        tapPasses(inRow, wk, row, geometry: g, outRange: hi..<g.outW)
    }
}

/// One pass per tap of a kernel row over `outRange`, bounds-checked per tap.
@inline(__always)
func tapPasses(
    _ inRow: UnsafePointer<Float>, _ wk: UnsafePointer<Float>, _ row: UnsafeMutablePointer<Float>,
    geometry g: ConvGeometry, outRange: Range<Int>
) {
    if outRange.isEmpty { return }
    let sw = g.strideW
    for kx in 0..<g.kernelW {
        let wv = wk[kx]
        let offX = kx &* g.dilationW &- g.padW
        let valid = validOutputRange(offset: offX, stride: sw, inSize: g.inW, outSize: g.outW)
        let lo = max(valid.lo, outRange.lowerBound), hi = min(valid.hi, outRange.upperBound)
        if lo >= hi { continue }
        let s = inRow + offX
        if sw == 1 {
            for ox in lo..<hi { row[ox] += wv * s[ox] }
        } else {
            for ox in lo..<hi { row[ox] += wv * s[ox &* sw] }
        }
    }
}

/// row[ox] += sum over kx of w[kx] * base[ox*stride + kx*dilation], for ox in lo..<hi.
@inline(__always)
func interiorPass3(
    _ row: UnsafeMutablePointer<Float>, _ base: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
    _ dilation: Int, _ lo: Int, _ hi: Int, stride: Int
) {
    let w0 = w[0], w1 = w[1], w2 = w[2]
    let q0 = base, q1 = base + dilation, q2 = base + 2 &* dilation
    for ox in lo..<hi {
        let i = ox &* stride
        row[ox] += w0 * q0[i] + w1 * q1[i] + w2 * q2[i]
    }
}

@inline(__always)
func interiorPass5(
    _ row: UnsafeMutablePointer<Float>, _ base: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
    _ dilation: Int, _ lo: Int, _ hi: Int, stride: Int
) {
    let w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4]
    let q0 = base, q1 = base + dilation, q2 = base + 2 &* dilation
    let q3 = base + 3 &* dilation, q4 = base + 4 &* dilation
    for ox in lo..<hi {
        let i = ox &* stride
        row[ox] += w0 * q0[i] + w1 * q1[i] + w2 * q2[i] + w3 * q3[i] + w4 * q4[i]
    }
}
