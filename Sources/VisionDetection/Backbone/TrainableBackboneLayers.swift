// torchvision's trainable_backbone_layers as a predicate over parameter names, the
// way torchvision's backbone builders freeze parameters by name (resnet_fpn_backbone,
// mobilenet_backbone). Layers outside the backbone body always train.

public enum TrainableBackboneLayers {
    static let bodyPrefix = "backbone.body."

    /// 0...5 for ResNet-50 (layer4, layer3, layer2, layer1, conv1), 0...6 for the MobileNets
    /// (their stages); the upper bound trains the whole body.
    public static func range(_ backbone: ModelConfig.Backbone) -> ClosedRange<Int> {
        switch backbone {
        case .resnet50: return 0...5
        case .mobilenetV3Large, .mobilenetV2: return 0...6
        }
    }

    /// Whether the parameter `key` (a full torchvision key, e.g. `backbone.body.layer2.0.conv1.weight`)
    /// trains when K = `trainableLayers` backbone layers train.
    public static func trains(_ key: String, backbone: ModelConfig.Backbone, trainableLayers k: Int) -> Bool {
        guard key.hasPrefix(bodyPrefix) else { return true }
        let name = key.dropFirst(bodyPrefix.count)
        switch backbone {
        case .resnet50:
            // ["layer4", "layer3", "layer2", "layer1", "conv1"][:K], matched as name prefixes, and
            // "bn1" when K = 5 (the stem's batch norm, a parameter only where it is a live BatchNorm2d).
            let layers = ["layer4", "layer3", "layer2", "layer1", "conv1"].prefix(k) + (k == 5 ? ["bn1"] : [])
            return layers.contains { name.hasPrefix($0 + ".") }
        case .mobilenetV3Large:
            return module(of: name) >= freezeBefore(trainableLayers: k, stageIndices: MobileNetV3LargeArchitecture.stageIndices)
        case .mobilenetV2:
            return module(of: name) >= freezeBefore(trainableLayers: k, stageIndices: MobileNetV2Architecture.stageIndices)
        }
    }

    /// features[0 ..< freezeBefore] are frozen: all of them for K = 0 (the last stage index + 1
    /// is the module count), else those before stage_indices[count - K].
    static func freezeBefore(trainableLayers k: Int, stageIndices: [Int]) -> Int {
        k == 0 ? stageIndices[stageIndices.count - 1] + 1 : stageIndices[stageIndices.count - k]
    }

    /// The `features` index a body key starts with ("13.block.0.0.weight" -> 13).
    static func module(of name: Substring) -> Int {
        Int(name.prefix { $0 != "." }) ?? 0
    }
}
