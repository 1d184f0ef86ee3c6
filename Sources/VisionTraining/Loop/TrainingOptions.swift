// Hyperparameters of a training run (saved in every checkpoint as JSON, so a resumed
// run continues with exactly the same settings).

import Foundation

public struct TrainingOptions: Codable, Sendable, Equatable {
    public var epochs: Int = 20
    public var batchSize: Int = 2
    /// Learning rate for the whole batch (references/detection: 0.0025 per image).
    public var learningRate: Float = 0.005
    public var momentum: Float = 0.9
    public var weightDecay: Float = 1e-4
    /// Epochs after which the rate is multiplied by 0.1 (MultiStepLR).
    public var milestones: [Int] = [13, 17]
    /// Warm-up start factor.
    public var warmupFactor: Float = 1.0 / 1000
    /// Steps of warm-up at the start of epoch 0, fixed when the run starts
    /// (`LearningRateSchedule.warmupIterations(iterationsPerEpoch:epochs:)`) so that
    /// extending the run never moves it. Nil in checkpoints written before it was
    /// saved: those runs warmed up for torchvision's min(1000, iterations per epoch - 1).
    public var warmupSteps: Int?
    public var trainableBackboneLayers: Int = 3
    public var seed: UInt64 = 0
    public var horizontalFlipProbability: Float = 0.5
    /// Multi-scale training: each image's shorter side drawn from these (nil: the model's minSize).
    /// This and the other augmentations are optional so that checkpoints written before them still load (nil: off).
    public var multiScaleSizes: [Int]?
    /// RandomPhotometricDistort's p (brightness, contrast, saturation, hue each with this probability).
    public var photometricProbability: Float?
    /// Probability of permuting the colour channels (torchvision's photometric p; separate here).
    public var channelPermutationProbability: Float?
    /// SSD's RandomIoUCrop on every image.
    public var iouCrop: Bool?
    /// Stop when validation AP50 has not improved for this many epochs (nil: never).
    public var patience: Int?
    /// Also checkpoint every this many steps (0: only at the end of each epoch and on a signal).
    public var checkpointEverySteps: Int = 0
    /// The dataset trained on (so `--resume` needs no --dataset).
    public var datasetPath: String?
    /// The images folder when the dataset was given as --images/--annotations (then
    /// `datasetPath` is the annotations).
    public var datasetImages: String?
    /// The split trained on and the one scored after each epoch ("none": none), so that
    /// `--resume` reads the same ones (nil in checkpoints written before they were saved).
    public var trainingSplit: String?
    public var validationSplit: String?

    public init() {}

    /// torchvision's recipe scaled to `epochs` and `batchSize`: lr 0.0025 per image,
    /// milestones at ~2/3 and ~0.85 of the epochs.
    public static func defaults(epochs: Int, batchSize: Int) -> TrainingOptions {
        var o = TrainingOptions()
        o.epochs = epochs
        o.batchSize = batchSize
        o.learningRate = 0.0025 * Float(batchSize)
        o.milestones = milestones(epochs: epochs)
        return o
    }

    /// Decay after ~2/3 and ~0.85 of `epochs`, keeping only milestones the run reaches
    /// and never epoch 0 (warm-up is in epoch 0, so the rate always gets to its full
    /// value first): 1 epoch -> none, 2 -> [1], 3 -> [2], 20 -> [13, 17].
    public static func milestones(epochs: Int) -> [Int] {
        let wanted = [Int((Double(epochs) * 2 / 3).rounded()), Int((Double(epochs) * 0.85).rounded())]
        var out: [Int] = []
        for m in wanted where m >= 1 && m < epochs && !out.contains(m) { out.append(m) }
        return out
    }

    /// These options with the run lengthened to `newEpochs` (`--resume RUN --epochs N`),
    /// the run being at `currentEpoch`. Milestones already passed stay (the rate never
    /// rises again); those still ahead are rescaled to the new length, so a run
    /// extended before its decay still decays at the same fraction of its length.
    public func extended(toEpochs newEpochs: Int, currentEpoch: Int) -> TrainingOptions {
        var o = self
        o.epochs = newEpochs
        guard newEpochs > epochs else { return o }
        o.milestones = milestones.map { m in
            m <= currentEpoch ? m : max(currentEpoch + 1, Int((Double(m) * Double(newEpochs) / Double(epochs)).rounded()))
        }
        return o
    }
}

/// Where a run stands: what `--resume` needs besides weights and momentum.
public struct TrainingProgress: Codable, Sendable, Equatable {
    /// The epoch in progress (0-based) and the steps of it already done.
    public var epoch: Int
    public var stepInEpoch: Int
    /// Steps done since the start of the run.
    public var globalStep: Int
    /// State of the generator the next step starts from (TrainingRNG(seed, stream 2, globalStep)).
    public var rngState: UInt64
    public var options: TrainingOptions
    /// The best validation AP50 so far and its epoch (1-based): best.safetensors holds that epoch's weights.
    public var bestAP50: Double?
    public var bestEpoch: Int?
    /// Written into best.safetensors, so that the run replaces only a file it wrote itself.
    public var runID: String?
    /// Set when --patience stopped the run (cleared when it is resumed).
    public var stoppedEarly: Bool?

    public init(epoch: Int, stepInEpoch: Int, globalStep: Int, rngState: UInt64, options: TrainingOptions) {
        self.epoch = epoch
        self.stepInEpoch = stepInEpoch
        self.globalStep = globalStep
        self.rngState = rngState
        self.options = options
    }
}
