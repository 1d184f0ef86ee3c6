// torchvision's mobilenet_v2 `features` (keys backbone.body.<i>...) as a trainable
// graph with FrozenBatchNorm2d, returning the outputs of features[13] (stride 16) and
// features[18] (stride 32): the body of fasterrcnn_mobilenet_v2_fpn (see
// VisionDetection's MobileNetV2Architecture for the layout and why those two maps).

import VisionCore
import VisionDetection
import VisionKernels

final class TrainableMobileNetV2Body: TrainableBody {
    typealias Architecture = MobileNetV2Architecture

    /// With `trainableLayers` K (0...6) the modules features[0 ..< stageIndices[6 - K]]
    /// are frozen (all 19 for K = 0), as torchvision's mobilenet_backbone does.
    static func freezeBefore(trainableLayers k: Int) -> Int {
        k == 0 ? 19 : Architecture.stageIndices[Architecture.stageIndices.count - k]
    }

    static func outChannels(_ config: ModelConfig) -> [Int] {
        Architecture.outChannels(widthMultiplier: config.mobilenetWidthMultiplier)
    }

    let first: ConvUnit
    let blocks: [TrainableInvertedResidual]
    let last: ConvUnit

    init(_ p: ModelParameters, prefix: String, config: ModelConfig, trainableLayers: Int) {
        let eps = config.batchNormEps, m = config.mobilenetWidthMultiplier
        let freezeBefore = Self.freezeBefore(trainableLayers: trainableLayers)
        let settings = Architecture.blocks(widthMultiplier: m)
        first = ConvUnit(p, conv: "\(prefix).0.0", bn: "\(prefix).0.1", bnEps: eps, inChannels: 3,
                         outChannels: Architecture.stemChannels(widthMultiplier: m), kernel: 3, stride: 2,
                         activation: .relu6, trainable: freezeBefore <= 0)
        blocks = settings.enumerated().map { i, s in
            let trainable = i + 1 >= freezeBefore
            let base = "\(prefix).\(i + 1).conv"
            // Sub-module indices shift by one when there is no expansion conv.
            let d = s.hasExpansion ? 1 : 0
            let expand = s.hasExpansion
                ? ConvUnit(p, conv: "\(base).0.0", bn: "\(base).0.1", bnEps: eps, inChannels: s.inChannels,
                           outChannels: s.expanded, kernel: 1, activation: .relu6, trainable: trainable)
                : nil
            let depthwise = ConvUnit(p, conv: "\(base).\(d).0", bn: "\(base).\(d).1", bnEps: eps, inChannels: s.expanded,
                                     outChannels: s.expanded, kernel: 3, stride: s.stride, groups: s.expanded,
                                     activation: .relu6, trainable: trainable)
            let project = ConvUnit(p, conv: "\(base).\(d + 1)", bn: "\(base).\(d + 2)", bnEps: eps, inChannels: s.expanded,
                                   outChannels: s.outChannels, kernel: 1, trainable: trainable)
            return TrainableInvertedResidual(expand: expand, depthwise: depthwise, fc1: nil, fc2: nil, project: project,
                                             residual: s.residual)
        }
        let c = Self.outChannels(config)
        last = ConvUnit(p, conv: "\(prefix).18.0", bn: "\(prefix).18.1", bnEps: eps, inChannels: settings[16].outChannels,
                        outChannels: c[1], kernel: 1, activation: .relu6, trainable: 18 >= freezeBefore)
    }

    /// images [N, 3, H, W] -> [features[13] output [N, 96m, H/16, W/16], features[18] output [N, 1280, H/32, W/32]].
    func callAsFunction(_ images: Variable, tape: Tape) -> [Variable] {
        var x = first(images, tape: tape)
        var outputs: [Variable] = []
        for (i, block) in blocks.enumerated() {
            x = block(x, tape: tape)
            if i + 1 == Architecture.returnedModules[0] { outputs.append(x) }
        }
        outputs.append(last(x, tape: tape))
        return outputs
    }
}
