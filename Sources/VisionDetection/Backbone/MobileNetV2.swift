import VisionCore

/// torchvision's mobilenet_v2 `features` (19 modules, keys backbone.body.<i>...), every
/// activation ReLU6, defined once for every executor. For detection
/// (fasterrcnn_mobilenet_v2_fpn) it returns the outputs of module 13 ([N,96,H/16,W/16] at
/// width 1) and module 18 ([N,1280,H/32,W/32]). Key layout: see MobileNetV2Architecture.
extension MobileNetBody {
    static func mobileNetV2(_ e: E, prefix: String, config: ModelConfig) -> MobileNetBody {
        typealias Architecture = MobileNetV2Architecture
        let eps = config.batchNormEps
        let m = config.mobilenetWidthMultiplier
        func convNorm(_ conv: String, _ bn: String, _ cin: Int, _ cout: Int, _ k: Int, stride: Int = 1, groups: Int = 1,
                      _ activation: Activation) -> E.ConvLayer {
            e.makeConv(ConvSpec(conv: conv, batchNorm: bn, batchNormEps: eps, inChannels: cin, outChannels: cout,
                                kernel: k, stride: stride, groups: groups, activation: activation))
        }
        let first = convNorm("\(prefix).0.0", "\(prefix).0.1", 3, Architecture.stemChannels(widthMultiplier: m), 3,
                         stride: 2, .relu6)
        let settings = Architecture.blocks(widthMultiplier: m)
        let blocks = settings.enumerated().map { i, s -> InvertedResidualBlock<E> in
            // torchvision numbers the block's `conv` Sequential from 0; the expand conv
            // only exists when the expansion is not 1, shifting the others down by one.
            let p = "\(prefix).\(i + 1).conv"
            let j = s.hasExpansion ? 1 : 0
            let expand = s.hasExpansion ? convNorm("\(p).0.0", "\(p).0.1", s.inChannels, s.expanded, 1, .relu6) : nil
            let depthwise = convNorm("\(p).\(j).0", "\(p).\(j).1", s.expanded, s.expanded, 3, stride: s.stride,
                                     groups: s.expanded, .relu6)
            let project = convNorm("\(p).\(j + 1)", "\(p).\(j + 2)", s.expanded, s.outChannels, 1, .identity)
            return InvertedResidualBlock(expand: expand, depthwise: depthwise, se: nil, project: project, residual: s.residual)
        }
        let lastIndex = Architecture.returnedModules[1]
        let last = convNorm("\(prefix).\(lastIndex).0", "\(prefix).\(lastIndex).1", settings[settings.count - 1].outChannels,
                        Architecture.lastChannels(widthMultiplier: m), 1, .relu6)
        return MobileNetBody(executor: e, first: first, blocks: blocks, last: last,
                             returnedBlock: Architecture.returnedModules[0])
    }
}
