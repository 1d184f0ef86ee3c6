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
    /// Warm-up start factor; warm-up lasts min(1000, iterations per epoch - 1) steps of epoch 0.
    public var warmupFactor: Float = 1.0 / 1000
    public var trainableBackboneLayers: Int = 3
    public var seed: UInt64 = 0
    public var horizontalFlipProbability: Float = 0.5
    /// Also checkpoint every this many steps (0: only at the end of each epoch and on a signal).
    public var checkpointEverySteps: Int = 0
    /// The dataset trained on (so `--resume` needs no --dataset).
    public var datasetPath: String?

    public init() {}

    /// torchvision's recipe scaled to `epochs` and `batchSize`: lr 0.0025 per image,
    /// milestones at ~2/3 and ~0.85 of the epochs.
    public static func defaults(epochs: Int, batchSize: Int) -> TrainingOptions {
        var o = TrainingOptions()
        o.epochs = epochs
        o.batchSize = batchSize
        o.learningRate = 0.0025 * Float(batchSize)
        o.milestones = [Int((Double(epochs) * 2 / 3).rounded()), Int((Double(epochs) * 0.85).rounded())]
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

    public init(epoch: Int, stepInEpoch: Int, globalStep: Int, rngState: UInt64, options: TrainingOptions) {
        self.epoch = epoch
        self.stepInEpoch = stepInEpoch
        self.globalStep = globalStep
        self.rngState = rngState
        self.options = options
    }
}
