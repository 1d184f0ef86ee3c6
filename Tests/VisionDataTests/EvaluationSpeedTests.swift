import Foundation
import VisionCore
import VisionData
import XCTest

/// COCOeval over 5000 images x 100 detections must take seconds.
final class EvaluationSpeedTests: XCTestCase {
    func testFiveThousandImagesOfHundredDetections() {
        var rng = SplitMix64(seed: 42)
        let classes = 20
        var images: [EvaluationImage] = []
        for i in 0..<5000 {
            var boxes: [BoundingBox] = [], labels: [Int] = []
            for _ in 0..<7 {
                let x = rng.uniform() * 500, y = rng.uniform() * 400, w = 5 + rng.uniform() * 120, h = 5 + rng.uniform() * 120
                boxes.append(BoundingBox(x1: x, y1: y, x2: x + w, y2: y + h))
                labels.append(1 + Int(rng.next() % UInt64(classes)))
            }
            var detections: [ScoredDetection] = []
            for d in 0..<100 {
                let label: Int, box: BoundingBox
                if d < boxes.count {
                    let b = boxes[d]
                    box = BoundingBox(x1: b.x1 + rng.uniform() * 6 - 3, y1: b.y1 + rng.uniform() * 6 - 3, x2: b.x2 + rng.uniform() * 6 - 3, y2: b.y2)
                    label = labels[d]
                } else {
                    let x = rng.uniform() * 500, y = rng.uniform() * 400
                    box = BoundingBox(x1: x, y1: y, x2: x + 10 + rng.uniform() * 100, y2: y + 10 + rng.uniform() * 100)
                    label = 1 + Int(rng.next() % UInt64(classes))
                }
                detections.append(ScoredDetection(box: box, label: label, score: rng.uniform()))
            }
            images.append(EvaluationImage(groundTruth: DetectionRecord(imageURL: URL(fileURLWithPath: "\(i).jpg"), width: 640, height: 520,
                                                                       boxes: boxes, labels: labels, imageId: i + 1),
                                          detections: detections))
        }
        let names = (1...classes).map { "c\($0)" }
        var clock = Date()
        _ = COCOEvaluator.evaluate(images, numClasses: classes, threads: .allCores)
        let cocoSeconds = Date().timeIntervalSince(clock)
        clock = Date()
        _ = VOC07Evaluator.evaluate(images, numClasses: classes)
        print(String(format: "COCOeval %.2f s, VOC07 %.2f s", cocoSeconds, Date().timeIntervalSince(clock)))
        let start = Date()
        let metrics = DetectionMetrics.evaluate(images, classes: names, threads: .allCores).metrics
        let seconds = Date().timeIntervalSince(start)
        print("COCOeval + VOC07 on 5000 images x 100 detections: \(String(format: "%.2f", seconds)) s, AP \(metrics.AP)")
        XCTAssertGreaterThan(metrics.AP50, 0.03)  // 93 random false positives per image
        XCTAssertLessThan(seconds, 30)
    }
}
