// The input of the evaluators: per image, its ground truth and its detections.

import Foundation

/// One detection to score: a box in image pixels (x1, y1, x2, y2), a 1-based
/// dataset label and a confidence.
public struct ScoredDetection: Hashable, Sendable {
    public var box: BoundingBox
    public var label: Int
    public var score: Double

    public init(box: BoundingBox, label: Int, score: Double) {
        self.box = box
        self.label = label
        self.score = score
    }
}

/// Ground truth and detections of one image. Images are evaluated in the order
/// given; pycocotools orders them by ascending image id, which breaks score ties
/// between images, so give them in that order to reproduce it exactly.
public struct EvaluationImage: Sendable {
    public var groundTruth: DetectionRecord
    /// In the order produced; ties in score keep this order (a stable sort).
    public var detections: [ScoredDetection]

    public init(groundTruth: DetectionRecord, detections: [ScoredDetection]) {
        self.groundTruth = groundTruth
        self.detections = detections
    }
}

/// COCOeval's bbox settings (pycocotools `Params.setDetParams`).
public struct COCOParameters: Sendable {
    /// np.linspace(.5, .95, 10): start + i * step, the last set to exactly .95.
    public var iouThresholds: [Double] = COCOParameters.linspace(0.5, 0.95, count: 10)
    /// np.linspace(0, 1, 101).
    public var recallThresholds: [Double] = COCOParameters.linspace(0.0, 1.0, count: 101)
    /// all, small, medium, large as [lo, hi] on the GT `area` (detections: w * h).
    public var areaRanges: [(lo: Double, hi: Double)] = [(0, 1e10), (0, 1024), (1024, 9216), (9216, 1e10)]
    public var maxDetections: [Int] = [1, 10, 100]

    public init() {}

    /// numpy.linspace with endpoint=True, computed as numpy does so that
    /// threshold comparisons agree bit for bit.
    public static func linspace(_ start: Double, _ stop: Double, count: Int) -> [Double] {
        let step = (stop - start) / Double(count - 1)
        var values = (0..<count).map { Double($0) * step + start }
        values[count - 1] = stop
        return values
    }
}
