// Detection split in two stages so a batch runner can overlap them: `prepare`
// (normalise + resize, pure CPU work on one image, safe on any thread) and
// `detect(prepared:)` (backbone, RPN, RoI heads), which runs on the caller's thread.
// `FasterRCNN.detect(_:)` is exactly `detect(prepared: images.map(transform.prepare))`.

import VisionCore
import VisionImaging

extension FasterRCNN {
    /// The model's input transform (torchvision's GeneralizedRCNNTransform at inference).
    public var inputTransform: DetectionTransform { transform }

    /// Runs the network on images already passed through `inputTransform.prepare`.
    /// Boxes are returned in each image's original pixels.
    public func detect(prepared: [DetectionTransform.Prepared]) -> [Detections] {
        let batch = transform.batch(prepared)
        let imageSizes = prepared.map { $0.resizedSize }
        let paddedSize = (height: batch.shape[2], width: batch.shape[3])

        let features = backbone.fpn(backbone.bodyFeatures(batch))
        let proposals = rpn(features, paddedSize: paddedSize, imageSizes: imageSizes)
        // RoIAlign never pools from "pool" (the last FPN level).
        let pooled = pooler(features: Array(features.dropLast()), boxes: proposals, imageSizes: imageSizes)
        let (scores, deltas) = roiHeads.predict(pooled, backend: backend)

        var results: [Detections] = []
        var row = 0
        for (i, p) in prepared.enumerated() {
            var detections = roiHeads.postprocess(scores: scores, deltas: deltas, proposals: proposals[i],
                                                  rowOffset: row, imageSize: imageSizes[i])
            row += proposals[i].count
            transform.mapToOriginal(&detections.boxes, resized: p.resizedSize, original: p.originalSize)
            results.append(detections)
        }
        return results
    }
}

extension Detector {
    /// Normalises and resizes one decoded image for `detect(prepared:)`.
    /// Touches no model state: call it on a worker thread while the model runs.
    public func prepare(_ image: RGBImage) -> DetectionTransform.Prepared {
        model.inputTransform.prepare(image.toTensor())
    }

    /// Objects in one prepared image: prob >= minProb, at most maxDetections,
    /// sorted by prob descending, boxes in original-image pixels.
    public func detect(prepared: DetectionTransform.Prepared, minProb: Float = 0.5, maxDetections: Int = 100,
                       keepClass: (Int) -> Bool = { _ in true }) -> [DetectedObject] {
        objects(from: model.detect(prepared: [prepared])[0], minProb: minProb, maxDetections: maxDetections,
                keepClass: keepClass)
    }

    /// Class names (index 0 the background) a checkpoint's metadata and class count
    /// imply: `vision.classes` metadata, else COCO's for 91 classes, else `class_<i>`.
    public static func classNames(metadata: [String: String], numClasses: Int, source: String) throws -> [String] {
        try labels(metadata: metadata, numClasses: numClasses, source: source)
    }
}
