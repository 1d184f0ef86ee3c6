// pycocotools COCOeval.computeIoU + evaluateImg for one (image, category):
// greedy matching of score-sorted detections to ground truth at each IoU threshold.

import Foundation

/// Boxes as COCO stores them: x, y, w, h (IoU and areas use w * h, no +1).
struct XYWH {
    var x: Double, y: Double, w: Double, h: Double
    init(_ b: BoundingBox) { x = b.x1; y = b.y1; w = b.x2 - b.x1; h = b.y2 - b.y1 }
}

enum COCOMatching {
    /// IoU of every detection with every GT as maskApi.c `bbIou` computes it,
    /// row-major [D x G]. For a crowd GT the union is the detection's area.
    static func iou(detections d: [XYWH], groundTruth g: [XYWH], crowd: [Bool]) -> [Double] {
        var out = [Double](repeating: 0, count: d.count * g.count)
        for gi in 0..<g.count {
            let G = g[gi]
            let ga = G.w * G.h
            for di in 0..<d.count {
                let D = d[di]
                let da = D.w * D.h
                let w = min(D.w + D.x, G.w + G.x) - max(D.x, G.x)
                if w <= 0 { continue }
                let h = min(D.h + D.y, G.h + G.y) - max(D.y, G.y)
                if h <= 0 { continue }
                let i = w * h
                let u = crowd[gi] ? da : da + ga - i
                out[di * g.count + gi] = i / u
            }
        }
        return out
    }

    /// Outcome of one detection at one IoU threshold.
    static let falsePositive: UInt8 = 0, truePositive: UInt8 = 1, ignored: UInt8 = 2

    /// evaluateImg for one area range. `ious` is [D x G] with detections already
    /// score-sorted and cut to maxDets. Writes outcomes[t * stride + offset + d]
    /// and returns the number of GT not ignored in this range.
    static func match(ious: [Double], detectionAreas: [Double], gtAreas: [Double], crowd: [Bool],
                      areaRange: (lo: Double, hi: Double), iouThresholds: [Double],
                      outcomes: inout [UInt8], stride: Int, offset: Int) -> Int {
        let D = detectionAreas.count, G = gtAreas.count
        // GT ignored when crowd or outside the range; stable sort puts ignored last.
        let gtIgnore = (0..<G).map { crowd[$0] || gtAreas[$0] < areaRange.lo || gtAreas[$0] > areaRange.hi }
        let order = (0..<G).filter { !gtIgnore[$0] } + (0..<G).filter { gtIgnore[$0] }
        let notIgnored = gtIgnore.lazy.filter { !$0 }.count
        var gtMatched = [Bool](repeating: false, count: G)
        for (t, threshold) in iouThresholds.enumerated() {
            for g in 0..<G { gtMatched[g] = false }
            let base = t * stride + offset
            for d in 0..<D {
                var best = min(threshold, 1 - 1e-10)
                var m = -1
                if G > 0 {
                    for g in order {
                        if gtMatched[g] && !crowd[g] { continue }
                        // Already matched a regular GT and only ignored ones remain.
                        if m > -1 && !gtIgnore[m] && gtIgnore[g] { break }
                        let value = ious[d * G + g]
                        if value < best { continue }
                        best = value
                        m = g
                    }
                }
                if m == -1 {
                    let a = detectionAreas[d]
                    outcomes[base + d] = (a < areaRange.lo || a > areaRange.hi) ? ignored : falsePositive
                } else {
                    outcomes[base + d] = gtIgnore[m] ? ignored : truePositive
                    gtMatched[m] = true
                }
            }
        }
        return notIgnored
    }
}
