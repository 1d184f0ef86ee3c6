// The training-time augmentation of one image, in references/detection's order:
// photometric distortion, random IoU crop, horizontal flip, then the model's resize to a
// shorter side drawn from `shorterSides` (multi-scale training: torchvision's
// GeneralizedRCNNTransform draws one of its min_size values per image in training).
// Boxes follow every geometric step exactly (crop: shift and clamp; flip: x -> W - x;
// resize: the (new / old) ratios of TrainingBatch).

import Foundation
import VisionCore
import VisionDetection

public struct SampleAugmentation: Sendable {
    public var photometric: PhotometricDistort?
    public var iouCrop: RandomIoUCrop?
    /// Shorter sides to draw from (empty: the model's own minSize).
    public var shorterSides: [Int]

    public init(photometric: PhotometricDistort?, iouCrop: RandomIoUCrop?, shorterSides: [Int]) {
        self.photometric = photometric
        self.iouCrop = iouCrop
        self.shorterSides = shorterSides
    }

    /// The augmentations `options` ask for (flips are drawn by the step, see StepPreparation).
    public init(options: TrainingOptions) {
        let p = options.photometricProbability ?? 0, permute = options.channelPermutationProbability ?? 0
        photometric = p > 0 || permute > 0 ? PhotometricDistort(probability: p, channelPermutationProbability: permute) : nil
        iouCrop = options.iouCrop == true ? RandomIoUCrop() : nil
        shorterSides = options.multiScaleSizes ?? []
    }

    /// `sample` augmented with draws from `rng` (the image's own generator); the shorter
    /// side to resize it to (nil: the model's).
    public func apply(_ sample: TrainingSample, flip: Bool, rng: inout TrainingRNG) -> (sample: TrainingSample, shorterSide: Int?) {
        var s = sample
        if let photometric {
            let parameters = photometric.draw(&rng)
            s = TrainingSample(image: PhotometricDistort.apply(parameters, to: s.image), boxes: s.boxes, labels: s.labels)
        }
        if let iouCrop, let crop = iouCrop.draw(width: s.image.shape[2], height: s.image.shape[1], boxes: s.boxes, &rng) {
            s = RandomIoUCrop.apply(crop, to: s)
        }
        if flip { s = s.flippedHorizontally() }
        let side = shorterSides.isEmpty ? nil : shorterSides[Int(rng.next() % UInt64(shorterSides.count))]
        return (s, side)
    }
}

extension TrainingBatch {
    /// The batch of `samples`, each resized by its own transform (multi-scale training);
    /// boxes scaled by each image's (resized / original) ratios in Float32, as `init(samples:transform:)`.
    public init(samples: [TrainingSample], transforms: [DetectionTransform]) {
        precondition(samples.count == transforms.count && !transforms.isEmpty, "TrainingBatch: one transform per sample")
        let prepared = zip(samples, transforms).map { $1.prepare($0.image) }
        images = transforms[0].batch(prepared)
        imageSizes = prepared.map(\.resizedSize)
        boxes = zip(samples, prepared).map { sample, p in
            Self.scaled(sample.boxes, from: p.originalSize, to: p.resizedSize)
        }
        labels = samples.map(\.labels)
    }

    static func scaled(_ boxes: Boxes, from original: (height: Int, width: Int), to resized: (height: Int, width: Int)) -> Boxes {
        let rh = Float(resized.height) / Float(original.height)
        let rw = Float(resized.width) / Float(original.width)
        var b = boxes
        for i in 0..<b.count {
            b.coordinates[i * 4] *= rw; b.coordinates[i * 4 + 1] *= rh
            b.coordinates[i * 4 + 2] *= rw; b.coordinates[i * 4 + 3] *= rh
        }
        return b
    }
}
