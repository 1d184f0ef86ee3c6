// The learning-rate schedule of torchvision's references/detection/train.py:
// a linear warm-up during the first epoch (torch.optim.lr_scheduler.LinearLR with
// start_factor = warmupFactor, total_iters = warmupIterations, stepped per iteration),
// then MultiStepLR (x gamma at each milestone epoch, stepped per epoch).

public struct LearningRateSchedule: Sendable, Equatable {
    public var baseLearningRate: Float
    /// Epochs after which the rate is multiplied by `gamma` (torchvision: [16, 22]).
    public var milestones: [Int]
    public var gamma: Float
    /// Warm-up start factor (torchvision: 1/1000).
    public var warmupFactor: Float
    /// Iterations of warm-up in epoch 0 (torchvision: min(1000, iterations per epoch - 1)).
    public var warmupIterations: Int

    public init(baseLearningRate: Float, milestones: [Int] = [16, 22], gamma: Float = 0.1,
                warmupFactor: Float = 1.0 / 1000, warmupIterations: Int = 1000) {
        self.baseLearningRate = baseLearningRate
        self.milestones = milestones
        self.gamma = gamma
        self.warmupFactor = warmupFactor
        self.warmupIterations = warmupIterations
    }

    /// torchvision's warm-up length for an epoch of `iterationsPerEpoch` steps.
    public static func warmupIterations(iterationsPerEpoch: Int) -> Int {
        min(1000, iterationsPerEpoch - 1)
    }

    /// The warm-up of a run of `epochs` epochs: torchvision's, but at most a tenth of
    /// all the run's steps, so that a short run (a few epochs of a small dataset)
    /// spends most of its steps at the full rate instead of warming up for its whole
    /// first epoch. Runs long enough for torchvision's warm-up are unchanged.
    public static func warmupIterations(iterationsPerEpoch: Int, epochs: Int) -> Int {
        max(0, min(warmupIterations(iterationsPerEpoch: iterationsPerEpoch), iterationsPerEpoch * epochs / 10))
    }

    /// LinearLR's factor after `iteration` steps: start + (1 - start) * min(it, total) / total.
    public func warmupMultiplier(iteration: Int) -> Float {
        guard warmupIterations > 0, iteration < warmupIterations else { return 1 }
        let alpha = Float(iteration) / Float(warmupIterations)
        return warmupFactor * (1 - alpha) + alpha
    }

    /// MultiStepLR's factor at `epoch`: gamma ^ (milestones <= epoch).
    public func epochMultiplier(epoch: Int) -> Float {
        var m: Float = 1
        for milestone in milestones where milestone <= epoch { m *= gamma }
        return m
    }

    /// The rate used for step `iteration` (0-based within the epoch) of `epoch` (0-based).
    /// Warm-up applies in epoch 0 only, as the reference script creates it only then.
    public func learningRate(epoch: Int, iteration: Int) -> Float {
        let warm: Float = epoch == 0 ? warmupMultiplier(iteration: iteration) : 1
        return baseLearningRate * epochMultiplier(epoch: epoch) * warm
    }
}
