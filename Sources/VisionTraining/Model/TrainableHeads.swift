// The trainable FPN, RPN head and box head + predictor, keyed as torchvision's
// backbone.fpn.*, rpn.head.*, roi_heads.box_head.* and roi_heads.box_predictor.*.

import VisionCore
import VisionDetection
import VisionKernels

/// FeaturePyramidNetwork (v1: convs with bias) with LastLevelMaxPool.
final class TrainableFPN {
    let inner: [ConvUnit]
    let layer: [ConvUnit]

    init(_ p: ModelParameters, prefix: String, inChannels: [Int], channels: Int) {
        // torchvision's FPN init: kaiming_uniform_(a=1), bias 0.
        inner = inChannels.enumerated().map { i, c in
            ConvUnit(p, conv: "\(prefix).inner_blocks.\(i).0", inChannels: c, outChannels: channels, kernel: 1,
                     bias: true, trainable: true, initializer: .kaimingUniform(a: 1))
        }
        layer = inChannels.indices.map { i in
            ConvUnit(p, conv: "\(prefix).layer_blocks.\(i).0", inChannels: channels, outChannels: channels, kernel: 3,
                     bias: true, trainable: true, initializer: .kaimingUniform(a: 1))
        }
    }

    /// Body maps (increasing stride) -> P levels then "pool" (P_last[::2, ::2]).
    func callAsFunction(_ features: [Variable], tape: Tape) -> [Variable] {
        let n = features.count
        var lastInner = inner[n - 1](features[n - 1], tape: tape)
        var results = [layer[n - 1](lastInner, tape: tape)]
        for idx in stride(from: n - 2, through: 0, by: -1) {
            let lateral = inner[idx](features[idx], tape: tape)
            let topDown = tape.upsampleNearest(lastInner, height: lateral.shape[2], width: lateral.shape[3])
            lastInner = tape.add(lateral, topDown)
            results.insert(layer[idx](lastInner, tape: tape), at: 0)
        }
        results.append(tape.maxPool2d(results[n - 1], kernel: 1, stride: 2))
        return results
    }
}

/// RPNHead (v1: one 3x3 conv + ReLU shared over levels, then 1x1 logits and deltas).
final class TrainableRPNHead {
    let conv: ConvUnit
    let logits: ConvUnit
    let deltas: ConvUnit

    init(_ p: ModelParameters, channels: Int, anchors: Int) {
        // torchvision's RPNHead init: normal std 0.01, bias 0.
        conv = ConvUnit(p, conv: "rpn.head.conv.0.0", inChannels: channels, outChannels: channels, kernel: 3, bias: true,
                        activation: .relu, trainable: true, initializer: .normal(std: 0.01))
        logits = ConvUnit(p, conv: "rpn.head.cls_logits", inChannels: channels, outChannels: anchors, kernel: 1,
                          bias: true, trainable: true, initializer: .normal(std: 0.01))
        deltas = ConvUnit(p, conv: "rpn.head.bbox_pred", inChannels: channels, outChannels: 4 * anchors, kernel: 1,
                          bias: true, trainable: true, initializer: .normal(std: 0.01))
    }

    /// Per level: (logits [N, A, H, W], deltas [N, 4A, H, W]).
    func callAsFunction(_ features: [Variable], tape: Tape) -> [(Variable, Variable)] {
        features.map { x in
            let t = conv(x, tape: tape)
            return (logits(t, tape: tape), deltas(t, tape: tape))
        }
    }
}

/// TwoMLPHead + FastRCNNPredictor.
final class TrainableBoxHead {
    let fc6: LinearUnit, fc7: LinearUnit
    let classifier: LinearUnit, regressor: LinearUnit

    init(_ p: ModelParameters, pooledFeatures: Int, representation: Int, numClasses: Int) {
        fc6 = LinearUnit(p, prefix: "roi_heads.box_head.fc6", inFeatures: pooledFeatures, outFeatures: representation,
                         activation: .relu)
        fc7 = LinearUnit(p, prefix: "roi_heads.box_head.fc7", inFeatures: representation, outFeatures: representation,
                         activation: .relu)
        // A re-initialised predictor: normal std 0.01 (scores) / 0.001 (deltas), bias 0.
        classifier = LinearUnit(p, prefix: "roi_heads.box_predictor.cls_score", inFeatures: representation,
                                outFeatures: numClasses, initializer: .normal(std: 0.01), biasInitializer: .constant(0))
        regressor = LinearUnit(p, prefix: "roi_heads.box_predictor.bbox_pred", inFeatures: representation,
                               outFeatures: 4 * numClasses, initializer: .normal(std: 0.001), biasInitializer: .constant(0))
    }

    /// pooled [K, C, S, S] -> (class logits [K, classes], box deltas [K, 4 * classes]).
    func callAsFunction(_ pooled: Variable, tape: Tape) -> (Variable, Variable) {
        let x = fc7(fc6(pooled, tape: tape), tape: tape)
        return (classifier(x, tape: tape), regressor(x, tape: tape))
    }
}
