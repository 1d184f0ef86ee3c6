import VisionCore

/// torchvision's ResNet-50 body (stride on the 3x3 conv2), batch norms folded.
/// Returns layer1..layer4 outputs: [N,256,H/4,W/4], [N,512,H/8,W/8],
/// [N,1024,H/16,W/16], [N,2048,H/32,W/32].
struct ResNet50Body {
    /// One bottleneck: 1x1 reduce -> 3x3 (stride) -> 1x1 expand, + identity, ReLU.
    struct Bottleneck {
        let conv1: Conv, conv2: Conv, conv3: Conv
        let downsample: Conv?
        let backend: ComputeBackend

        func callAsFunction(_ x: Tensor) -> Tensor {
            let identity = downsample.map { $0(x) } ?? x
            let out = conv3(conv2(conv1(x)))
            return backend.add(out, identity, activation: .relu)
        }
    }

    /// Output channels of layer1..layer4 for a configuration (4x the bottleneck widths).
    static func outChannels(_ config: ModelConfig) -> [Int] { config.resnetWidths.map { $0 * 4 } }

    let stem: Conv
    let layers: [[Bottleneck]]
    let backend: ComputeBackend

    /// `prefix` is "backbone.body". Widths and block counts come from the config
    /// (torchvision's ResNet-50: stem 64, widths 64..512, blocks 3,4,6,3).
    init(_ r: WeightReader, backend: ComputeBackend, prefix: String, config: ModelConfig) {
        self.backend = backend
        let eps = config.batchNormEps
        stem = Conv.load(r, backend: backend, conv: "\(prefix).conv1", bn: "\(prefix).bn1", bnEps: eps,
                         inChannels: 3, outChannels: config.resnetStemChannels, kernel: 7, stride: 2, padding: 3,
                         activation: .relu)
        var inChannels = config.resnetStemChannels
        var layers: [[Bottleneck]] = []
        for (layerIndex, blockCount) in config.resnetBlocks.enumerated() {
            let width = config.resnetWidths[layerIndex]
            let outChannels = width * 4
            var blocks: [Bottleneck] = []
            for b in 0..<blockCount {
                let p = "\(prefix).layer\(layerIndex + 1).\(b)"
                let stride = (b == 0 && layerIndex > 0) ? 2 : 1
                func conv(_ n: Int, _ cin: Int, _ cout: Int, _ k: Int, _ s: Int, _ act: Activation) -> Conv {
                    Conv.load(r, backend: backend, conv: "\(p).conv\(n)", bn: "\(p).bn\(n)", bnEps: eps,
                              inChannels: cin, outChannels: cout, kernel: k, stride: s, activation: act)
                }
                let downsample = b == 0
                    ? Conv.load(r, backend: backend, conv: "\(p).downsample.0", bn: "\(p).downsample.1", bnEps: eps,
                                inChannels: inChannels, outChannels: outChannels, kernel: 1, stride: stride)
                    : nil
                blocks.append(Bottleneck(
                    conv1: conv(1, inChannels, width, 1, 1, .relu),
                    conv2: conv(2, width, width, 3, stride, .relu),
                    conv3: conv(3, width, outChannels, 1, 1, .identity),
                    downsample: downsample, backend: backend))
                inChannels = outChannels
            }
            layers.append(blocks)
        }
        self.layers = layers
    }

    func callAsFunction(_ image: Tensor) -> [Tensor] {
        var x = backend.maxPool2d(stem(image), kernel: 3, stride: 2, padding: 1)
        var outputs: [Tensor] = []
        for blocks in layers {
            for block in blocks { x = block(x) }
            outputs.append(x)
        }
        return outputs
    }
}
