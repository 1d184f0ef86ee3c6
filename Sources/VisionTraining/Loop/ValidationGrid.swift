// The report's grid of validation images: the first images of the validation split
// with the latest weights' detections against the ground truth, at IoU 0.5 and the
// score threshold of best F1 over the whole split.

import Foundation
import VisionData
import VisionImaging

public struct ValidationGrid {
    /// Images shown (the first of the split, the same ones every epoch so they compare).
    public static let imageCount = 8
    public static let thumbnailSide = 340

    public var thumbnails: [(jpeg: Data, caption: String)]
    public var scoreThreshold: Double

    /// Thumbnails of the first `imageCount` images; an image that cannot be decoded again is left out.
    public init(images: [EvaluationImage], classes: [String]) {
        let review = DetectionReview(images, numClasses: classes.count)
        scoreThreshold = review.scoreThreshold
        thumbnails = []
        for (image, outcome) in zip(images, review.outcomes).prefix(Self.imageCount) {
            guard let picture = try? ImageDecoder.decode(contentsOf: image.groundTruth.imageURL) else { continue }
            let drawn = ReviewDrawing.draw(picture, maxSide: Self.thumbnailSide, evaluation: image, outcome: outcome, classes: classes)
            guard let jpeg = try? drawn.encodeJPEG(quality: 85) else { continue }
            let caption = "\(image.groundTruth.fileName): \(outcome.truePositives.count) found, \(outcome.missed.count) missed, "
                + "\(outcome.falsePositives.count) false positive\(outcome.falsePositives.count == 1 ? "" : "s")"
            thumbnails.append((jpeg, caption))
        }
    }
}
