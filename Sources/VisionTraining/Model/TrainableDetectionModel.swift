// What the trainer, validation and the run checkpoints need of a detection model in
// training: images and targets in, losses (and gradients) out; weights out under
// torchvision's keys. They hold `any TrainableDetectionModel`, so another family is
// new files and one case in `TrainableDetectionModels.make`, not a fork of the loop.

import VisionCheckpoint
import VisionCore
import VisionDetection

public protocol TrainableDetectionModel: AnyObject {
    var config: ModelConfig { get }
    /// The training-time input transform (resize, normalise, pad).
    var transform: DetectionTransform { get }
    /// Every named tensor, with which were initialised rather than loaded.
    var parameters: ModelParameters { get }
    /// What the optimizer updates, in key order.
    var trainableParameters: [(key: String, variable: Variable)] { get }
    func zeroGrad()
    /// Every weight and frozen statistic under torchvision's keys (copies).
    func stateDict() -> StateDict
    /// One forward pass in training mode and its backward: returns the losses and adds
    /// d(total loss)/d(parameter) to each trainable parameter's `grad`. `permutations`
    /// supplies the samplers' random draws; `threads` bounds every kernel call.
    func forwardBackward<S: PermutationSource>(_ batch: TrainingBatch, permutations: inout S,
                                               threads: KernelThreads) -> TrainingLosses
}

public enum TrainableDetectionModels {
    /// torchvision's trainable_backbone_layers range for a backbone.
    public static func trainableBackboneLayerRange(_ backbone: ModelConfig.Backbone) -> ClosedRange<Int> {
        TrainableBackboneLayers.range(backbone)
    }

    /// The trainable model `config` describes, started from `stateDict` (nil: from scratch;
    /// see TrainableFasterRCNN.init for what may be missing from it, and for
    /// `continuesLiveBatchNorm`: true to resume a run, false for a new run from pretrained weights).
    public static func make(config: ModelConfig, stateDict: StateDict?, source: String, trainableBackboneLayers: Int,
                            seed: UInt64 = 0, continuesLiveBatchNorm: Bool = true) throws -> any TrainableDetectionModel {
        // Every architecture in Models/ is a Faster R-CNN so far.
        try TrainableFasterRCNN(config: config, stateDict: stateDict, source: source,
                                trainableBackboneLayers: trainableBackboneLayers, seed: seed,
                                continuesLiveBatchNorm: continuesLiveBatchNorm)
    }

    /// An inference model with the current weights of `model` (validation runs it).
    public static func inferenceModel(of model: any TrainableDetectionModel, source: String,
                                      backend: ComputeBackend) throws -> any DetectionModel {
        try DetectionModels.make(config: model.config, stateDict: model.stateDict(), source: source, backend: backend)
    }
}
