import VisionCore

/// torchvision's FeaturePyramidNetwork with LastLevelMaxPool.
/// Inputs: backbone maps C_0..C_{n-1} (NCHW, increasing stride). Outputs: P_0..P_{n-1}
/// with `channels` channels each, then "pool" = P_{n-1}[::2, ::2].
struct FeaturePyramidNetwork {
    let inner: [Conv]
    let layer: [Conv]
    let backend: ComputeBackend

    /// v1: convs with bias (`inner_blocks.i.0.{weight,bias}`); v2: conv without
    /// bias + BN (`inner_blocks.i.0.weight`, `inner_blocks.i.1.*`).
    init(_ r: WeightReader, backend: ComputeBackend, prefix: String, inChannels: [Int], channels: Int, withBatchNorm: Bool) {
        self.backend = backend
        func conv(_ kind: String, _ i: Int, _ cin: Int, _ k: Int) -> Conv {
            let p = "\(prefix).\(kind).\(i)"
            return Conv.load(r, backend: backend, conv: "\(p).0", bn: withBatchNorm ? "\(p).1" : nil,
                             inChannels: cin, outChannels: channels, kernel: k, bias: !withBatchNorm)
        }
        inner = inChannels.enumerated().map { conv("inner_blocks", $0.offset, $0.element, 1) }
        layer = inChannels.indices.map { conv("layer_blocks", $0, channels, 3) }
    }

    /// Old checkpoints spell the FPN convs without the Conv2dNormActivation level:
    /// `backbone.fpn.inner_blocks.0.weight` for `backbone.fpn.inner_blocks.0.0.weight`.
    static let keyAliases: [String: String] = Dictionary(uniqueKeysWithValues: (0..<5).flatMap { i in
        ["inner_blocks", "layer_blocks"].flatMap { kind in
            ["weight", "bias"].map { ("backbone.fpn.\(kind).\(i).\($0)", "backbone.fpn.\(kind).\(i).0.\($0)") }
        }
    })

    func callAsFunction(_ features: [Tensor]) -> [Tensor] {
        let n = features.count
        var lastInner = inner[n - 1](features[n - 1])
        var results = [layer[n - 1](lastInner)]
        for idx in stride(from: n - 2, through: 0, by: -1) {
            let lateral = inner[idx](features[idx])
            let topDown = backend.upsampleNearest(lastInner, height: lateral.shape[2], width: lateral.shape[3])
            lastInner = backend.add(lateral, topDown, activation: .identity)
            results.insert(layer[idx](lastInner), at: 0)
        }
        results.append(backend.maxPool2d(results[n - 1], kernel: 1, stride: 2, padding: 0))
        return results
    }
}

/// Backbone body + FPN: image [N,3,H,W] -> FPN levels, the last one "pool".
struct BackboneWithFPN {
    enum Body {
        case resnet50(ResNet50Body)
        case mobilenet(MobileNetV3LargeBody)
        case mobilenetV2(MobileNetV2Body)
    }
    let body: Body
    let fpn: FeaturePyramidNetwork

    init(_ r: WeightReader, backend: ComputeBackend, config: ModelConfig) {
        let inChannels: [Int]
        switch config.backbone {
        case .resnet50:
            body = .resnet50(ResNet50Body(r, backend: backend, prefix: "backbone.body", config: config))
            inChannels = ResNet50Body.outChannels(config)
        case .mobilenetV3Large:
            body = .mobilenet(MobileNetV3LargeBody(r, backend: backend, prefix: "backbone.body", config: config))
            inChannels = MobileNetV3LargeBody.outChannels(config)
        case .mobilenetV2:
            body = .mobilenetV2(MobileNetV2Body(r, backend: backend, prefix: "backbone.body", config: config))
            inChannels = MobileNetV2Body.outChannels(config)
        }
        fpn = FeaturePyramidNetwork(r, backend: backend, prefix: "backbone.fpn", inChannels: inChannels,
                                    channels: config.fpnChannels, withBatchNorm: config.variant == .v2)
    }

    /// The body's feature maps (before the FPN).
    func bodyFeatures(_ images: Tensor) -> [Tensor] {
        switch body {
        case .resnet50(let b): return b(images)
        case .mobilenet(let b): return b(images)
        case .mobilenetV2(let b): return b(images)
        }
    }

    func callAsFunction(_ images: Tensor) -> [Tensor] { fpn(bodyFeatures(images)) }
}
