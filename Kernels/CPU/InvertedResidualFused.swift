// A MobileNet inverted-residual block without squeeze-excitation, fused for inference:
//   expand 1x1 (+ bias, act) -> depthwise kxk (+ bias, act) -> project 1x1 (+ bias) (+ input), act
// computed a chunk of output rows at a time. Unfused, each of the three convs streams a full
// map ([Cexp, H, W], up to 6x the block's input) through memory; here a chunk's expanded
// rows E [Cexp, rows, W] and depthwise rows D [Cexp, rows, Wout] stay in cache between the
// three steps. Each thread takes a contiguous run of chunks (single-threaded GEMMs and
// depthwise calls, no hand-off between the three steps).
//
// The partition never depends on the thread count, so neither do the results, bit for bit
// (sgemm's rounding can depend on a call's width): output chunks are fixed runs of
// `chunkRows` rows, and the expanded map is computed in fixed groups of `chunkRows * stride`
// input rows, one GEMM per group. Consecutive chunks read overlapping input rows (the
// depthwise kernel's halo): the groups a chunk shares with the previous one are kept in E,
// not recomputed, except where a thread's run of chunks begins (recomputed there by the
// same GEMM call, so with the same bits).
//
// Layouts: input [N, Cin, H, W]; expand weight [Cexp, Cin]; depthwise weight [Cexp, kH * kW];
// project weight [Cout, Cexp]; biases [C] or nil; output [N, Cout, Hout, Wout].
// InvertedResidualFusedTests compares it with conv2dReference's three convs.

import Foundation

/// One of the fused block's convolutions: weight, bias or nil, and the activation applied to it.
public struct FusedConvStep {
    public var weight: UnsafePointer<Float>
    public var bias: UnsafePointer<Float>?
    public var activation: KernelActivation

    public init(weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, activation: KernelActivation) {
        self.weight = weight; self.bias = bias; self.activation = activation
    }
}

/// `depthwise` is the depthwise conv's geometry (batch N, Cexp channels in and out, groups
/// Cexp, input H x W); without `expand` the block's input is the depthwise input
/// (Cin == Cexp). `addsInput`: output = act(project + bias + input), which needs
/// Cin == Cout and stride 1. `bandFloats` bounds the floats of E + D per chunk (per thread).
public func invertedResidualFused(
    input: UnsafePointer<Float>, inChannels: Int, expand: FusedConvStep?,
    depthwise dwStep: FusedConvStep, depthwise dg: ConvGeometry,
    project: FusedConvStep, outChannels: Int, addsInput: Bool,
    output: UnsafeMutablePointer<Float>, threads: KernelThreads, instructionSet: InstructionSet = .detected,
    bandFloats: Int
) {
    let cexp = dg.inChannels, h = dg.inH, w = dg.inW, outH = dg.outH, outW = dg.outW
    precondition(dg.groups == cexp && dg.outChannels == cexp, "the fused block's depthwise conv must map Cexp to Cexp")
    precondition(expand != nil || inChannels == cexp, "without expand the block's input is the depthwise input")
    precondition(!addsInput || (inChannels == outChannels && outH == h && outW == w),
                 "a residual block keeps its shape: [\(inChannels), \(h), \(w)] -> [\(outChannels), \(outH), \(outW)]")
    let inPlane = h &* w, outPlane = outH &* outW
    // Input rows one output row reads (the depthwise kernel's vertical extent).
    let span = (dg.kernelH &- 1) &* dg.dilationH &+ 1, strideH = dg.strideH
    // E holds about two groups of chunkRows * stride rows, D one chunk.
    let floatsPerRow = cexp &* ((expand == nil ? 0 : 2 &* strideH &* w) &+ outW)
    // At least 8 chunks where the map allows, so that threads share the work evenly.
    let chunkRows = max(1, min((outH &+ 7) / 8, bandFloats / max(1, floatsPerRow)))
    let chunks = (outH &+ chunkRows &- 1) / chunkRows
    let groupRows = chunkRows &* strideH
    // The most input rows one chunk reads, and the most groups they touch.
    let maxGroups = ((chunkRows &- 1) &* strideH &+ span &+ groupRows &- 1) / groupRows &+ 1
    let heldStride = maxGroups &* groupRows &* w
    let bandGeometry = ConvGeometry(
        batch: 1, inChannels: cexp, inH: h, inW: w, outChannels: cexp, kernelH: dg.kernelH, kernelW: dg.kernelW,
        strideH: dg.strideH, strideW: dg.strideW, padH: dg.padH, padW: dg.padW,
        dilationH: dg.dilationH, dilationW: dg.dilationW, groups: cexp)
    let expandedFloats = expand == nil ? 0 : cexp &* heldStride
    let slices = min(threads.count, chunks)

    for n in 0..<dg.batch {
        let x = input + n &* inChannels &* inPlane
        let y = output + n &* outChannels &* outPlane
        threads.forEachWorker(limit: slices) { slice in
            let myChunks = (chunks &* slice / slices)..<(chunks &* (slice &+ 1) / slices)
            if myChunks.isEmpty { return }
            LargeBlockCache.shared.withScratch(floats: expandedFloats &+ cexp &* chunkRows &* outW) { scratch in
                let expanded = scratch, depthwiseRows = scratch + expandedFloats
                var heldGroups = 0..<0  // the groups E holds, the first at its row 0
                for chunk in myChunks {
                    let oy0 = chunk &* chunkRows, oy1 = min(outH, oy0 &+ chunkRows)
                    let needed = max(0, oy0 &* strideH &- dg.padH)..<min(h, (oy1 &- 1) &* strideH &- dg.padH &+ span)
                    let window: DepthwiseRowWindow
                    if let expand {
                        let groups = (needed.lowerBound / groupRows)..<((needed.upperBound &- 1) / groupRows &+ 1)
                        // Groups already held that this chunk reads again move to the front of E.
                        let kept = groups.lowerBound..<max(groups.lowerBound, min(groups.upperBound, heldGroups.upperBound))
                        if !kept.isEmpty && kept.lowerBound > heldGroups.lowerBound {
                            let shift = (kept.lowerBound &- heldGroups.lowerBound) &* groupRows &* w
                            let floats = (min(h, kept.upperBound &* groupRows) &- kept.lowerBound &* groupRows) &* w
                            for c in 0..<cexp {
                                let plane = expanded + c &* heldStride
                                memmove(plane, plane + shift, floats &* MemoryLayout<Float>.stride)
                            }
                        }
                        for group in kept.upperBound..<groups.upperBound {
                            let rows = (group &* groupRows)..<min(h, (group &+ 1) &* groupRows)
                            let e = expanded + (group &- groups.lowerBound) &* groupRows &* w
                            gemm(m: cexp, n: rows.count &* w, k: inChannels, a: expand.weight, lda: inChannels,
                                 b: x + rows.lowerBound &* w, ldb: inPlane, c: e, ldc: heldStride, threads: .single)
                            finishGemmBlock(e, rows: cexp, rowStride: heldStride, count: rows.count &* w,
                                            bias: expand.bias, residual: nil, residualStride: 0,
                                            activation: expand.activation, threads: .single, instructionSet: instructionSet)
                        }
                        heldGroups = groups
                        window = DepthwiseRowWindow(inputPlaneStride: heldStride, firstInputRow: groups.lowerBound &* groupRows,
                                                    outputPlaneStride: chunkRows &* outW, outputRows: oy0..<oy1)
                    } else {
                        window = DepthwiseRowWindow(inputPlaneStride: inPlane, firstInputRow: 0,
                                                    outputPlaneStride: chunkRows &* outW, outputRows: oy0..<oy1)
                    }
                    conv2dDepthwise(input: expand == nil ? x : UnsafePointer(expanded), weight: dwStep.weight,
                                    bias: dwStep.bias, output: depthwiseRows, geometry: bandGeometry,
                                    activation: dwStep.activation, threads: .single, instructionSet: instructionSet,
                                    window: window)
                    let columns = (oy1 &- oy0) &* outW
                    let c = y + oy0 &* outW
                    gemm(m: outChannels, n: columns, k: cexp, a: project.weight, lda: cexp, b: depthwiseRows,
                         ldb: chunkRows &* outW, c: c, ldc: outPlane, threads: .single)
                    finishGemmBlock(c, rows: outChannels, rowStride: outPlane, count: columns, bias: project.bias,
                                    residual: addsInput ? x + oy0 &* w : nil, residualStride: inPlane,
                                    activation: project.activation, threads: .single, instructionSet: instructionSet)
                }
            }
        }
    }
}
