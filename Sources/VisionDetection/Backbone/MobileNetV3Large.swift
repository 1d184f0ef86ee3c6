import VisionCore

/// torchvision's mobilenet_v3_large `features` (17 modules, keys backbone.body.<i>...),
/// defined once for every executor. For detection it returns the outputs of module 13
/// ([N,160,H/32,W/32]) and module 16 ([N,960,H/32,W/32]), as mobilenet_backbone(fpn=True).
extension MobileNetBody {
    static func mobileNetV3Large(_ e: E, prefix: String, config: ModelConfig) -> MobileNetBody {
        typealias Architecture = MobileNetV3LargeArchitecture
        let eps = config.batchNormEps
        let m = config.mobilenetWidthMultiplier
        let first = e.makeConv(ConvSpec(conv: "\(prefix).0.0", batchNorm: "\(prefix).0.1", batchNormEps: eps, inChannels: 3,
                                    outChannels: Architecture.adjust(Architecture.settings[0].inChannels, m), kernel: 3,
                                    stride: 2, activation: .hardswish))
        var blocks: [InvertedResidualBlock<E>] = []
        for (i, unscaled) in Architecture.settings.enumerated() {
            let s = unscaled.scaled(by: m)
            let p = "\(prefix).\(i + 1).block"
            let act: Activation = s.hardswish ? .hardswish : .relu
            // torchvision numbers the block's Sequential from 0; absent parts shift the rest down.
            var j = 0
            func next() -> String { defer { j += 1 }; return "\(p).\(j)" }
            func convNorm(_ q: String, _ cin: Int, _ cout: Int, _ k: Int, stride: Int = 1, groups: Int = 1,
                          _ activation: Activation) -> E.ConvLayer {
                e.makeConv(ConvSpec(conv: "\(q).0", batchNorm: "\(q).1", batchNormEps: eps, inChannels: cin,
                                    outChannels: cout, kernel: k, stride: stride, groups: groups, activation: activation))
            }
            let expand = s.expanded != s.inChannels ? convNorm(next(), s.inChannels, s.expanded, 1, act) : nil
            let depthwise = convNorm(next(), s.expanded, s.expanded, s.kernel, stride: s.stride, groups: s.expanded, act)
            let se = s.useSE
                ? SqueezeExcitation(e, prefix: next(), channels: s.expanded, squeezed: Architecture.squeezeChannels(s.expanded))
                : nil
            let project = convNorm(next(), s.expanded, s.outChannels, 1, .identity)
            blocks.append(InvertedResidualBlock(expand: expand, depthwise: depthwise, se: se, project: project,
                                                residual: s.stride == 1 && s.inChannels == s.outChannels))
        }
        let c = Architecture.outChannels(widthMultiplier: m)
        let lastIndex = Architecture.returnedModules[1]
        let last = e.makeConv(ConvSpec(conv: "\(prefix).\(lastIndex).0", batchNorm: "\(prefix).\(lastIndex).1", batchNormEps: eps,
                                   inChannels: c[0], outChannels: c[1], kernel: 1, activation: .hardswish))
        return MobileNetBody(executor: e, first: first, blocks: blocks, last: last,
                             returnedBlock: Architecture.returnedModules[0])
    }
}
