// Validation at the end of an epoch: the current weights as an inference model
// (the same code `vision predict` and `vision eval` run), every image of the
// validation split detected with up to 100 detections at any score, scored by the
// COCO evaluator.

import Foundation
import VisionCore
import VisionData
import VisionDetection
import VisionImaging

public struct Validation {
    public let records: [DetectionRecord]
    /// The dataset's class names (without the background); labels are 1-based indices into it.
    public let classes: [String]
    public let splitName: String

    public init(records: [DetectionRecord], classes: [String], splitName: String) {
        self.records = records
        self.classes = classes
        self.splitName = splitName
    }

    /// Scores `model`'s current weights on up to `threads.count` threads; model class i is dataset label i.
    public func evaluate(_ model: any TrainableDetectionModel, threads: KernelThreads) throws -> DetectionMetrics {
        try evaluateKeepingDetections(model, threads: threads).metrics
    }

    /// The scores, and every image's ground truth with its detections (for the report's image grid).
    public func evaluateKeepingDetections(_ model: any TrainableDetectionModel,
                                          threads: KernelThreads) throws -> (metrics: DetectionMetrics, images: [EvaluationImage]) {
        // The model's own score threshold, as `vision eval` and torchvision's evaluation use it.
        let detector = try TrainableDetectionModels.inferenceModel(of: model, source: "validation",
                                                                   backend: CPUBackend(threads: threads))
        var images: [EvaluationImage] = []
        for record in records {
            let tensor = try ImageDecoder.decode(contentsOf: record.imageURL).toTensor()
            let found = detector.detect([tensor])[0]
            var detections: [ScoredDetection] = []
            for i in 0..<found.count {
                let b = found.boxes[i]
                detections.append(ScoredDetection(box: BoundingBox(x1: Double(b.x1), y1: Double(b.y1), x2: Double(b.x2), y2: Double(b.y2)),
                                                  label: found.labels[i], score: Double(found.scores[i])))
            }
            images.append(EvaluationImage(groundTruth: record, detections: detections))
        }
        return (DetectionMetrics.evaluate(images, classes: classes, threads: threads).metrics, images)
    }
}
