// Detection split in two stages so a batch runner can overlap them: `prepare`
// (normalise + resize, pure CPU work on one image, safe on any thread) and
// `detect(prepared:)` (backbone, RPN, RoI heads), which runs on the caller's thread.
// `DetectionModel.detect(_:)` is exactly `detect(prepared: images.map(inputTransform.prepare))`.

import VisionCore
import VisionImaging

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
}
