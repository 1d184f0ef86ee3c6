// Everything a training step reads, as a pure function of its position (epoch, step, global step): the epoch's
// data order (TrainingRNG(seed, stream 1, epoch)), each image decoded and augmented, the
// batch resized, normalised and padded. Flips are drawn from the step's generator
// (TrainingRNG(seed, stream 2, step)) in batch order, as before augmentations existed,
// and the generator goes on to the model's samplers; every other augmentation draws from
// the image's own generator, seeded from TrainingRNG(seed, stream 3, step) in batch order,
// so an image that cannot be decoded changes nothing for the others. Because nothing
// depends on when or on which thread it runs, the background loader's timing never
// changes a run, and a resumed run replays exactly the same batches.

import Foundation
import VisionCore
import VisionData
import VisionDetection
import VisionImaging

/// Where a step is in its run (a resumed run's dataset may have changed size, so the
/// global step is not always epoch x steps per epoch + step).
public struct StepPosition: Sendable, Equatable {
    public var epoch: Int, step: Int, globalStep: Int

    public init(epoch: Int, step: Int, globalStep: Int) {
        (self.epoch, self.step, self.globalStep) = (epoch, step, globalStep)
    }
}

/// One step's inputs.
public struct PreparedStep: @unchecked Sendable {
    public var position: StepPosition
    /// Nil when no image of the batch could be decoded.
    public var batch: TrainingBatch?
    /// The step's generator after the flips: the model's samplers draw from it.
    public var rng: TrainingRNG
    public var imageCount: Int
    /// Images that could not be decoded, with the reason.
    public var undecodable: [(url: URL, reason: String)]
}

public struct StepPreparation: @unchecked Sendable {
    public let records: [DetectionRecord]
    public let options: TrainingOptions
    public let config: ModelConfig
    /// The model's own transform (used as it is when no multi-scale sizes are set).
    public let transform: DetectionTransform
    public let augmentation: SampleAugmentation

    public init(records: [DetectionRecord], options: TrainingOptions, config: ModelConfig, transform: DetectionTransform) {
        self.records = records
        self.options = options
        self.config = config
        self.transform = transform
        augmentation = SampleAugmentation(options: options)
    }

    public var iterationsPerEpoch: Int { (records.count + options.batchSize - 1) / options.batchSize }

    /// The record indices of `step` of `epoch`.
    public func indices(epoch: Int, step: Int) -> ArraySlice<Int> {
        var order = TrainingRNG(seed: options.seed, stream: 1, index: UInt64(epoch))
        let permutation = order.permutation(records.count)
        return permutation[(step * options.batchSize)..<min(records.count, (step + 1) * options.batchSize)]
    }

    /// The steps from `epoch`/`step` (global step `globalStep`) to the end of `epochs`, in order.
    public func positions(epoch: Int, step: Int, globalStep: Int, epochs: Int) -> [StepPosition] {
        var out: [StepPosition] = [], e = epoch, s = step, g = globalStep
        while e < epochs {
            out.append(StepPosition(epoch: e, step: s, globalStep: g))
            g += 1; s += 1
            if s == iterationsPerEpoch { e += 1; s = 0 }
        }
        return out
    }

    public func prepare(_ position: StepPosition) -> PreparedStep {
        let epoch = position.epoch, step = position.step, globalStep = position.globalStep
        var rng = TrainingRNG(seed: options.seed, stream: 2, index: UInt64(globalStep))
        var imageSeeds = TrainingRNG(seed: options.seed, stream: 3, index: UInt64(globalStep))
        var samples: [TrainingSample] = [], transforms: [DetectionTransform] = []
        var undecodable: [(url: URL, reason: String)] = []
        let chosen = indices(epoch: epoch, step: step)
        for index in chosen {
            let flip = rng.uniform() < options.horizontalFlipProbability
            var imageRNG = TrainingRNG(seed: imageSeeds.next())
            do {
                let (sample, side) = augmentation.apply(try Self.decode(records[index]), flip: flip, rng: &imageRNG)
                samples.append(sample)
                transforms.append(side.map { transform(shorterSide: $0) } ?? transform)
            } catch {
                undecodable.append((records[index].imageURL, "\(error)"))
            }
        }
        let batch = samples.isEmpty ? nil
            : augmentation.shorterSides.isEmpty ? TrainingBatch(samples: samples, transform: transform)
            : TrainingBatch(samples: samples, transforms: transforms)
        return PreparedStep(position: position, batch: batch, rng: rng, imageCount: chosen.count, undecodable: undecodable)
    }

    /// Sample `index` of a preview of the augmentations (`vision dataset inspect --augment`):
    /// `record` flipped and augmented with the draws step `index`'s first image would get,
    /// resized as the model sees it, back in [0, 1]. Returns the image [3, h, w] and its boxes.
    public func preview(_ record: DetectionRecord, index: Int) throws -> (image: Tensor, boxes: Boxes, labels: [Int]) {
        var rng = TrainingRNG(seed: options.seed, stream: 2, index: UInt64(index))
        var imageSeeds = TrainingRNG(seed: options.seed, stream: 3, index: UInt64(index))
        var imageRNG = TrainingRNG(seed: imageSeeds.next())
        let flip = rng.uniform() < options.horizontalFlipProbability
        let (sample, side) = augmentation.apply(try Self.decode(record), flip: flip, rng: &imageRNG)
        let batch = TrainingBatch(samples: [sample], transforms: [side.map { transform(shorterSide: $0) } ?? transform])
        let (h, w) = batch.imageSizes[0]
        let W = batch.images.shape[3]
        let image = Tensor(uninitializedShape: [3, h, w])
        let src = batch.images.storage.pointer, dst = image.storage.pointer
        for c in 0..<3 {
            let m = transform.mean[c], s = transform.std[c]
            for y in 0..<h { for x in 0..<w { dst[(c * h + y) * w + x] = src[(c * batch.images.shape[2] + y) * W + x] * s + m } }
        }
        return (image, batch.boxes[0], batch.labels[0])
    }

    /// The model's transform with another shorter side (its longer-side cap stays).
    func transform(shorterSide: Int) -> DetectionTransform {
        var c = config
        c.minSize = shorterSide
        return DetectionTransform(config: c)
    }

    /// A record's image [3, H, W] in [0, 1] with its boxes.
    public static func decode(_ record: DetectionRecord) throws -> TrainingSample {
        let t = try ImageDecoder.decode(contentsOf: record.imageURL).toTensor()
        var boxes = Boxes()
        for b in record.boxes { boxes.append(x1: Float(b.x1), y1: Float(b.y1), x2: Float(b.x2), y2: Float(b.y2)) }
        return TrainingSample(image: t.reshaped(Array(t.shape.dropFirst())), boxes: boxes, labels: record.labels)
    }
}
