import VisionCore

/// torchvision's FeaturePyramidNetwork with LastLevelMaxPool, defined once for every executor.
/// Inputs: backbone maps C_0..C_{n-1} (NCHW, increasing stride). Outputs: P_0..P_{n-1}
/// with `channels` channels each, then "pool" = P_{n-1}[::2, ::2].
public struct FeaturePyramidNetwork<E: LayerExecutor> {
    let executor: E
    let inner: [E.ConvLayer]
    let layer: [E.ConvLayer]

    /// v1: convs with bias (`inner_blocks.i.0.{weight,bias}`); v2: conv without
    /// bias + BN (`inner_blocks.i.0.weight`, `inner_blocks.i.1.*`). torchvision's FPN
    /// initialises its convs with kaiming_uniform_(a=1), bias 0.
    init(_ e: E, prefix: String, inChannels: [Int], channels: Int, withBatchNorm: Bool) {
        executor = e
        func conv(_ kind: String, _ i: Int, _ cin: Int, _ k: Int) -> E.ConvLayer {
            let p = "\(prefix).\(kind).\(i)"
            return e.makeConv(ConvSpec(conv: "\(p).0", batchNorm: withBatchNorm ? "\(p).1" : nil, inChannels: cin,
                                       outChannels: channels, kernel: k, bias: !withBatchNorm,
                                       weightInit: .kaimingUniform(a: 1)))
        }
        inner = inChannels.enumerated().map { conv("inner_blocks", $0.offset, $0.element, 1) }
        layer = inChannels.indices.map { conv("layer_blocks", $0, channels, 3) }
    }

    public func callAsFunction(_ features: [E.Value]) -> [E.Value] {
        let e = executor
        let n = features.count
        var lastInner = e.conv(inner[n - 1], features[n - 1])
        var results = [e.conv(layer[n - 1], lastInner)]
        for idx in stride(from: n - 2, through: 0, by: -1) {
            // The lateral's size is its input's (1x1 conv, stride 1).
            let size = e.shape(of: features[idx])
            let topDown = e.upsampleNearest(lastInner, height: size[2], width: size[3])
            lastInner = e.conv(inner[idx], features[idx], adding: topDown, activation: .identity)
            results.insert(e.conv(layer[idx], lastInner), at: 0)
        }
        results.append(e.maxPool2d(results[n - 1], kernel: 1, stride: 2, padding: 0))
        return results
    }
}

/// Backbone body + FPN: images [N, 3, H, W] -> FPN levels, the last one "pool".
public struct BackboneWithFPN<E: LayerExecutor> {
    enum Body {
        case resnet50(ResNet50Body<E>)
        case mobilenet(MobileNetBody<E>)
    }
    let body: Body
    public let fpn: FeaturePyramidNetwork<E>

    /// Channels of the body maps the FPN takes, increasing stride.
    public static func bodyChannels(_ config: ModelConfig) -> [Int] {
        switch config.backbone {
        case .resnet50: return config.resnetWidths.map { $0 * 4 }
        case .mobilenetV3Large: return MobileNetV3LargeArchitecture.outChannels(widthMultiplier: config.mobilenetWidthMultiplier)
        case .mobilenetV2: return MobileNetV2Architecture.outChannels(widthMultiplier: config.mobilenetWidthMultiplier)
        }
    }

    public init(_ e: E, config: ModelConfig) {
        let prefix = "backbone.body"
        switch config.backbone {
        case .resnet50: body = .resnet50(ResNet50Body(e, prefix: prefix, config: config))
        case .mobilenetV3Large: body = .mobilenet(.mobileNetV3Large(e, prefix: prefix, config: config))
        case .mobilenetV2: body = .mobilenet(.mobileNetV2(e, prefix: prefix, config: config))
        }
        fpn = FeaturePyramidNetwork(e, prefix: "backbone.fpn", inChannels: Self.bodyChannels(config),
                                    channels: config.fpnChannels, withBatchNorm: config.variant == .v2)
    }

    /// The body's feature maps (before the FPN).
    public func bodyFeatures(_ images: E.Value) -> [E.Value] {
        switch body {
        case .resnet50(let b): return b(images)
        case .mobilenet(let b): return b(images)
        }
    }

    public func callAsFunction(_ images: E.Value) -> [E.Value] { fpn(bodyFeatures(images)) }
}
