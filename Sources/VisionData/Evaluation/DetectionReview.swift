// What a person looks at after the COCO numbers: at IoU 0.5, which detections were
// right (true positives), which were not (false positives), which objects were
// missed, at the score threshold that maximises F1 over all classes; and the
// confusion matrix with a background row and column.
//
// Matching is COCO's greedy one: per image and class, detections in descending
// score take the unmatched ground truth of highest IoU >= 0.5. A detection's
// outcome then does not depend on detections scored below it, so one match serves
// every threshold.

import Foundation

public struct DetectionReview: Sendable {
    public struct ImageOutcome: Sendable {
        /// Indices into the image's detections, kept at the threshold, that matched an object of their class.
        public var truePositives: [Int]
        /// Kept detections that matched none.
        public var falsePositives: [Int]
        /// Indices into the image's ground truth that no kept detection of their class matched.
        public var missed: [Int]
    }

    public let iouThreshold: Double
    /// Detections scored at least this are kept (the score of best F1).
    public let scoreThreshold: Double
    public let bestF1: Double
    public let outcomes: [ImageOutcome]
    /// confusion[row][column]: rows are the ground truth classes then "background"
    /// (false positives), columns the predicted classes then "background" (missed).
    /// Row k sums to the ground-truth count of class k + 1.
    public let confusion: [[Int]]
    /// Ground-truth objects per class (index 0 = label 1).
    public let groundTruthCounts: [Int]

    public init(_ images: [EvaluationImage], numClasses K: Int, iouThreshold: Double = 0.5) {
        self.iouThreshold = iouThreshold
        // Class-aware greedy matching of every detection, at any score.
        // matched[image][detection]: the object it took, or -1.
        var matched: [[Int]] = []
        var all: [(score: Double, tp: Bool)] = []
        var counts = [Int](repeating: 0, count: K)
        for image in images {
            let gt = image.groundTruth
            for label in gt.labels where label >= 1 && label <= K { counts[label - 1] += 1 }
            var taken = [Bool](repeating: false, count: gt.boxes.count)
            var took = [Int](repeating: -1, count: image.detections.count)
            for d in DetectionReview.scoreOrder(image.detections) where image.detections[d].label >= 1 && image.detections[d].label <= K {
                let det = image.detections[d]
                var best = iouThreshold, match = -1
                for g in 0..<gt.boxes.count where !taken[g] && gt.labels[g] == det.label {
                    let iou = DetectionReview.iou(det.box, gt.boxes[g])
                    if iou >= best { best = iou; match = g }
                }
                if match >= 0 { taken[match] = true; took[d] = match }
                all.append((det.score, match >= 0))
            }
            matched.append(took)
        }
        groundTruthCounts = counts
        // Best F1 = 2 TP / (kept + objects) over thresholds at each detection's score.
        let totalGT = counts.reduce(0, +)
        all.sort { $0.score > $1.score }
        var tp = 0, best = (f1: 0.0, threshold: 1.0)
        for (i, entry) in all.enumerated() {
            if entry.tp { tp += 1 }
            // Ties: a threshold keeps every detection of that score.
            if i + 1 < all.count && all[i + 1].score == entry.score { continue }
            let f1 = Double(2 * tp) / Double(i + 1 + totalGT)
            if f1 > best.f1 { best = (f1, entry.score) }
        }
        bestF1 = best.f1
        scoreThreshold = best.threshold

        var outcomes: [ImageOutcome] = []
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: K + 1), count: K + 1)
        for (i, image) in images.enumerated() {
            let gt = image.groundTruth
            let kept = image.detections.indices.filter {
                image.detections[$0].score >= best.threshold && image.detections[$0].label >= 1 && image.detections[$0].label <= K
            }
            var outcome = ImageOutcome(truePositives: [], falsePositives: [], missed: [])
            var covered = [Bool](repeating: false, count: gt.boxes.count)
            // Kept detections are a prefix by score, so their matches are those of the full match.
            for d in kept {
                if matched[i][d] >= 0 {
                    outcome.truePositives.append(d)
                    covered[matched[i][d]] = true
                } else {
                    outcome.falsePositives.append(d)
                }
            }
            outcome.missed = gt.labels.indices.filter { !covered[$0] && gt.labels[$0] >= 1 && gt.labels[$0] <= K }
            outcomes.append(outcome)
            DetectionReview.addConfusion(image: image, kept: kept, numClasses: K, iouThreshold: iouThreshold, into: &confusion)
        }
        self.outcomes = outcomes
        self.confusion = confusion
    }

    /// Class-agnostic one-to-one matching of kept detections to objects (pairs of
    /// highest IoU first, IoU >= the threshold): a pair counts at [true class][predicted
    /// class], an unmatched object at [its class][background], an unmatched detection
    /// at [background][its class].
    static func addConfusion(image: EvaluationImage, kept: [Int], numClasses K: Int, iouThreshold: Double,
                             into confusion: inout [[Int]]) {
        let gt = image.groundTruth
        let objects = gt.labels.indices.filter { gt.labels[$0] >= 1 && gt.labels[$0] <= K }
        var pairs: [(iou: Double, d: Int, g: Int)] = []
        for d in kept {
            for g in objects {
                let iou = iou(image.detections[d].box, gt.boxes[g])
                if iou >= iouThreshold { pairs.append((iou, d, g)) }
            }
        }
        pairs.sort { $0.iou != $1.iou ? $0.iou > $1.iou : ($0.d, $0.g) < ($1.d, $1.g) }
        var usedD = Set<Int>(), usedG = Set<Int>()
        for p in pairs where !usedD.contains(p.d) && !usedG.contains(p.g) {
            usedD.insert(p.d); usedG.insert(p.g)
            confusion[gt.labels[p.g] - 1][image.detections[p.d].label - 1] += 1
        }
        for g in objects where !usedG.contains(g) { confusion[gt.labels[g] - 1][K] += 1 }
        for d in kept where !usedD.contains(d) { confusion[K][image.detections[d].label - 1] += 1 }
    }

    /// Detection indices by descending score, ties in input order.
    static func scoreOrder(_ detections: [ScoredDetection]) -> [Int] {
        detections.indices.sorted { detections[$0].score != detections[$1].score ? detections[$0].score > detections[$1].score : $0 < $1 }
    }

    /// IoU as COCO computes it (w * h, no +1).
    public static func iou(_ a: BoundingBox, _ b: BoundingBox) -> Double {
        let w = min(a.x2, b.x2) - max(a.x1, b.x1), h = min(a.y2, b.y2) - max(a.y1, b.y1)
        guard w > 0, h > 0 else { return 0 }
        let inter = w * h
        return inter / (a.area + b.area - inter)
    }
}

extension COCOEvaluation {
    /// Class k's (0-based) precision at each recall threshold, at IoU threshold index
    /// `t`, area "all", the largest maxDets: the row COCOeval averages into AP (the
    /// mean of these 101 values at t = 0 is the class's AP50); nil for a class
    /// without ground truth.
    public func precisionCurve(classIndex k: Int, iouIndex t: Int) -> [Double]? {
        let R = parameters.recallThresholds.count, m = parameters.maxDetections.count - 1
        let values = (0..<R).map { precision(t: t, r: $0, k: k, a: 0, m: m) }
        return values.allSatisfy({ $0 <= -1 }) ? nil : values
    }

    /// The index of IoU threshold `iou` (0.5 -> 0, 0.75 -> 5).
    public func iouIndex(_ iou: Double) -> Int? {
        parameters.iouThresholds.firstIndex { abs($0 - iou) < 1e-9 }
    }
}
