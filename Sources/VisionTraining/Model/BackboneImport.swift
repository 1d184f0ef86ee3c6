// The import of an ImageNet classification state dict as a detection body's starting weights.

import VisionCheckpoint
import VisionCore

enum BackboneImport {
    /// A classification model's state dict (torchvision's mobilenet_v2 / mobilenet_v3_large:
    /// `features.*` and `classifier.*`) as detection keys: `features.X` -> `backbone.body.X`,
    /// the classifier dropped. Returns nil when `state` is not such a state dict.
    static func detectionKeys(_ state: StateDict) -> StateDict? {
        guard state["features.0.0.weight"] != nil, state["backbone.body.0.0.weight"] == nil else { return nil }
        let renamed = state.keys.compactMap { key -> (String, Tensor)? in
            guard key.hasPrefix("features."), !key.hasSuffix("num_batches_tracked"), let t = state[key] else { return nil }
            return ("backbone.body." + key.dropFirst("features.".count), t)
        }
        return StateDict(renamed)
    }
}
