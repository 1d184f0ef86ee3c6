// Pascal VOC 2007 11-point mAP at IoU > 0.5, as py-faster-rcnn's voc_eval.py
// (the devkit's VOCevaldet.m) computes it:
// - boxes are pixel-inclusive: widths and intersections get +1;
// - per class, detections of all images sorted by descending score (stable:
//   ties keep image order, then detection order);
// - each detection takes the GT of its image and class with the highest IoU
//   (first on ties); IoU > 0.5 on an unclaimed GT is a TP, on a claimed one a
//   FP, on a "difficult" GT neither; below, a FP;
// - AP = mean over recall levels 0, 0.1, ..., 1.0 of the highest precision at
//   recall >= level (0 if none).
// Difficult and crowd GT are not counted as positives. Classes without any
// positive GT are left out of the mean (the devkit would divide by zero).

import Foundation

public enum VOC07Evaluator {
    /// Per-class AP (index k for label k + 1; nil for classes without positive GT) and their mean (-1 if none).
    public static func evaluate(_ images: [EvaluationImage], numClasses K: Int,
                                iouThreshold: Double = 0.5) -> (mAP: Double, perClass: [Double?]) {
        var perClass = [Double?](repeating: nil, count: K)
        var detections = [[(image: Int, index: Int)]](repeating: [], count: K)
        var positives = [Int](repeating: 0, count: K)
        for (i, image) in images.enumerated() {
            let gt = image.groundTruth
            for (j, label) in gt.labels.enumerated() where label >= 1 && label <= K && !gt.difficult[j] && !gt.isCrowd[j] {
                positives[label - 1] += 1
            }
            for (j, d) in image.detections.enumerated() where d.label >= 1 && d.label <= K { detections[d.label - 1].append((i, j)) }
        }
        for k in 0..<K where positives[k] > 0 {
            let label = k + 1
            let sorted = detections[k].enumerated().sorted { a, b in
                let (sa, sb) = (images[a.element.image].detections[a.element.index].score,
                                images[b.element.image].detections[b.element.index].score)
                return sa != sb ? sa > sb : a.offset < b.offset
            }.map(\.element)
            var claimed: [Int: [Bool]] = [:]
            var tp = [Double](repeating: 0, count: sorted.count), fp = tp
            for (n, d) in sorted.enumerated() {
                let gt = images[d.image].groundTruth
                let box = images[d.image].detections[d.index].box
                var best = -Double.infinity, bestIndex = -1
                for (j, g) in gt.boxes.enumerated() where gt.labels[j] == label {
                    let overlap = inclusiveIoU(box, g)
                    if overlap > best { best = overlap; bestIndex = j }
                }
                if best > iouThreshold {
                    if gt.difficult[bestIndex] || gt.isCrowd[bestIndex] { continue }
                    var flags = claimed[d.image] ?? [Bool](repeating: false, count: gt.boxes.count)
                    if flags[bestIndex] { fp[n] = 1 } else { tp[n] = 1; flags[bestIndex] = true }
                    claimed[d.image] = flags
                } else {
                    fp[n] = 1
                }
            }
            var recall = [Double](), precision = [Double]()
            var tpSum = 0.0, fpSum = 0.0
            for n in 0..<sorted.count {
                tpSum += tp[n]; fpSum += fp[n]
                recall.append(tpSum / Double(positives[k]))
                precision.append(tpSum / max(tpSum + fpSum, Double.ulpOfOne))
            }
            var ap = 0.0
            for level in 0...10 {
                let t = Double(level) * 0.1  // np.arange(0., 1.1, 0.1)
                var p = 0.0
                for n in 0..<recall.count where recall[n] >= t { p = max(p, precision[n]) }
                ap += p / 11
            }
            perClass[k] = ap
        }
        let valid = perClass.compactMap { $0 }
        return (valid.isEmpty ? -1 : valid.reduce(0, +) / Double(valid.count), perClass)
    }

    /// IoU with the +1 pixel-inclusive convention of the VOC devkit.
    static func inclusiveIoU(_ a: BoundingBox, _ b: BoundingBox) -> Double {
        let iw = max(min(a.x2, b.x2) - max(a.x1, b.x1) + 1, 0)
        let ih = max(min(a.y2, b.y2) - max(a.y1, b.y1) + 1, 0)
        let inter = iw * ih
        let union = (a.x2 - a.x1 + 1) * (a.y2 - a.y1 + 1) + (b.x2 - b.x1 + 1) * (b.y2 - b.y1 + 1) - inter
        return inter / union
    }
}
