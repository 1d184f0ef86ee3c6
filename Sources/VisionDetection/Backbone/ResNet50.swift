import VisionCore

/// torchvision's ResNet-50 body (keys backbone.body.conv1 / bn1 / layer1..layer4, the
/// stride on each first bottleneck's 3x3 conv2 as in ResNet v1.5), defined once for
/// every executor. Widths and block counts come from the config, so the reduced-width
/// test fixtures build with the same code as the real model.
/// images [N, 3, H, W] -> layer1..layer4 outputs [N, 4w_i, H/4 .. H/32, W/4 .. W/32].
struct ResNet50Body<E: LayerExecutor> {
    /// 1x1 reduce -> 3x3 (stride) -> 1x1 expand, + identity (or the 1x1 downsample), ReLU.
    struct Bottleneck {
        let conv1: E.ConvLayer, conv2: E.ConvLayer, conv3: E.ConvLayer
        let downsample: E.ConvLayer?
    }

    let executor: E
    let stem: E.ConvLayer
    let layers: [[Bottleneck]]

    /// `prefix` is "backbone.body".
    init(_ e: E, prefix: String, config: ModelConfig) {
        executor = e
        let eps = config.batchNormEps
        stem = e.makeConv(ConvSpec(conv: "\(prefix).conv1", batchNorm: "\(prefix).bn1", batchNormEps: eps, inChannels: 3,
                                   outChannels: config.resnetStemChannels, kernel: 7, stride: 2, activation: .relu))
        var inChannels = config.resnetStemChannels
        var layers: [[Bottleneck]] = []
        for (layerIndex, blockCount) in config.resnetBlocks.enumerated() {
            let width = config.resnetWidths[layerIndex], outChannels = width * 4
            var blocks: [Bottleneck] = []
            for b in 0..<blockCount {
                let q = "\(prefix).layer\(layerIndex + 1).\(b)"
                let stride = (b == 0 && layerIndex > 0) ? 2 : 1
                func conv(_ n: Int, _ cin: Int, _ cout: Int, _ k: Int, _ s: Int, _ act: Activation) -> E.ConvLayer {
                    e.makeConv(ConvSpec(conv: "\(q).conv\(n)", batchNorm: "\(q).bn\(n)", batchNormEps: eps,
                                        inChannels: cin, outChannels: cout, kernel: k, stride: s, activation: act))
                }
                // Made in torchvision's registration order: conv1, bn1, conv2, bn2, conv3, bn3, downsample.
                let c1 = conv(1, inChannels, width, 1, 1, .relu)
                let c2 = conv(2, width, width, 3, stride, .relu)
                let c3 = conv(3, width, outChannels, 1, 1, .identity)
                let downsample = b == 0
                    ? e.makeConv(ConvSpec(conv: "\(q).downsample.0", batchNorm: "\(q).downsample.1", batchNormEps: eps,
                                          inChannels: inChannels, outChannels: outChannels, kernel: 1, stride: stride))
                    : nil
                blocks.append(Bottleneck(conv1: c1, conv2: c2, conv3: c3, downsample: downsample))
                inChannels = outChannels
            }
            layers.append(blocks)
        }
        self.layers = layers
    }

    func callAsFunction(_ images: E.Value) -> [E.Value] {
        let e = executor
        var x = e.maxPool2d(e.conv(stem, images), kernel: 3, stride: 2, padding: 1)
        var outputs: [E.Value] = []
        for blocks in layers {
            for b in blocks {
                let identity = b.downsample.map { e.conv($0, x) } ?? x
                // conv3's output + identity, then ReLU: one pass (the add in conv3's epilogue).
                x = e.conv(b.conv3, e.conv(b.conv2, e.conv(b.conv1, x)), adding: identity, activation: .relu)
            }
            outputs.append(x)
        }
        return outputs
    }
}
