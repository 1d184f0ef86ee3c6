import VisionCore

// The MobileNet body and its building blocks, shared by MobileNetV3-Large and
// MobileNetV2 (V2's blocks have no squeeze-excitation), defined once for every executor.

/// `features` of a torchvision MobileNet: stem conv, inverted-residual blocks, last 1x1 conv.
/// images [N, 3, H, W] -> [output of features[returnedBlock], output of the last conv].
struct MobileNetBody<E: LayerExecutor> {
    let executor: E
    let first: E.ConvLayer
    let blocks: [InvertedResidualBlock<E>]
    let last: E.ConvLayer
    /// The `features` index (block i is features[i + 1]) whose output the FPN also takes.
    let returnedBlock: Int

    func callAsFunction(_ images: E.Value) -> [E.Value] {
        let e = executor
        var x = e.conv(first, images)
        var outputs: [E.Value] = []
        for (i, block) in blocks.enumerated() {
            x = block(x, e)
            if i + 1 == returnedBlock { outputs.append(x) }
        }
        outputs.append(e.conv(last, x))
        return outputs
    }
}

/// Squeeze-excitation: mean over HxW -> 1x1 conv + ReLU -> 1x1 conv + Hardsigmoid -> scale.
struct SqueezeExcitation<E: LayerExecutor> {
    let fc1: E.ConvLayer, fc2: E.ConvLayer

    /// Keys `<prefix>.fc1.{weight,bias}`, `<prefix>.fc2.{weight,bias}`.
    init(_ e: E, prefix: String, channels: Int, squeezed: Int) {
        fc1 = e.makeConv(ConvSpec(conv: "\(prefix).fc1", inChannels: channels, outChannels: squeezed, kernel: 1,
                                  bias: true, activation: .relu))
        fc2 = e.makeConv(ConvSpec(conv: "\(prefix).fc2", inChannels: squeezed, outChannels: channels, kernel: 1,
                                  bias: true, activation: .hardsigmoid))
    }

    func callAsFunction(_ x: E.Value, _ e: E) -> E.Value {
        e.scaleChannels(x, by: e.conv(fc2, e.conv(fc1, e.globalAveragePool(x))))
    }
}

/// Inverted residual: [expand 1x1] -> depthwise kxk -> [SE] -> project 1x1 (+ input).
/// Activations are those of the specs; x [N, Cin, H, W] -> [N, Cout, H/stride, W/stride].
struct InvertedResidualBlock<E: LayerExecutor> {
    let expand: E.ConvLayer?, depthwise: E.ConvLayer, se: SqueezeExcitation<E>?, project: E.ConvLayer
    let residual: Bool

    func callAsFunction(_ x: E.Value, _ e: E) -> E.Value {
        guard let se else { return e.invertedResidual(expand: expand, depthwise: depthwise, project: project, x, addsInput: residual) }
        let y = se(e.conv(depthwise, expand.map { e.conv($0, x) } ?? x), e)
        return residual ? e.conv(project, y, adding: x, activation: .identity) : e.conv(project, y)
    }
}
