// torchvision's box_iou and models/detection/_utils.Matcher.

import VisionDetection

/// torchvision box_iou: [M, N] row-major IoU of every (a, b) pair, Float32 in torch's
/// order: inter = clamp(min(x2) - max(x1), 0) * clamp(min(y2) - max(y1), 0),
/// union = area_a + area_b - inter, iou = inter / union.
public func boxIoU(_ a: Boxes, _ b: Boxes) -> [Float] {
    let m = a.count, n = b.count
    var out = [Float](repeating: 0, count: m * n)
    let areaA = a.areas, areaB = b.areas
    a.coordinates.withUnsafeBufferPointer { pa in
        b.coordinates.withUnsafeBufferPointer { pb in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<m {
                    let ax1 = pa[i &* 4], ay1 = pa[i &* 4 &+ 1], ax2 = pa[i &* 4 &+ 2], ay2 = pa[i &* 4 &+ 3]
                    for j in 0..<n {
                        let q = j &* 4
                        let w = min(ax2, pb[q &+ 2]) - max(ax1, pb[q])
                        let h = min(ay2, pb[q &+ 3]) - max(ay1, pb[q &+ 1])
                        let inter = (w < 0 ? 0 : w) * (h < 0 ? 0 : h)
                        dst[i &* n &+ j] = inter / (areaA[i] + areaB[j] - inter)
                    }
                }
            }
        }
    }
    return out
}

/// Assigns each prediction (anchor or proposal) the ground-truth box it overlaps most:
/// the GT index, or `belowLowThreshold` (-1) when the best IoU < low, or
/// `betweenThresholds` (-2) when low <= IoU < high. With `allowLowQualityMatches`, every
/// prediction that ties for the best IoU of some GT box keeps that match anyway.
public struct Matcher: Sendable {
    public static let belowLowThreshold = -1
    public static let betweenThresholds = -2

    public var highThreshold: Float
    public var lowThreshold: Float
    public var allowLowQualityMatches: Bool

    public init(highThreshold: Float, lowThreshold: Float, allowLowQualityMatches: Bool) {
        precondition(lowThreshold <= highThreshold, "Matcher: low threshold \(lowThreshold) above high \(highThreshold)")
        self.highThreshold = highThreshold
        self.lowThreshold = lowThreshold
        self.allowLowQualityMatches = allowLowQualityMatches
    }

    /// RPN matcher: 0.7 / 0.3, low-quality matches allowed.
    public static let rpn = Matcher(highThreshold: 0.7, lowThreshold: 0.3, allowLowQualityMatches: true)
    /// RoI heads matcher: 0.5 / 0.5.
    public static let roiHeads = Matcher(highThreshold: 0.5, lowThreshold: 0.5, allowLowQualityMatches: false)

    /// quality: [G, P] row-major (GT x predictions, box_iou(gt, predictions)).
    /// Returns P matches. The first GT wins ties (torch's max over dim 0). With G == 0
    /// every prediction is below the low threshold (torchvision raises; callers treat
    /// such images as background before matching).
    public func match(quality: [Float], groundTruthCount g: Int, predictionCount p: Int) -> [Int] {
        precondition(quality.count == g * p, "Matcher: \(quality.count) qualities for \(g) x \(p)")
        if g == 0 { return [Int](repeating: Matcher.belowLowThreshold, count: p) }
        var matches = [Int](repeating: 0, count: p)
        var best = [Float](repeating: 0, count: p)
        for j in 0..<p {
            var m = quality[j], idx = 0
            for i in 1..<g {
                let v = quality[i * p + j]
                if v > m || (v.isNaN && !m.isNaN) { m = v; idx = i }
            }
            best[j] = m
            matches[j] = idx
        }
        let allMatches = matches
        for j in 0..<p {
            if best[j] < lowThreshold {
                matches[j] = Matcher.belowLowThreshold
            } else if best[j] < highThreshold {
                matches[j] = Matcher.betweenThresholds
            }
        }
        if allowLowQualityMatches {
            // For each GT, every prediction reaching its highest quality keeps its original match.
            for i in 0..<g {
                var highest = -Float.infinity
                for j in 0..<p where quality[i * p + j] > highest { highest = quality[i * p + j] }
                for j in 0..<p where quality[i * p + j] == highest { matches[j] = allMatches[j] }
            }
        }
        return matches
    }
}
