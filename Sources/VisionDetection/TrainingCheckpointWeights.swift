// A training checkpoint (`vision train`'s checkpoint.safetensors, what --resume reads)
// holds the model's weights plus one SGD momentum buffer per trainable parameter
// (optimizer.<key>.momentum) and the run's progress (metadata vision.training). For
// inference only the weights matter: they are taken and the momentum left out, so
// predict, eval and serve accept the file as they accept model.safetensors.

import VisionCheckpoint

extension Detector {
    /// Metadata key of a training checkpoint's progress (VisionTraining's TrainingCheckpoint.progressMetadataKey).
    public static let trainingProgressMetadataKey = "vision.training"
    static let momentumPrefix = "optimizer.", momentumSuffix = ".momentum"

    /// Whether `state` is a training checkpoint: vision.training metadata beside vision.config.
    public static func isTrainingCheckpoint(_ state: StateDict) -> Bool {
        state.metadata[trainingProgressMetadataKey] != nil && state.metadata[configMetadataKey] != nil
    }

    /// `state`'s model weights: a training checkpoint without its optimizer's momentum
    /// buffers (its metadata kept); any other checkpoint as it is, so a stray key there is
    /// still reported by the loader.
    public static func modelWeights(of state: StateDict) -> StateDict {
        guard isTrainingCheckpoint(state) else { return state }
        var weights = state
        for key in state.keys where key.hasPrefix(momentumPrefix) && key.hasSuffix(momentumSuffix) { weights[key] = nil }
        return weights
    }
}
