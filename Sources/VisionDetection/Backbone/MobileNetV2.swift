import VisionCore

/// torchvision's mobilenet_v2 `features` (19 modules), batch norms folded, every
/// activation ReLU6. For detection (fasterrcnn_mobilenet_v2_fpn) it returns the
/// outputs of module 13 ([N,96,H/16,W/16] at width 1) and module 18 ([N,1280,H/32,W/32]).
/// Key layout: see MobileNetV2Architecture.
struct MobileNetV2Body {
    typealias Architecture = MobileNetV2Architecture

    /// Channels of the two returned maps.
    static func outChannels(_ config: ModelConfig) -> [Int] {
        Architecture.outChannels(widthMultiplier: config.mobilenetWidthMultiplier)
    }

    let first: Conv
    let blocks: [InvertedResidualBlock]
    let last: Conv

    init(_ r: WeightReader, backend: ComputeBackend, prefix: String, config: ModelConfig) {
        let eps = config.batchNormEps
        let m = config.mobilenetWidthMultiplier
        first = Conv.load(r, backend: backend, conv: "\(prefix).0.0", bn: "\(prefix).0.1", bnEps: eps,
                          inChannels: 3, outChannels: Architecture.stemChannels(widthMultiplier: m), kernel: 3,
                          stride: 2, activation: .relu6)
        var blocks: [InvertedResidualBlock] = []
        let settings = Architecture.blocks(widthMultiplier: m)
        for (i, s) in settings.enumerated() {
            // torchvision numbers the block's `conv` Sequential from 0; the expand conv
            // only exists when the expansion is not 1, shifting the others down by one.
            let p = "\(prefix).\(i + 1).conv"
            var j = 0
            var expand: Conv?
            if s.hasExpansion {
                expand = Conv.load(r, backend: backend, conv: "\(p).0.0", bn: "\(p).0.1", bnEps: eps,
                                   inChannels: s.inChannels, outChannels: s.expanded, kernel: 1, activation: .relu6)
                j = 1
            }
            let depthwise = Conv.load(r, backend: backend, conv: "\(p).\(j).0", bn: "\(p).\(j).1", bnEps: eps,
                                      inChannels: s.expanded, outChannels: s.expanded, kernel: 3,
                                      stride: s.stride, groups: s.expanded, activation: .relu6)
            let project = Conv.load(r, backend: backend, conv: "\(p).\(j + 1)", bn: "\(p).\(j + 2)", bnEps: eps,
                                    inChannels: s.expanded, outChannels: s.outChannels, kernel: 1)
            blocks.append(InvertedResidualBlock(expand: expand, depthwise: depthwise, se: nil, project: project,
                                                residual: s.residual, backend: backend))
        }
        self.blocks = blocks
        let lastIndex = Architecture.returnedModules[1]
        last = Conv.load(r, backend: backend, conv: "\(prefix).\(lastIndex).0", bn: "\(prefix).\(lastIndex).1", bnEps: eps,
                         inChannels: settings[settings.count - 1].outChannels,
                         outChannels: Architecture.lastChannels(widthMultiplier: m), kernel: 1, activation: .relu6)
    }

    /// image [N,3,H,W] -> [features[13] output, features[18] output].
    func callAsFunction(_ image: Tensor) -> [Tensor] {
        var x = first(image)
        var outputs: [Tensor] = []
        for (i, block) in blocks.enumerated() {
            x = block(x)
            if i + 1 == Architecture.returnedModules[0] { outputs.append(x) }
        }
        outputs.append(last(x))
        return outputs
    }
}
