// The metrics `vision eval` reports: COCO AP/AR, per-class AP50 and VOC07 mAP.

import Foundation
import VisionCore

/// Summary metrics. JSON keys: AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100,
/// per_class_AP50, VOC07_mAP. A value of -1 means undefined (no GT in that
/// area range / for that class), as in pycocotools.
public struct DetectionMetrics: Codable, Equatable, Sendable {
    public var AP: Double
    public var AP50: Double
    public var AP75: Double
    public var APs: Double
    public var APm: Double
    public var APl: Double
    public var AR1: Double
    public var AR10: Double
    public var AR100: Double
    /// AP at IoU 0.5 by class name (pycocotools precision[0, :, k, 0, 2] averaged).
    public var perClassAP50: [String: Double]
    public var VOC07_mAP: Double

    enum CodingKeys: String, CodingKey {
        case AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100
        case perClassAP50 = "per_class_AP50"
        case VOC07_mAP
    }

    /// Runs COCOeval (on up to `threads.count` threads) and the VOC07 evaluator over `images`.
    public static func evaluate(_ images: [EvaluationImage], classes: [String],
                                threads: KernelThreads) -> (metrics: DetectionMetrics, coco: COCOEvaluation) {
        let coco = COCOEvaluator.evaluate(images, numClasses: classes.count, threads: threads)
        let voc = VOC07Evaluator.evaluate(images, numClasses: classes.count)
        var perClass: [String: Double] = [:]
        for (k, name) in classes.enumerated() { perClass[name] = coco.classAP50(k) }
        let s = coco.stats
        let metrics = DetectionMetrics(AP: s[0], AP50: s[1], AP75: s[2], APs: s[3], APm: s[4], APl: s[5],
                                       AR1: s[6], AR10: s[7], AR100: s[8], perClassAP50: perClass, VOC07_mAP: voc.mAP)
        return (metrics, coco)
    }

    /// Pretty-printed JSON with sorted keys.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// A plain-text table: the summary rows, then AP50 per class in `classes` order.
    public func table(classes: [String]) -> String {
        func f(_ v: Double) -> String { v < 0 ? "   n/a" : String(format: "%6.4f", v) }
        let rows: [(String, Double)] = [
            ("AP    @[IoU=0.50:0.95 | area=   all | maxDets=100]", AP),
            ("AP50  @[IoU=0.50      | area=   all | maxDets=100]", AP50),
            ("AP75  @[IoU=0.75      | area=   all | maxDets=100]", AP75),
            ("APs   @[IoU=0.50:0.95 | area= small | maxDets=100]", APs),
            ("APm   @[IoU=0.50:0.95 | area=medium | maxDets=100]", APm),
            ("APl   @[IoU=0.50:0.95 | area= large | maxDets=100]", APl),
            ("AR1   @[IoU=0.50:0.95 | area=   all | maxDets=  1]", AR1),
            ("AR10  @[IoU=0.50:0.95 | area=   all | maxDets= 10]", AR10),
            ("AR100 @[IoU=0.50:0.95 | area=   all | maxDets=100]", AR100),
            ("VOC07 mAP (11-point, IoU>0.5)", VOC07_mAP),
        ]
        var lines = rows.map { "\($0.0.padding(toLength: 52, withPad: " ", startingAt: 0)) \(f($0.1))" }
        let width = max(5, classes.map(\.count).max() ?? 0)
        lines.append("")
        lines.append("\("class".padding(toLength: width, withPad: " ", startingAt: 0))   AP50")
        for name in classes {
            lines.append("\(name.padding(toLength: width, withPad: " ", startingAt: 0)) \(f(perClassAP50[name] ?? -1))")
        }
        return lines.joined(separator: "\n")
    }
}
