// RoIAlign backward, as torchvision's roi_align_backward CPU kernel
// (csrc/ops/cpu/roi_align_kernel.cpp, bilinear_interpolate_gradient): every sample
// point of every bin scatters (dY_bin * w_tap) / count into its 4 bilinear taps.
// Same Float32 arithmetic as the forward: start = x1 * scale (- 0.5 when aligned),
// roi size at least 1 when not aligned, bin = size / pooled, sample
// y = start + ph * bin + (iy + 0.5) * bin / grid; samples outside [-1, H] x [-1, W]
// contribute nothing.
//
// Layouts: gradOutput [K, C, PH, PW]; gradInput [N, C, H, W] (accumulated into);
// boxes [K, 4] (x1, y1, x2, y2) in image pixels; batchIndices [K]. With `levels`
// given, only RoIs with levels[k] == level are taken (one FPN level per call).

import Foundation

/// The geometry shared by one roiAlignBackward call.
public struct RoIAlignGeometry: Sendable {
    public var batch: Int, channels: Int, height: Int, width: Int
    public var pooledHeight: Int, pooledWidth: Int
    public var spatialScale: Float
    public var samplingRatio: Int
    public var aligned: Bool

    public init(batch: Int, channels: Int, height: Int, width: Int, pooledHeight: Int, pooledWidth: Int,
                spatialScale: Float, samplingRatio: Int, aligned: Bool = false) {
        precondition(batch >= 0 && channels >= 0 && height > 0 && width > 0 && pooledHeight > 0 && pooledWidth > 0,
                     "bad RoIAlign geometry")
        self.batch = batch; self.channels = channels; self.height = height; self.width = width
        self.pooledHeight = pooledHeight; self.pooledWidth = pooledWidth
        self.spatialScale = spatialScale; self.samplingRatio = samplingRatio; self.aligned = aligned
    }
}

/// One RoI's bin layout (torchvision's per-RoI preamble).
@usableFromInline
struct RoIBins {
    var startH: Float, startW: Float, binH: Float, binW: Float
    var gridH: Int, gridW: Int, count: Float

    @inline(__always)
    init(x1: Float, y1: Float, x2: Float, y2: Float, geometry g: RoIAlignGeometry) {
        let offset: Float = g.aligned ? 0.5 : 0
        startW = x1 * g.spatialScale - offset
        startH = y1 * g.spatialScale - offset
        let endW = x2 * g.spatialScale - offset
        let endH = y2 * g.spatialScale - offset
        var roiW = endW - startW, roiH = endH - startH
        if !g.aligned {
            roiW = roiW < 1 ? 1 : roiW
            roiH = roiH < 1 ? 1 : roiH
        }
        binH = roiH / Float(g.pooledHeight)
        binW = roiW / Float(g.pooledWidth)
        gridH = g.samplingRatio > 0 ? g.samplingRatio : RoIBins.adaptiveGrid(roiH, g.pooledHeight)
        gridW = g.samplingRatio > 0 ? g.samplingRatio : RoIBins.adaptiveGrid(roiW, g.pooledWidth)
        count = Float(max(gridH &* gridW, 1))
    }

    /// C++ int(ceil(size / pooled)), capped as the forward kernel caps it.
    @inline(__always)
    static func adaptiveGrid(_ size: Float, _ pooled: Int) -> Int {
        let g = (size / Float(pooled)).rounded(.up)
        if g >= 256 { return 256 }
        return g >= 1 ? Int(g) : 0
    }

    /// Sample point (y, x) of bin (ph, pw), grid cell (iy, ix).
    @inline(__always)
    func sample(ph: Int, pw: Int, iy: Int, ix: Int) -> (y: Float, x: Float) {
        let y = startH + Float(ph) * binH + (Float(iy) + 0.5) * binH / Float(gridH)
        let x = startW + Float(pw) * binW + (Float(ix) + 0.5) * binW / Float(gridW)
        return (y, x)
    }
}

/// bilinear_interpolate_gradient: the 4 taps (offsets in the H x W plane) and weights,
/// or nil for a sample outside [-1, H] x [-1, W].
@inline(__always)
func bilinearTaps(y yy: Float, x xx: Float, height: Int, width: Int)
    -> (p1: Int, p2: Int, p3: Int, p4: Int, w1: Float, w2: Float, w3: Float, w4: Float)? {
    // Written as !(inside) so NaN coordinates count as outside.
    if !(yy >= -1 && yy <= Float(height) && xx >= -1 && xx <= Float(width)) { return nil }
    var y = yy <= 0 ? 0 : yy
    var x = xx <= 0 ? 0 : xx
    var yLow = Int(y), xLow = Int(x)
    let yHigh: Int, xHigh: Int
    if yLow >= height &- 1 { yLow = height &- 1; yHigh = yLow; y = Float(yLow) } else { yHigh = yLow &+ 1 }
    if xLow >= width &- 1 { xLow = width &- 1; xHigh = xLow; x = Float(xLow) } else { xHigh = xLow &+ 1 }
    let ly = y - Float(yLow), lx = x - Float(xLow)
    let hy = 1 - ly, hx = 1 - lx
    return (yLow &* width &+ xLow, yLow &* width &+ xHigh, yHigh &* width &+ xLow, yHigh &* width &+ xHigh,
            hy * hx, hy * lx, ly * hx, ly * lx)
}

/// Fast form, channels-last like the forward (RoIAlign.swift): each thread takes a
/// range of channels; per RoI the taps are computed once into a table and the RoI's
/// gradient is transposed to [bins, channels], so every tap adds a contiguous run of
/// channels into an [N, H, W, C] accumulator (vectorised, where the planar scatter
/// touched one cache line per channel). Then the accumulator is added into gradInput
/// [N, C, H, W]. Per element the sums come in the reference's order (RoI, bin,
/// sample, tap) with its arithmetic (gBin * w / count), then one add into gradInput.
public func roiAlignBackward(
    gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>,
    boxes: UnsafePointer<Float>, batchIndices: UnsafePointer<Int>, roiCount: Int,
    levels: UnsafePointer<Int>? = nil, level: Int = 0, geometry g: RoIAlignGeometry,
    threads: KernelThreads
) {
    let plane = g.height &* g.width
    let channels = g.channels
    var selected: [Int] = []
    for r in 0..<roiCount where levels == nil || levels![r] == level {
        let batch = batchIndices[r]
        precondition(batch >= 0 && batch < g.batch, "roiAlignBackward: batch index \(batch) out of 0..<\(g.batch)")
        selected.append(r)
    }
    if selected.isEmpty || channels == 0 { return }
    LargeBlockCache.shared.withScratch(floats: g.batch &* plane &* channels) { accumulator in
        scatterChannelsLast(gradOutput: gradOutput, gradInput: gradInput, boxes: boxes, batchIndices: batchIndices,
                            selected: selected, accumulator: accumulator, geometry: g, threads: threads)
    }
}

/// roiAlignBackward's body: `accumulator` [N, H, W, C] is scratch (zeroed here).
private func scatterChannelsLast(
    gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>,
    boxes: UnsafePointer<Float>, batchIndices: UnsafePointer<Int>, selected: [Int],
    accumulator: UnsafeMutablePointer<Float>, geometry g: RoIAlignGeometry, threads: KernelThreads
) {
    let bins = g.pooledHeight &* g.pooledWidth
    let plane = g.height &* g.width
    let channels = g.channels
    let roiStride = channels &* bins
    threads.parallelChunks(g.batch &* g.height, chunks: 4 &* threads.count) { rows in
        (accumulator + rows.lowerBound &* g.width &* channels).initialize(repeating: 0, count: rows.count &* g.width &* channels)
    }
    threads.parallelRanges(channels, costPerItem: selected.count &* bins &* 16) { range in
        let c0 = range.lowerBound, width = range.count
        var positions: [Int] = []
        var weights: [Float] = []
        let roiGradient = UnsafeMutablePointer<Float>.allocate(capacity: bins &* width)
        defer { roiGradient.deallocate() }
        for r in selected {
            let b = boxes + r &* 4
            let roi = RoIBins(x1: b[0], y1: b[1], x2: b[2], y2: b[3], geometry: g)
            let perBin = roi.gridH &* roi.gridW
            // Taps in (ph, pw, iy, ix) order, 4 per sample; outside samples get position -1.
            positions.removeAll(keepingCapacity: true)
            weights.removeAll(keepingCapacity: true)
            for ph in 0..<g.pooledHeight {
                for pw in 0..<g.pooledWidth {
                    for iy in 0..<roi.gridH {
                        for ix in 0..<roi.gridW {
                            let s = roi.sample(ph: ph, pw: pw, iy: iy, ix: ix)
                            if let t = bilinearTaps(y: s.y, x: s.x, height: g.height, width: g.width) {
                                positions.append(t.p1); positions.append(t.p2)
                                positions.append(t.p3); positions.append(t.p4)
                                weights.append(t.w1); weights.append(t.w2)
                                weights.append(t.w3); weights.append(t.w4)
                            } else {
                                for _ in 0..<4 { positions.append(-1); weights.append(0) }
                            }
                        }
                    }
                }
            }
            // [C, bins] slice of this RoI's gradient -> [bins, width].
            let dy = gradOutput + (r &* roiStride &+ c0 &* bins)
            for c in 0..<width {
                for bin in 0..<bins { roiGradient[bin &* width &+ c] = dy[c &* bins &+ bin] }
            }
            let image = accumulator + (batchIndices[r] &* plane &* channels &+ c0)
            let count = roi.count
            positions.withUnsafeBufferPointer { pos in
                weights.withUnsafeBufferPointer { wts in
                    var q = 0
                    for bin in 0..<bins {
                        let gBin = roiGradient + bin &* width
                        for _ in 0..<perBin {
                            if pos[q] >= 0 {
                                for tap in 0..<4 {
                                    let w = wts[q &+ tap]
                                    let dst = image + pos[q &+ tap] &* channels
                                    for c in 0..<width { dst[c] += gBin[c] * w / count }
                                }
                            }
                            q &+= 4
                        }
                    }
                }
            }
        }
    }
    // gradInput[n, c, y, x] += accumulator[n, y, x, c], 16 pixels at a time.
    threads.parallelChunks(g.batch &* g.height, chunks: 4 &* threads.count) { rows in
        for row in rows {
            let n = row / g.height, y = row &- n &* g.height
            let dst = gradInput + (n &* channels &* plane &+ y &* g.width)
            let src = accumulator + (n &* plane &+ y &* g.width) &* channels
            var x0 = 0
            while x0 < g.width {
                let x1 = min(g.width, x0 &+ 16)
                for c in 0..<channels {
                    let d = dst + c &* plane
                    for x in x0..<x1 { d[x] += src[x &* channels &+ c] }
                }
                x0 = x1
            }
        }
    }
}

/// Naive form, torchvision's loop order: for each output element (roi, c, ph, pw),
/// for each sample, interpolation weights computed afresh and scattered.
public func roiAlignBackwardReference(
    gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>,
    boxes: UnsafePointer<Float>, batchIndices: UnsafePointer<Int>, roiCount: Int,
    levels: UnsafePointer<Int>? = nil, level: Int = 0, geometry g: RoIAlignGeometry
) {
    for r in 0..<roiCount {
        if let levels, levels[r] != level { continue }
        let roi = RoIBins(x1: boxes[r * 4], y1: boxes[r * 4 + 1], x2: boxes[r * 4 + 2], y2: boxes[r * 4 + 3], geometry: g)
        for c in 0..<g.channels {
            let dst = gradInput + (batchIndices[r] * g.channels + c) * g.height * g.width
            for ph in 0..<g.pooledHeight {
                for pw in 0..<g.pooledWidth {
                    let gBin = gradOutput[((r * g.channels + c) * g.pooledHeight + ph) * g.pooledWidth + pw]
                    for iy in 0..<roi.gridH {
                        for ix in 0..<roi.gridW {
                            let s = roi.sample(ph: ph, pw: pw, iy: iy, ix: ix)
                            guard let t = bilinearTaps(y: s.y, x: s.x, height: g.height, width: g.width) else { continue }
                            dst[t.p1] += gBin * t.w1 / roi.count
                            dst[t.p2] += gBin * t.w2 / roi.count
                            dst[t.p3] += gBin * t.w3 / roi.count
                            dst[t.p4] += gBin * t.w4 / roi.count
                        }
                    }
                }
            }
        }
    }
}
