// torchvision's mobilenet_v3_large `features` (keys backbone.body.<i>...) as a
// trainable graph with FrozenBatchNorm2d, returning the outputs of features[13]
// and features[16] as torchvision's mobilenet_backbone(fpn=True) does.

import VisionCore
import VisionDetection
import VisionKernels

final class TrainableMobileNetV3Body: TrainableBody {
    typealias Architecture = MobileNetV3LargeArchitecture

    /// Indices of `features` that start a stage (torchvision's stage_indices: the stem,
    /// every block with stride > 1, the last conv): [0, 2, 4, 7, 13, 16].
    static let stageIndices: [Int] = [0] + Architecture.settings.enumerated().filter { $0.element.stride > 1 }.map { $0.offset + 1 } + [16]

    /// torchvision's mobilenet_backbone: with `trainableLayers` K (0...6) the modules
    /// features[0 ..< stageIndices[6 - K]] are frozen (all of them for K = 0).
    static func freezeBefore(trainableLayers k: Int) -> Int {
        k == 0 ? 17 : stageIndices[stageIndices.count - k]
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
        first = ConvUnit(p, conv: "\(prefix).0.0", bn: "\(prefix).0.1", bnEps: eps, inChannels: 3,
                         outChannels: Architecture.adjust(16, m), kernel: 3, stride: 2, activation: .hardswish,
                         trainable: freezeBefore <= 0)
        var blocks: [TrainableInvertedResidual] = []
        for (i, u) in Architecture.settings.enumerated() {
            let cin = Architecture.adjust(u.inChannels, m), exp = Architecture.adjust(u.expanded, m), cout = Architecture.adjust(u.outChannels, m)
            let trainable = i + 1 >= freezeBefore
            let act: KernelActivation = u.hardswish ? .hardswish : .relu
            let base = "\(prefix).\(i + 1).block"
            var j = 0
            func next() -> String { defer { j += 1 }; return "\(base).\(j)" }
            var expand: ConvUnit?
            if exp != cin {
                let q = next()
                expand = ConvUnit(p, conv: "\(q).0", bn: "\(q).1", bnEps: eps, inChannels: cin, outChannels: exp,
                                  kernel: 1, activation: act, trainable: trainable)
            }
            let dq = next()
            let depthwise = ConvUnit(p, conv: "\(dq).0", bn: "\(dq).1", bnEps: eps, inChannels: exp, outChannels: exp,
                                     kernel: u.kernel, stride: u.stride, groups: exp, activation: act, trainable: trainable)
            var fc1: ConvUnit?, fc2: ConvUnit?
            if u.useSE {
                let q = next()
                let squeeze = Architecture.squeezeChannels(exp)
                fc1 = ConvUnit(p, conv: "\(q).fc1", inChannels: exp, outChannels: squeeze, kernel: 1, bias: true,
                               activation: .relu, trainable: trainable)
                fc2 = ConvUnit(p, conv: "\(q).fc2", inChannels: squeeze, outChannels: exp, kernel: 1, bias: true,
                               activation: .hardsigmoid, trainable: trainable)
            }
            let pq = next()
            let project = ConvUnit(p, conv: "\(pq).0", bn: "\(pq).1", bnEps: eps, inChannels: exp, outChannels: cout,
                                   kernel: 1, trainable: trainable)
            blocks.append(TrainableInvertedResidual(expand: expand, depthwise: depthwise, fc1: fc1, fc2: fc2, project: project,
                                residual: u.stride == 1 && cin == cout))
        }
        self.blocks = blocks
        let c = Self.outChannels(config)
        last = ConvUnit(p, conv: "\(prefix).16.0", bn: "\(prefix).16.1", bnEps: eps, inChannels: c[0], outChannels: c[1],
                        kernel: 1, activation: .hardswish, trainable: 16 >= freezeBefore)
    }

    /// images [N, 3, H, W] -> [features[13] output, features[16] output].
    func callAsFunction(_ images: Variable, tape: Tape) -> [Variable] {
        var x = first(images, tape: tape)
        var outputs: [Variable] = []
        for (i, block) in blocks.enumerated() {
            x = block(x, tape: tape)
            if i + 1 == 13 { outputs.append(x) }
        }
        outputs.append(last(x, tape: tape))
        return outputs
    }
}
