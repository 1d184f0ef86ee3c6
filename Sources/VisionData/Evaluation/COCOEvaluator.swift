// pycocotools COCOeval (iouType "bbox"): evaluate + accumulate + summarize,
// reproduced step for step so every number agrees with pycocotools.

import Foundation
import VisionCore

/// COCOeval's accumulated arrays and the 12 summary numbers.
public struct COCOEvaluation: Sendable {
    public var parameters: COCOParameters
    public var numClasses: Int
    /// precision[t][r][k][a][m] flattened row-major [T x R x K x A x M]; -1 where class k has no GT in range a.
    public var precision: [Double]
    /// recall[t][k][a][m] flattened [T x K x A x M]; -1 likewise.
    public var recall: [Double]
    /// COCOeval.stats: AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl (-1 when undefined).
    public var stats: [Double]

    public func precision(t: Int, r: Int, k: Int, a: Int, m: Int) -> Double {
        let (R, K, A, M) = (parameters.recallThresholds.count, numClasses, parameters.areaRanges.count, parameters.maxDetections.count)
        return precision[(((t * R + r) * K + k) * A + a) * M + m]
    }

    public func recall(t: Int, k: Int, a: Int, m: Int) -> Double {
        let (K, A, M) = (numClasses, parameters.areaRanges.count, parameters.maxDetections.count)
        return recall[((t * K + k) * A + a) * M + m]
    }

    /// Mean over recall thresholds of precision at IoU index 0 (0.5), area all,
    /// the largest maxDets, for class index k (0-based): pycocotools'
    /// eval['precision'][0, :, k, 0, -1].mean(); -1 for a class without GT.
    public func classAP50(_ k: Int) -> Double {
        let R = parameters.recallThresholds.count, m = parameters.maxDetections.count - 1
        let values = (0..<R).map { precision(t: 0, r: $0, k: k, a: 0, m: m) }.filter { $0 > -1 }
        return values.isEmpty ? -1 : values.reduce(0, +) / Double(values.count)
    }
}

public enum COCOEvaluator {
    /// Scores `images` over classes 1...numClasses (labels outside are ignored); classes
    /// are scored on up to `threads.count` threads.
    public static func evaluate(_ images: [EvaluationImage], numClasses: Int,
                                parameters: COCOParameters = COCOParameters(), threads: KernelThreads) -> COCOEvaluation {
        let T = parameters.iouThresholds.count, R = parameters.recallThresholds.count
        let A = parameters.areaRanges.count, M = parameters.maxDetections.count, K = numClasses
        var precision = [Double](repeating: -1, count: T * R * K * A * M)
        var recall = [Double](repeating: -1, count: T * K * A * M)

        // Per class, the images' GT and detection indices, so each class is independent.
        var gtLists = [[(image: Int, index: Int)]](repeating: [], count: K)
        var dtLists = [[(image: Int, index: Int)]](repeating: [], count: K)
        for (i, image) in images.enumerated() {
            for (j, label) in image.groundTruth.labels.enumerated() where label >= 1 && label <= K { gtLists[label - 1].append((i, j)) }
            for (j, d) in image.detections.enumerated() where d.label >= 1 && d.label <= K { dtLists[d.label - 1].append((i, j)) }
        }
        let (gtByClass, dtByClass) = (gtLists, dtLists)

        let results = UnsafeMutableBufferPointer<ClassResult?>.allocate(capacity: K)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        nonisolated(unsafe) let out = results
        threads.parallelChunks(K, chunks: K) { classes in
            for k in classes {
                out[k] = evaluateClass(images: images, gts: gtByClass[k], dts: dtByClass[k], parameters: parameters)
            }
        }
        for k in 0..<K {
            let result = results[k]!
            for a in 0..<A {
                for m in 0..<M {
                    guard let curve = result.curves[a * M + m] else { continue }
                    for t in 0..<T {
                        recall[((t * K + k) * A + a) * M + m] = curve.recall[t]
                        for r in 0..<R { precision[(((t * R + r) * K + k) * A + a) * M + m] = curve.precision[t * R + r] }
                    }
                }
            }
        }
        var evaluation = COCOEvaluation(parameters: parameters, numClasses: K, precision: precision, recall: recall, stats: [])
        evaluation.stats = summarize(evaluation)
        return evaluation
    }

    private struct Curve { var precision: [Double]; var recall: [Double] }
    private struct ClassResult { var curves: [Curve?] }

    /// evaluateImg over every image holding this class, then accumulate for every (area, maxDets).
    private static func evaluateClass(images: [EvaluationImage], gts: [(image: Int, index: Int)], dts: [(image: Int, index: Int)],
                                      parameters p: COCOParameters) -> ClassResult {
        let T = p.iouThresholds.count, A = p.areaRanges.count, M = p.maxDetections.count
        let maxDet = p.maxDetections.max() ?? 100
        // Group by image, keeping the input order (= pycocotools' _gts/_dts lists).
        var gtOfImage: [Int: [Int]] = [:], dtOfImage: [Int: [Int]] = [:]
        for g in gts { gtOfImage[g.image, default: []].append(g.index) }
        for d in dts { dtOfImage[d.image, default: []].append(d.index) }
        let imageIds = Set(gtOfImage.keys).union(dtOfImage.keys).sorted()

        // Detections of all images, concatenated in image order: score, rank in image, outcomes[a][t][n].
        var scores: [Double] = [], ranks: [Int] = []
        var perImage: [(dtCount: Int, ious: [Double], dtAreas: [Double], gtAreas: [Double], crowd: [Bool])] = []
        for i in imageIds {
            let image = images[i]
            let gtIndices = gtOfImage[i] ?? []
            // mergesort on -score: stable, so ties keep input order.
            let dtIndices = (dtOfImage[i] ?? []).enumerated().sorted { a, b in
                let (sa, sb) = (image.detections[a.element].score, image.detections[b.element].score)
                return sa != sb ? sa > sb : a.offset < b.offset
            }.prefix(maxDet).map(\.element)
            let dtBoxes = dtIndices.map { XYWH(image.detections[$0].box) }
            let gtBoxes = gtIndices.map { XYWH(image.groundTruth.boxes[$0]) }
            let crowd = gtIndices.map { image.groundTruth.isCrowd[$0] }
            let ious = COCOMatching.iou(detections: dtBoxes, groundTruth: gtBoxes, crowd: crowd)
            for (rank, d) in dtIndices.enumerated() { scores.append(image.detections[d].score); ranks.append(rank) }
            perImage.append((dtIndices.count, ious, dtBoxes.map { $0.w * $0.h }, gtIndices.map { image.groundTruth.areas[$0] }, crowd))
        }
        let N = scores.count
        var outcomes = [UInt8](repeating: 0, count: A * T * N)
        var notIgnored = [Int](repeating: 0, count: A)
        for a in 0..<A {
            var offset = 0
            for entry in perImage {
                notIgnored[a] += COCOMatching.match(ious: entry.ious, detectionAreas: entry.dtAreas, gtAreas: entry.gtAreas,
                                                    crowd: entry.crowd, areaRange: p.areaRanges[a], iouThresholds: p.iouThresholds,
                                                    outcomes: &outcomes, stride: N, offset: a * T * N + offset)
                offset += entry.dtCount
            }
        }

        // One stable sort by descending score serves every (area, maxDets): keeping only the
        // entries of rank < maxDets preserves the relative order of a stable sort.
        let order = (0..<N).sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        var curves = [Curve?](repeating: nil, count: A * M)
        if imageIds.isEmpty { return ClassResult(curves: curves) }
        for (m, limit) in p.maxDetections.enumerated() {
            let kept = order.filter { ranks[$0] < limit }
            for a in 0..<A where notIgnored[a] > 0 {
                curves[a * M + m] = curve(kept: kept, outcomes: outcomes, base: a * T * N, count: N,
                                          notIgnored: notIgnored[a], parameters: p)
            }
        }
        return ClassResult(curves: curves)
    }

    /// accumulate's inner loop: cumulative TP/FP, precision envelope, and
    /// precision sampled at the recall thresholds (searchsorted side='left').
    private static func curve(kept: [Int], outcomes: [UInt8], base: Int, count N: Int, notIgnored: Int,
                              parameters p: COCOParameters) -> Curve {
        let T = p.iouThresholds.count, R = p.recallThresholds.count
        let eps = Double.ulpOfOne  // np.spacing(1)
        var precisionOut = [Double](repeating: 0, count: T * R)
        var recallOut = [Double](repeating: 0, count: T)
        let nd = kept.count
        var rc = [Double](repeating: 0, count: nd), pr = [Double](repeating: 0, count: nd)
        for t in 0..<T {
            var tp = 0.0, fp = 0.0
            let row = base + t * N
            for (i, n) in kept.enumerated() {
                let o = outcomes[row + n]
                if o == COCOMatching.truePositive { tp += 1 } else if o == COCOMatching.falsePositive { fp += 1 }
                rc[i] = tp / Double(notIgnored)
                pr[i] = tp / (fp + tp + eps)
            }
            recallOut[t] = nd > 0 ? rc[nd - 1] : 0
            if nd > 1 { for i in stride(from: nd - 1, to: 0, by: -1) where pr[i] > pr[i - 1] { pr[i - 1] = pr[i] } }
            var i = 0
            for (r, threshold) in p.recallThresholds.enumerated() {
                while i < nd && rc[i] < threshold { i += 1 }
                if i >= nd { break }
                precisionOut[t * R + r] = pr[i]
            }
        }
        return Curve(precision: precisionOut, recall: recallOut)
    }

    /// COCOeval.summarize for bbox: means over the entries > -1, else -1.
    static func summarize(_ e: COCOEvaluation) -> [Double] {
        let p = e.parameters
        let T = p.iouThresholds.count, R = p.recallThresholds.count, K = e.numClasses
        let mLast = p.maxDetections.count - 1
        func mean(_ values: [Double]) -> Double {
            let valid = values.filter { $0 > -1 }
            return valid.isEmpty ? -1 : valid.reduce(0, +) / Double(valid.count)
        }
        func ap(iou: Double? = nil, area: Int = 0, m: Int = mLast) -> Double {
            let ts = iou.map { v in (0..<T).filter { p.iouThresholds[$0] == v } } ?? Array(0..<T)
            var values: [Double] = []
            for t in ts { for r in 0..<R { for k in 0..<K { values.append(e.precision(t: t, r: r, k: k, a: area, m: m)) } } }
            return mean(values)
        }
        func ar(area: Int = 0, m: Int) -> Double {
            var values: [Double] = []
            for t in 0..<T { for k in 0..<K { values.append(e.recall(t: t, k: k, a: area, m: m)) } }
            return mean(values)
        }
        return [ap(), ap(iou: 0.5), ap(iou: 0.75), ap(area: 1), ap(area: 2), ap(area: 3),
                ar(m: 0), ar(m: min(1, mLast)), ar(m: mLast), ar(area: 1, m: mLast), ar(area: 2, m: mLast), ar(area: 3, m: mLast)]
    }
}
