import Foundation
import VisionData
import XCTest

/// Scores Tests/Fixtures/eval/predictions.jsonl against gt.json and compares every
/// number with pycocotools' COCOeval and the VOC07 reference of generate_eval.py.
final class COCOEvalParityTests: XCTestCase {
    struct Expected: Decodable {
        var stats: [Double]
        var per_class_AP50: [String: Double]
        var recall: [Double]
        var precision_mean_over_recall: [Double]
        var VOC07_mAP: Double
        var VOC07_per_class: [String: Double]
        var iouThrs: [Double]
        var recThrs: [Double]
        var num_images: Int, num_gt: Int, num_detections: Int
    }

    /// suffix "" is the crowd-free fixture, "_crowd" the one with iscrowd GT.
    /// "_border" has boxes past the image border and zero-area boxes: read as written
    /// (`.asGiven`, what eval does), they are problems but every one is scored.
    func load(_ suffix: String = "", boxes: BoxPolicy = .asGiven) throws -> (Expected, DetectionDataset, MatchedPredictions) {
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: Fixtures.eval("expected\(suffix).json")))
        // The fixture has no pixels: scoring saved predictions does not need them.
        let dataset = try DetectionDataset.load(from: Fixtures.eval("gt\(suffix).json"), requireImages: false, boxes: boxes)
        if suffix != "_border" { XCTAssertTrue(dataset.problems.isEmpty, "\(dataset.problems)") }
        let lines = try PredictionFile.read(Fixtures.eval("predictions\(suffix).jsonl"))
        let matched = PredictionFile.match(lines, records: try dataset.records(split: "gt\(suffix)"), classes: dataset.classes)
        XCTAssertEqual(matched.images.count, expected.num_images)
        XCTAssertEqual(matched.images.reduce(0) { $0 + $1.groundTruth.boxes.count }, expected.num_gt)
        XCTAssertEqual(matched.images.reduce(0) { $0 + $1.detections.count }, expected.num_detections)
        XCTAssertTrue(matched.unmatchedFiles.isEmpty && matched.unknownLabels.isEmpty)
        return (expected, dataset, matched)
    }

    func testThresholdsMatchNumpy() throws {
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: Fixtures.eval("expected.json")))
        let p = COCOParameters()
        XCTAssertEqual(p.iouThresholds, expected.iouThrs)  // bit-exact, e.g. 0.8999999999999999
        XCTAssertEqual(p.recallThresholds, expected.recThrs)
    }

    func testMatchesPycocotools() throws {
        try compareWithPycocotools("")
    }

    func testMatchesPycocotoolsWithCrowds() throws {
        let (_, dataset, _) = try load("_crowd")
        let crowd = try dataset.records(split: "gt_crowd").reduce(0) { $0 + $1.isCrowd.filter { $0 }.count }
        XCTAssertEqual(crowd, 8)
        try compareWithPycocotools("_crowd")
    }

    /// Ground truth as annotation tools leave it: 33 of 127 boxes pass a border (some
    /// within the readers' clipping tolerance, some beyond) and 10 have zero area.
    /// Evaluation counts each as pycocotools does; the training reading would not.
    func testMatchesPycocotoolsWithBoxesPastTheBorderAndWithoutArea() throws {
        let (_, asGiven, _) = try load("_border")
        let kinds = Dictionary(grouping: asGiven.problems, by: \.kind).mapValues(\.count)
        print("_border problems, scored as written: \(kinds)")
        XCTAssertEqual(kinds[.zeroAreaBox], 10)
        XCTAssertEqual((kinds[.boxClipped] ?? 0) + (kinds[.boxOutOfBounds] ?? 0), 33)
        XCTAssertGreaterThan(kinds[.boxOutOfBounds] ?? 0, 0)
        try compareWithPycocotools("_border")

        // The training reading clips or drops those boxes, and then cannot agree.
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: Fixtures.eval("expected_border.json")))
        let fitted = try DetectionDataset.load(from: Fixtures.eval("gt_border.json"), requireImages: false, boxes: .fitToImage)
        let lines = try PredictionFile.read(Fixtures.eval("predictions_border.jsonl"))
        let matched = PredictionFile.match(lines, records: try fitted.records(split: "gt_border"), classes: fitted.classes)
        let kept = matched.images.reduce(0) { $0 + $1.groundTruth.boxes.count }
        XCTAssertEqual(kept, expected.num_gt - kinds[.zeroAreaBox]! - kinds[.boxOutOfBounds]!, "clipped boxes are kept, the rest dropped")
        let ap50 = DetectionMetrics.evaluate(matched.images, classes: fitted.classes, threads: .allCores).metrics.AP50
        print("_border AP50: training reading \(ap50), pycocotools \(expected.stats[1])")
        XCTAssertGreaterThan(abs(ap50 - expected.stats[1]), 1e-3)
    }

    func compareWithPycocotools(_ suffix: String) throws {
        let (expected, dataset, matched) = try load(suffix)
        let (metrics, coco) = DetectionMetrics.evaluate(matched.images, classes: dataset.classes, threads: .allCores)
        print("fixture expected\(suffix).json:")

        let statsDiff = zip(coco.stats, expected.stats).map { abs($0 - $1) }.max()!
        print("COCOeval stats max |diff| = \(statsDiff)")
        print("swift stats:  \(coco.stats)")
        print("pycocotools:  \(expected.stats)")
        XCTAssertEqual(coco.stats.count, 12)
        XCTAssertLessThan(statsDiff, 1e-4)

        let recallDiff = zip(coco.recall, expected.recall).map { abs($0 - $1) }.max()!
        XCTAssertEqual(coco.recall.count, expected.recall.count)
        print("recall [T x K x A x M] max |diff| = \(recallDiff)")
        XCTAssertLessThan(recallDiff, 1e-9)

        let p = coco.parameters
        let (T, R, K, A, M) = (p.iouThresholds.count, p.recallThresholds.count, dataset.classes.count, p.areaRanges.count, p.maxDetections.count)
        var meanDiff = 0.0
        for t in 0..<T { for k in 0..<K { for a in 0..<A { for m in 0..<M {
            let values = (0..<R).map { coco.precision(t: t, r: $0, k: k, a: a, m: m) }
            let mean = values.allSatisfy { $0 > -1 } ? values.reduce(0, +) / Double(R) : -1
            meanDiff = max(meanDiff, abs(mean - expected.precision_mean_over_recall[((t * K + k) * A + a) * M + m]))
        } } } }
        print("precision (mean over recall thresholds) [T x K x A x M] max |diff| = \(meanDiff)")
        XCTAssertLessThan(meanDiff, 1e-9)

        let named = [metrics.AP, metrics.AP50, metrics.AP75, metrics.APs, metrics.APm, metrics.APl,
                     metrics.AR1, metrics.AR10, metrics.AR100]
        XCTAssertEqual(named, Array(coco.stats.prefix(9)))
        var classDiff = 0.0
        for (name, value) in expected.per_class_AP50 {
            classDiff = max(classDiff, abs((metrics.perClassAP50[name] ?? .nan) - value))
        }
        print("per_class_AP50 max |diff| = \(classDiff)  \(metrics.perClassAP50)")
        XCTAssertEqual(Set(metrics.perClassAP50.keys), Set(expected.per_class_AP50.keys))
        XCTAssertLessThan(classDiff, 1e-4)
        XCTAssertEqual(metrics.perClassAP50["horse"], -1)  // detections but no GT
        XCTAssertEqual(metrics.perClassAP50["fish"], 0)  // GT but no detections

        let vocDiff = abs(metrics.VOC07_mAP - expected.VOC07_mAP)
        print("VOC07 mAP swift \(metrics.VOC07_mAP) reference \(expected.VOC07_mAP) |diff| = \(vocDiff)")
        XCTAssertLessThan(vocDiff, 1e-4)
        let voc = VOC07Evaluator.evaluate(matched.images, numClasses: K)
        for (k, name) in dataset.classes.enumerated() {
            if let value = expected.VOC07_per_class[name] {
                XCTAssertEqual(voc.perClass[k] ?? .nan, value, accuracy: 1e-9, name)
            } else {
                XCTAssertNil(voc.perClass[k], name)
            }
        }
    }

    func testMetricsJSONKeys() throws {
        let (_, dataset, matched) = try load()
        let metrics = DetectionMetrics.evaluate(matched.images, classes: dataset.classes, threads: .allCores).metrics
        let json = try JSONSerialization.jsonObject(with: metrics.jsonData()) as! [String: Any]
        XCTAssertEqual(Set(json.keys), ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100",
                                        "per_class_AP50", "VOC07_mAP"])
        XCTAssertEqual(try JSONDecoder().decode(DetectionMetrics.self, from: metrics.jsonData()), metrics)
        XCTAssertTrue(metrics.table(classes: dataset.classes).contains("horse"))
    }

    /// Perfect detections score 1 everywhere; shifting every box by half its width scores 0 at IoU >= 0.5.
    func testPerfectAndMissedDetections() throws {
        let (_, dataset, matched) = try load()
        let perfect = matched.images.map { image in
            EvaluationImage(groundTruth: image.groundTruth, detections: zip(image.groundTruth.boxes, image.groundTruth.labels).map {
                ScoredDetection(box: $0.0, label: $0.1, score: 0.9)
            })
        }
        let stats = COCOEvaluator.evaluate(perfect, numClasses: dataset.classes.count, threads: .allCores).stats
        XCTAssertEqual(stats[0], 1, accuracy: 1e-12)
        XCTAssertEqual(stats[8], 1, accuracy: 1e-12)
        XCTAssertEqual(VOC07Evaluator.evaluate(perfect, numClasses: dataset.classes.count).mAP, 1, accuracy: 1e-12)
    }

    func testCrowdAndIgnoredGroundTruth() {
        // One image: a regular GT and a crowd GT of the same class. A detection inside
        // the crowd region is ignored (neither TP nor FP), so AP stays 1.
        var record = DetectionRecord(imageURL: URL(fileURLWithPath: "x.jpg"), width: 200, height: 200)
        record = DetectionRecord(imageURL: record.imageURL, width: 200, height: 200,
                                 boxes: [BoundingBox(x1: 0, y1: 0, x2: 50, y2: 50), BoundingBox(x1: 100, y1: 100, x2: 200, y2: 200)],
                                 labels: [1, 1], isCrowd: [false, true])
        let detections = [ScoredDetection(box: BoundingBox(x1: 0, y1: 0, x2: 50, y2: 50), label: 1, score: 0.5),
                          ScoredDetection(box: BoundingBox(x1: 110, y1: 110, x2: 150, y2: 150), label: 1, score: 0.9),
                          ScoredDetection(box: BoundingBox(x1: 120, y1: 120, x2: 160, y2: 160), label: 1, score: 0.8)]
        let e = COCOEvaluator.evaluate([EvaluationImage(groundTruth: record, detections: detections)], numClasses: 1, threads: .allCores)
        XCTAssertEqual(e.stats[0], 1, accuracy: 1e-12)
        XCTAssertEqual(e.stats[8], 1, accuracy: 1e-12)
    }
}
