// nms and batchedNMS: kept indices identical to torchvision's.

import Foundation
import XCTest
import VisionDetection

final class OpsTestsNMS: XCTestCase {
    func testNMSMatchesTorchvision() throws {
        let fx = try DetOpsFixtures.load()
        let boxes = Boxes(coordinates: try fx.array("nms_boxes").values)
        let scores = try fx.array("nms_scores").values
        for threshold in fx.params["nms_thresholds"] as! [Double] {
            let expected = try fx.integers("nms_keep_\(threshold)")
            let keep = nms(boxes: boxes, scores: scores, iouThreshold: threshold)
            print("nms @\(threshold): kept \(keep.count) of \(boxes.count), torchvision \(expected.count)")
            XCTAssertEqual(keep, expected, "nms @\(threshold)")
            XCTAssertLessThan(keep.count, boxes.count)
        }
    }

    func testBatchedNMSBothPathsMatchTorchvision() throws {
        let fx = try DetOpsFixtures.load()
        // batched_trick: 3600 coordinates (offset path); batched_vanilla: 6000 (per-class path).
        for name in ["batched_trick", "batched_vanilla"] {
            let params = try fx.param(name)
            let boxes = Boxes(coordinates: try fx.array(name + "_boxes").values)
            let keep = batchedNMS(boxes: boxes, scores: try fx.array(name + "_scores").values,
                                  classes: try fx.integers(name + "_classes"),
                                  iouThreshold: params["threshold"] as! Double)
            let expected = try fx.integers(name + "_keep")
            print("\(name) (\(params["numel"]!) coordinates): kept \(keep.count) of \(boxes.count), torchvision \(expected.count)")
            XCTAssertEqual(keep, expected, name)
        }
    }

    func testClassesAreIndependentAndTiesKeepLowerIndex() {
        let boxes = Boxes(coordinates: [0, 0, 10, 10, 0, 0, 10, 10, 1, 1, 10, 10])
        XCTAssertEqual(batchedNMS(boxes: boxes, scores: [0.5, 0.9, 0.8], classes: [0, 1, 1], iouThreshold: 0.5), [1, 0])
        XCTAssertEqual(nms(boxes: boxes, scores: [0.7, 0.7, 0.7], iouThreshold: 0.5), [0])
        XCTAssertEqual(nms(boxes: Boxes(), scores: [], iouThreshold: 0.5), [])
        // IoU exactly 0.5 is not suppressed (strict >).
        let half = Boxes(coordinates: [0, 0, 2, 1, 0, 0, 1, 1])
        XCTAssertEqual(nms(boxes: half, scores: [0.9, 0.8], iouThreshold: 0.5), [0, 1])
        // Float IoU 1/3 (0.33333334) compared in Double: above the Double 1/3, not above 0.33333334.
        let third = Boxes(coordinates: [0, 0, 2, 1, 1, 0, 3, 1])
        XCTAssertEqual(nms(boxes: third, scores: [0.9, 0.8], iouThreshold: 1.0 / 3.0), [0])
        XCTAssertEqual(nms(boxes: third, scores: [0.9, 0.8], iouThreshold: Double(Float(1.0 / 3.0))), [0, 1])
    }

    func testManyBoxesAreFast() {
        // 5000 boxes, the size of the RPN's per-image candidate set.
        var rng = SystemRandomNumberGenerator()
        var coords: [Float] = []
        var scores: [Float] = []
        var classes: [Int] = []
        for i in 0..<5000 {
            let x = Float.random(in: 0..<1000, using: &rng), y = Float.random(in: 0..<800, using: &rng)
            coords += [x, y, x + Float.random(in: 8..<200, using: &rng), y + Float.random(in: 8..<200, using: &rng)]
            scores.append(Float(i) / 5000)
            classes.append(i % 5)
        }
        let boxes = Boxes(coordinates: coords)
        let start = Date()
        let keep = batchedNMS(boxes: boxes, scores: scores, classes: classes, iouThreshold: 0.7)
        let seconds = Date().timeIntervalSince(start)
        print("batchedNMS 5000 boxes: kept \(keep.count) in \(String(format: "%.1f", seconds * 1000)) ms")
        XCTAssertGreaterThan(keep.count, 0)
        XCTAssertLessThan(seconds, 2.0)

        let start1 = Date()
        let keep1 = nms(boxes: boxes, scores: scores, iouThreshold: 0.7)
        let seconds1 = Date().timeIntervalSince(start1)
        print("nms 5000 boxes, one class: kept \(keep1.count) in \(String(format: "%.1f", seconds1 * 1000)) ms")
        XCTAssertLessThan(keep1.count, keep.count)
        XCTAssertLessThan(seconds1, 2.0)
    }
}
