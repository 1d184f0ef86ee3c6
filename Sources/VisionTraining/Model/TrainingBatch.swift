// The training side of GeneralizedRCNNTransform: each image (optionally flipped
// horizontally first, as references/detection's RandomHorizontalFlip does on the
// dataset side) is normalised and resized by the inference rule; its boxes are scaled
// by (new / old) size ratios in Float32 as torchvision's resize_boxes; the images are
// zero-padded into one batch.

import VisionCore
import VisionDetection

/// One image with its ground truth, before the transform.
public struct TrainingSample: Sendable {
    /// [3, H, W] in [0, 1].
    public var image: Tensor
    /// Ground-truth boxes in image pixels (x1, y1, x2, y2).
    public var boxes: Boxes
    /// Class per box, >= 1 (0 is the background).
    public var labels: [Int]

    public init(image: Tensor, boxes: Boxes, labels: [Int]) {
        precondition(boxes.count == labels.count, "TrainingSample: \(boxes.count) boxes, \(labels.count) labels")
        self.image = image
        self.boxes = boxes
        self.labels = labels
    }

    /// Mirrors image and boxes left-right: x -> W - x.
    public func flippedHorizontally() -> TrainingSample {
        let c = image.shape[0], h = image.shape[1], w = image.shape[2]
        let out = Tensor(uninitializedShape: image.shape)
        let src = image.storage.pointer, dst = out.storage.pointer
        for row in 0..<(c * h) {
            let base = row &* w
            for x in 0..<w { dst[base &+ x] = src[base &+ (w &- 1 &- x)] }
        }
        var flipped = boxes
        let width = Float(w)
        for i in 0..<boxes.count {
            let b = boxes[i]
            flipped.coordinates[i * 4] = width - b.x2
            flipped.coordinates[i * 4 + 2] = width - b.x1
        }
        return TrainingSample(image: out, boxes: flipped, labels: labels)
    }
}

/// A transformed batch: what the model's training forward takes.
public struct TrainingBatch: Sendable {
    /// [N, 3, H, W], zero-padded to a multiple of sizeDivisible.
    public var images: Tensor
    /// Each image's resized (unpadded) size.
    public var imageSizes: [(height: Int, width: Int)]
    /// Ground truth in resized-image pixels.
    public var boxes: [Boxes]
    public var labels: [[Int]]

    public init(samples: [TrainingSample], transform: DetectionTransform) {
        let prepared = samples.map { transform.prepare($0.image) }
        images = transform.batch(prepared)
        imageSizes = prepared.map(\.resizedSize)
        boxes = zip(samples, prepared).map { sample, p in
            let rh = Float(p.resizedSize.height) / Float(p.originalSize.height)
            let rw = Float(p.resizedSize.width) / Float(p.originalSize.width)
            var b = sample.boxes
            for i in 0..<b.count {
                b.coordinates[i * 4] *= rw; b.coordinates[i * 4 + 1] *= rh
                b.coordinates[i * 4 + 2] *= rw; b.coordinates[i * 4 + 3] *= rh
            }
            return b
        }
        labels = samples.map(\.labels)
    }
}
