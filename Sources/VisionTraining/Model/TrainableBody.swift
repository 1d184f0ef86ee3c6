// The backbone bodies the trainable Faster R-CNN can use, behind one protocol, and
// the import of an ImageNet classification state dict as a body's starting weights.

import VisionCheckpoint
import VisionCore
import VisionDetection

/// A backbone body: images [N, 3, H, W] -> the maps the FPN takes, increasing stride.
protocol TrainableBody: AnyObject {
    func callAsFunction(_ images: Variable, tape: Tape) -> [Variable]
}

enum TrainableBodies {
    /// Builds the body `config.backbone` names and returns it with the FPN's input channels.
    static func make(_ p: ModelParameters, config: ModelConfig, trainableLayers: Int) throws -> (TrainableBody, [Int]) {
        switch (config.backbone, config.variant) {
        case (.mobilenetV3Large, .v1):
            return (TrainableMobileNetV3Body(p, prefix: "backbone.body", config: config, trainableLayers: trainableLayers),
                    TrainableMobileNetV3Body.outChannels(config))
        case (.mobilenetV2, .v1):
            return (TrainableMobileNetV2Body(p, prefix: "backbone.body", config: config, trainableLayers: trainableLayers),
                    TrainableMobileNetV2Body.outChannels(config))
        case (.resnet50, .v1):
            return (TrainableResNet50Body(p, prefix: "backbone.body", config: config, trainableLayers: trainableLayers),
                    TrainableResNet50Body.outChannels(config))
        default:
            throw TrainingModelError("training supports fasterrcnn_resnet50_fpn (v1) and the MobileNet FPN models (mobilenet_v3_large, mobilenet_v2) so far, not \(config.name)")
        }
    }

    /// torchvision's trainable_backbone_layers range for a backbone: 0...5 for ResNet
    /// (layer4 ... layer1, conv1), 0...6 for the MobileNets (their stages).
    static func trainableLayerRange(_ backbone: ModelConfig.Backbone) -> ClosedRange<Int> {
        switch backbone {
        case .resnet50: return TrainableResNet50Body.trainableLayerRange
        case .mobilenetV3Large, .mobilenetV2: return 0...6
        }
    }

    /// A classification model's state dict (torchvision's mobilenet_v2 / mobilenet_v3_large:
    /// `features.*` and `classifier.*`) as detection keys: `features.X` -> `backbone.body.X`,
    /// the classifier dropped. Returns nil when `state` is not such a state dict.
    static func backboneImport(_ state: StateDict) -> StateDict? {
        guard state["features.0.0.weight"] != nil, state["backbone.body.0.0.weight"] == nil else { return nil }
        let renamed = state.keys.compactMap { key -> (String, Tensor)? in
            guard key.hasPrefix("features."), !key.hasSuffix("num_batches_tracked"), let t = state[key] else { return nil }
            return ("backbone.body." + key.dropFirst("features.".count), t)
        }
        return StateDict(renamed)
    }
}
