import VisionDetection

/// One detection as torchvision or vision reported it.
struct ReferenceDetection {
    var box: [Float]
    var label: Int
    var score: Float
}

func intersectionOverUnion(_ a: [Float], _ b: [Float]) -> Float {
    let w = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    let h = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    let inter = w * h
    let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return union > 0 ? inter / union : (a == b ? 1 : 0)
}

/// Greedy one-to-one matching of expected to actual detections: an expected one is
/// reproduced when an unused actual one has the same label, IoU >= minIoU and
/// |score difference| <= maxScoreDifference. Returns (reproduced, extra actual).
func matchDetections(expected: [ReferenceDetection], actual: [ReferenceDetection],
                     minIoU: Float, maxScoreDifference: Float) -> (reproduced: Int, extra: Int) {
    var used = [Bool](repeating: false, count: actual.count)
    var reproduced = 0
    for e in expected {
        var best = -1
        var bestIoU: Float = minIoU
        for (j, a) in actual.enumerated() where !used[j] && a.label == e.label && abs(a.score - e.score) <= maxScoreDifference {
            let iou = intersectionOverUnion(e.box, a.box)
            if iou >= bestIoU { bestIoU = iou; best = j }
        }
        if best >= 0 { used[best] = true; reproduced += 1 }
    }
    return (reproduced, used.filter { !$0 }.count)
}

extension Detections {
    var references: [ReferenceDetection] {
        (0..<count).map { i in
            let b = boxes[i]
            return ReferenceDetection(box: [b.x1, b.y1, b.x2, b.y2], label: labels[i], score: scores[i])
        }
    }
}
