// RoIAlign, as torchvision's CPU forward kernel (csrc/ops/cpu/roi_align_kernel.cpp
// and roi_align_common.h), with the same Float32 arithmetic in the same order.
//
// Per RoI: start = x1 * scale (- 0.5 when aligned), roi size = end - start (at least
// 1 when not aligned), bin = size / pooled. The bilinear taps and weights of every
// sample point are computed once per RoI and shared by all channels; a sample
// outside [-1, H] x [-1, W] contributes 0. Output bin = sum of samples / count.
//
// Levels that many RoIs read are first copied to channels-last [N, H, W, C]: a
// sample's four taps then read C contiguous floats each (vectorised, prefetched)
// instead of one float per channel plane. Per channel the arithmetic and its
// order are unchanged, so both layouts give bit-identical results.

import Foundation

/// One feature level's geometry for the kernel. `base` points at a [N, C, H, W] tensor.
public struct RoIAlignSource {
    public let base: UnsafePointer<Float>
    public let batch: Int, channels: Int, height: Int, width: Int
    /// Feature pixels per image pixel (1 / stride).
    public let spatialScale: Float

    public init(base: UnsafePointer<Float>, batch: Int, channels: Int, height: Int, width: Int, spatialScale: Float) {
        self.base = base
        self.batch = batch; self.channels = channels; self.height = height; self.width = width
        self.spatialScale = spatialScale
    }
}

public enum RoIAlignKernel {
    /// Pools every RoI r from `sources[levels[r]]` (level 0 when `levels` is nil) into
    /// `output + r * C * PH * PW` ([K, C, PH, PW], zero-filled by the caller). RoIs with a
    /// level outside `sources` keep their zeros. All sources must have the same channel count.
    /// - boxes: 4 floats per RoI (x1, y1, x2, y2) in input-image pixels.
    /// - batchIndices: per RoI, the image in 0..<N of its level.
    /// At most `threads.count` threads work at once.
    public static func run(sources: [RoIAlignSource], levels: [Int]?, boxes: UnsafeBufferPointer<Float>,
                           batchIndices: [Int], pooledHeight: Int, pooledWidth: Int, samplingRatio: Int,
                           aligned: Bool, output: UnsafeMutablePointer<Float>, threads: KernelThreads) {
        let k = batchIndices.count
        precondition(boxes.count == 4 &* k, "roiAlign: \(boxes.count) box coordinates for \(k) RoIs")
        precondition(levels == nil || levels!.count == k, "roiAlign: \(levels?.count ?? 0) levels for \(k) RoIs")
        guard k > 0, let channels = sources.first?.channels else { return }
        for (l, s) in sources.enumerated() {
            precondition(s.channels == channels, "roiAlign: level \(l) has \(s.channels) channels, expected \(channels)")
        }
        let outBase = output
        let roiStride = channels &* pooledHeight &* pooledWidth
        // Channels-last copies of the levels read by enough RoIs to repay one pass over the level.
        var roisPerLevel = [Int](repeating: 0, count: sources.count)
        for r in 0..<k {
            let level = levels?[r] ?? 0
            if level >= 0 && level < sources.count { roisPerLevel[level] += 1 }
        }
        let channelsLast: [UnsafeMutablePointer<Float>?] = sources.enumerated().map { l, s in
            channels >= 8 && roisPerLevel[l] &* pooledHeight &* pooledWidth &* 16 >= s.height &* s.width
                ? channelsLastCopy(s, threads: threads) : nil
        }
        defer { channelsLast.forEach { $0?.deallocate() } }
        do {
            let coords = boxes
            let work = { (range: Range<Int>) in
                var scratch = PreCalcBuffer()
                let accumulator = UnsafeMutablePointer<Float>.allocate(capacity: roiStride)
                defer { scratch.release(); accumulator.deallocate() }
                for r in range {
                    let level = levels?[r] ?? 0
                    guard level >= 0 && level < sources.count else { continue }
                    let src = sources[level]
                    let batch = batchIndices[r]
                    precondition(batch >= 0 && batch < src.batch, "roiAlign: batch index \(batch) out of 0..<\(src.batch)")
                    let image = batch &* channels &* src.height &* src.width
                    let (perBin, count) = prepareSamples(
                        source: src, x1: coords[r &* 4], y1: coords[r &* 4 &+ 1], x2: coords[r &* 4 &+ 2],
                        y2: coords[r &* 4 &+ 3], pooledHeight: pooledHeight, pooledWidth: pooledWidth,
                        samplingRatio: samplingRatio, aligned: aligned, scratch: &scratch)
                    if let hwc = channelsLast[level] {
                        poolChannelsLast(input: UnsafePointer(hwc + image), channels: channels, bins: pooledHeight &* pooledWidth,
                                         perBin: perBin, count: count, scratch: scratch, accumulator: accumulator,
                                         output: outBase + r &* roiStride)
                    } else {
                        poolPlanar(input: src.base + image, source: src, bins: pooledHeight &* pooledWidth,
                                   perBin: perBin, count: count, scratch: scratch, output: outBase + r &* roiStride)
                    }
                }
            }
            // Threads only pay off with enough work (about 4 taps per output element);
            // 8 chunks per thread even out RoIs of different sizes.
            threads.parallelChunks(k, chunks: k &* roiStride >= 32_768 ? 8 &* threads.count : 1, work)
        }
    }

    /// `source` [N, C, H, W] copied to a new [N, H, W, C] buffer (caller deallocates).
    static func channelsLastCopy(_ s: RoIAlignSource, threads: KernelThreads) -> UnsafeMutablePointer<Float> {
        let c = s.channels, w = s.width, plane = s.height &* s.width
        let out = UnsafeMutablePointer<Float>.allocate(capacity: max(1, s.batch &* plane &* c))
        let rows = s.batch &* s.height
        threads.parallelChunks(rows, chunks: 4 &* threads.count) { range in
            for row in range {
                let n = row / s.height, y = row &- n &* s.height
                let src = s.base + (n &* c &* plane &+ y &* w)
                let dst = out + (n &* plane &+ y &* w) &* c
                // 16 pixels at a time: their C-float rows stay in L1 while the channels go by.
                var x0 = 0
                while x0 < w {
                    let x1 = min(w, x0 &+ 16)
                    for ch in 0..<c {
                        let sp = src + ch &* plane
                        for x in x0..<x1 { dst[x &* c &+ ch] = sp[x] }
                    }
                    x0 = x1
                }
            }
        }
        return out
    }

    /// The RoI's sampling grid (taps and weights in `scratch`), its samples per bin and their count.
    @inline(__always)
    static func prepareSamples(source: RoIAlignSource, x1: Float, y1: Float, x2: Float, y2: Float,
                               pooledHeight: Int, pooledWidth: Int, samplingRatio: Int, aligned: Bool,
                               scratch: inout PreCalcBuffer) -> (perBin: Int, count: Float) {
        let scale = source.spatialScale
        let offset: Float = aligned ? 0.5 : 0
        let startW = x1 * scale - offset
        let startH = y1 * scale - offset
        let endW = x2 * scale - offset
        let endH = y2 * scale - offset
        var roiWidth = endW - startW
        var roiHeight = endH - startH
        if !aligned {
            // std::max(size, 1): NaN stays NaN.
            roiWidth = roiWidth < 1 ? 1 : roiWidth
            roiHeight = roiHeight < 1 ? 1 : roiHeight
        }
        let binH = roiHeight / Float(pooledHeight)
        let binW = roiWidth / Float(pooledWidth)
        let gridH = samplingRatio > 0 ? samplingRatio : adaptiveGrid(roiHeight, pooledHeight)
        let gridW = samplingRatio > 0 ? samplingRatio : adaptiveGrid(roiWidth, pooledWidth)
        scratch.reserve(pooledHeight &* pooledWidth &* gridH &* gridW)
        fillPreCalc(height: source.height, width: source.width, pooledHeight: pooledHeight, pooledWidth: pooledWidth,
                    startH: startH, startW: startW, binH: binH, binW: binW, gridH: gridH, gridW: gridW,
                    positions: scratch.positions, weights: scratch.weights)
        return (gridH &* gridW, Float(max(gridH &* gridW, 1)))
    }

    /// One RoI, all channels, from its image's [C, H, W] into its [C, PH, PW].
    @inline(__always)
    static func poolPlanar(input: UnsafePointer<Float>, source: RoIAlignSource, bins: Int, perBin: Int, count: Float,
                           scratch: PreCalcBuffer, output: UnsafeMutablePointer<Float>) {
        let pos = scratch.positions, wts = scratch.weights
        let plane = source.height &* source.width
        for c in 0..<source.channels {
            let src = input + c &* plane
            let dst = output + c &* bins
            var p = 0
            for bin in 0..<bins {
                var value: Float = 0
                for _ in 0..<perBin {
                    let q = p &* 4
                    value += wts[q] * src[Int(pos[q])] + wts[q &+ 1] * src[Int(pos[q &+ 1])]
                        + wts[q &+ 2] * src[Int(pos[q &+ 2])] + wts[q &+ 3] * src[Int(pos[q &+ 3])]
                    p &+= 1
                }
                dst[bin] = value / count
            }
        }
    }

    /// Same sums as `poolPlanar`, same order per channel, from the image's [H, W, C]:
    /// `accumulator` [bins, C] gathers them, then is written out as [C, PH, PW].
    @inline(__always)
    static func poolChannelsLast(input: UnsafePointer<Float>, channels: Int, bins: Int, perBin: Int, count: Float,
                                 scratch: PreCalcBuffer, accumulator: UnsafeMutablePointer<Float>,
                                 output: UnsafeMutablePointer<Float>) {
        let pos = scratch.positions, wts = scratch.weights
        var p = 0
        for bin in 0..<bins {
            let acc = accumulator + bin &* channels
            acc.update(repeating: 0, count: channels)
            for _ in 0..<perBin {
                let q = p &* 4
                let w0 = wts[q], w1 = wts[q &+ 1], w2 = wts[q &+ 2], w3 = wts[q &+ 3]
                let s0 = input + Int(pos[q]) &* channels, s1 = input + Int(pos[q &+ 1]) &* channels
                let s2 = input + Int(pos[q &+ 2]) &* channels, s3 = input + Int(pos[q &+ 3]) &* channels
                for c in 0..<channels {
                    acc[c] += w0 * s0[c] + w1 * s1[c] + w2 * s2[c] + w3 * s3[c]
                }
                p &+= 1
            }
        }
        for c in 0..<channels {
            let dst = output + c &* bins
            for bin in 0..<bins { dst[bin] = accumulator[bin &* channels &+ c] / count }
        }
    }

    /// C++ `int(ceil(size / pooled))`, 0 for NaN or non-positive sizes, and capped at
    /// `maxAdaptiveGrid` so an absurd RoI cannot ask for billions of samples (torchvision
    /// has no cap; the cap only matters for RoIs over 256 feature pixels per bin).
    @inline(__always)
    static func adaptiveGrid(_ size: Float, _ pooled: Int) -> Int {
        let g = (size / Float(pooled)).rounded(.up)
        if g >= Float(maxAdaptiveGrid) { return maxAdaptiveGrid }
        return g >= 1 ? Int(g) : 0
    }

    static let maxAdaptiveGrid = 256

    /// roi_align_common.h pre_calc_for_bilinear_interpolate: 4 taps (pixel offsets in the
    /// H x W plane) and 4 weights per sample, in (ph, pw, iy, ix) order.
    @inline(__always)
    static func fillPreCalc(height: Int, width: Int, pooledHeight: Int, pooledWidth: Int,
                            startH: Float, startW: Float, binH: Float, binW: Float, gridH: Int, gridW: Int,
                            positions: UnsafeMutablePointer<Int32>, weights: UnsafeMutablePointer<Float>) {
        let fh = Float(height), fw = Float(width)
        let gh = Float(gridH), gw = Float(gridW)
        var q = 0
        for ph in 0..<pooledHeight {
            for pw in 0..<pooledWidth {
                for iy in 0..<gridH {
                    let yy = startH + Float(ph) * binH + (Float(iy) + 0.5) * binH / gh
                    for ix in 0..<gridW {
                        let xx = startW + Float(pw) * binW + (Float(ix) + 0.5) * binW / gw
                        // Written as !(inside) so NaN coordinates take the empty branch.
                        if !(yy >= -1 && yy <= fh && xx >= -1 && xx <= fw) {
                            for t in 0..<4 { positions[q &+ t] = 0; weights[q &+ t] = 0 }
                            q &+= 4
                            continue
                        }
                        var y = yy <= 0 ? 0 : yy
                        var x = xx <= 0 ? 0 : xx
                        var yLow = Int(y), xLow = Int(x)
                        let yHigh: Int, xHigh: Int
                        if yLow >= height &- 1 {
                            yLow = height &- 1; yHigh = yLow; y = Float(yLow)
                        } else {
                            yHigh = yLow &+ 1
                        }
                        if xLow >= width &- 1 {
                            xLow = width &- 1; xHigh = xLow; x = Float(xLow)
                        } else {
                            xHigh = xLow &+ 1
                        }
                        let ly = y - Float(yLow), lx = x - Float(xLow)
                        let hy = 1 - ly, hx = 1 - lx
                        positions[q] = Int32(truncatingIfNeeded: yLow &* width &+ xLow)
                        positions[q &+ 1] = Int32(truncatingIfNeeded: yLow &* width &+ xHigh)
                        positions[q &+ 2] = Int32(truncatingIfNeeded: yHigh &* width &+ xLow)
                        positions[q &+ 3] = Int32(truncatingIfNeeded: yHigh &* width &+ xHigh)
                        weights[q] = hy * hx
                        weights[q &+ 1] = hy * lx
                        weights[q &+ 2] = ly * hx
                        weights[q &+ 3] = ly * lx
                        q &+= 4
                    }
                }
            }
        }
    }
}

/// Per-thread scratch for the per-RoI taps: 4 positions and 4 weights per sample.
struct PreCalcBuffer {
    private(set) var capacity = 0
    private(set) var positions = UnsafeMutablePointer<Int32>.allocate(capacity: 4)
    private(set) var weights = UnsafeMutablePointer<Float>.allocate(capacity: 4)

    mutating func reserve(_ samples: Int) {
        guard samples > capacity else { return }
        positions.deallocate(); weights.deallocate()
        capacity = max(samples, 2 &* capacity)
        positions = .allocate(capacity: capacity &* 4)
        weights = .allocate(capacity: capacity &* 4)
    }

    func release() { positions.deallocate(); weights.deallocate() }
}
