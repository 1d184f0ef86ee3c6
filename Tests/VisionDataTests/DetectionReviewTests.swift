// The review behind the reports: best-F1 threshold, true/false positives and misses
// at IoU 0.5, the confusion matrix (class rows sum to the objects of the class), and
// the precision curves COCOeval averages into AP.

import Foundation
import XCTest
import VisionData

final class DetectionReviewTests: XCTestCase {
    func box(_ x: Double, _ y: Double, _ s: Double = 20) -> BoundingBox { BoundingBox(x1: x, y1: y, x2: x + s, y2: y + s) }

    /// Two images, classes 1 and 2: hits, a confused class, a low-scored hit, a false positive and a miss.
    func images() -> [EvaluationImage] {
        let a = DetectionRecord(imageURL: URL(fileURLWithPath: "a.jpg"), width: 200, height: 200,
                                boxes: [box(0, 0), box(50, 50), box(100, 100)], labels: [1, 1, 2])
        let b = DetectionRecord(imageURL: URL(fileURLWithPath: "b.jpg"), width: 200, height: 200,
                                boxes: [box(10, 10), box(150, 150)], labels: [2, 1])
        return [
            EvaluationImage(groundTruth: a, detections: [
                ScoredDetection(box: box(0, 0), label: 1, score: 0.9),        // hit
                ScoredDetection(box: box(51, 51), label: 1, score: 0.8),      // hit
                ScoredDetection(box: box(100, 100), label: 1, score: 0.7),    // class 2 object called class 1
                ScoredDetection(box: box(170, 0), label: 2, score: 0.2),      // false positive, low score
            ]),
            EvaluationImage(groundTruth: b, detections: [
                ScoredDetection(box: box(10, 10), label: 2, score: 0.95),     // hit
                ScoredDetection(box: box(150, 150), label: 1, score: 0.1),    // hit with a low score
            ]),
        ]
    }

    func testBestF1ThresholdOutcomesAndConfusion() {
        let review = DetectionReview(images(), numClasses: 2)
        // By score: .95 TP, .9 TP, .8 TP, .7 FP, .2 FP, .1 TP; 5 objects.
        // F1 at .8 = 6/(3+5) = 0.75; at .1 = 8/(6+5) = 0.727.
        XCTAssertEqual(review.scoreThreshold, 0.8)
        XCTAssertEqual(review.bestF1, 0.75, accuracy: 1e-12)
        XCTAssertEqual(review.outcomes[0].truePositives, [0, 1])
        XCTAssertEqual(review.outcomes[0].falsePositives, [])
        XCTAssertEqual(review.outcomes[0].missed, [2])
        XCTAssertEqual(review.outcomes[1].truePositives, [0])
        XCTAssertEqual(review.outcomes[1].missed, [1], "the hit scored 0.1 is below the threshold")
        XCTAssertEqual(review.groundTruthCounts, [3, 2])
        // Rows: true 1, true 2, background; columns: predicted 1, predicted 2, background.
        XCTAssertEqual(review.confusion, [[2, 0, 1], [0, 1, 1], [0, 0, 0]])
        for k in 0..<2 { XCTAssertEqual(review.confusion[k].reduce(0, +), review.groundTruthCounts[k]) }
    }

    func testConfusionCountsAConfusedClassAndBackground() {
        // Kept at 0: the 0.7 detection is a class-1 call on a class-2 object.
        var all = images()
        all[0].detections[3].score = 0.99  // the false positive now ranks first and is kept
        let review = DetectionReview(all, numClasses: 2)
        XCTAssertLessThanOrEqual(review.scoreThreshold, 0.7)
        XCTAssertEqual(review.confusion[1][0], 1, "class 2 object predicted as class 1")
        XCTAssertEqual(review.confusion[2][1], 1, "a class-2 detection on background")
        XCTAssertEqual(review.outcomes[0].falsePositives.sorted(), [2, 3])
        for k in 0..<2 { XCTAssertEqual(review.confusion[k].reduce(0, +), review.groundTruthCounts[k]) }
    }

    func testPrecisionCurveMeanIsTheClassAP50() {
        let all = images()
        let coco = COCOEvaluator.evaluate(all, numClasses: 2, threads: .allCores)
        for k in 0..<2 {
            let curve = try! XCTUnwrap(coco.precisionCurve(classIndex: k, iouIndex: 0))
            XCTAssertEqual(curve.count, 101)
            XCTAssertEqual(curve.reduce(0, +) / 101, coco.classAP50(k), accuracy: 1e-12)
        }
        XCTAssertEqual(coco.iouIndex(0.75), 5)
        XCTAssertNil(COCOEvaluator.evaluate(all, numClasses: 3, threads: .allCores).precisionCurve(classIndex: 2, iouIndex: 0), "no objects of class 3")
    }
}
