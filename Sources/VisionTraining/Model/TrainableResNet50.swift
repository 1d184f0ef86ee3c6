// torchvision's ResNet-50 body (keys backbone.body.conv1 / bn1 / layer1..layer4, the
// stride on each first bottleneck's 3x3 conv2 as in ResNet v1.5) as a trainable graph
// with FrozenBatchNorm2d, returning the layer1..layer4 outputs as torchvision's
// resnet_fpn_backbone does. Widths and block counts come from the config, so the
// reduced-width test fixture builds with the same code as the real model.

import VisionCore
import VisionDetection
import VisionKernels

final class TrainableResNet50Body: TrainableBody {
    /// torchvision's resnet_fpn_backbone: K trainable layers train
    /// ["layer4", "layer3", "layer2", "layer1", "conv1"][..<K]; bn1 is a frozen batch norm either way.
    static let trainableLayerRange = 0...5

    /// Whether `layer` (1...4, or 0 for the stem conv1) trains with K trainable layers.
    static func isTrainable(layer: Int, trainableLayers k: Int) -> Bool {
        layer == 0 ? k >= 5 : k >= 5 - layer
    }

    /// Output channels of layer1..layer4 (4x the bottleneck widths).
    static func outChannels(_ config: ModelConfig) -> [Int] { config.resnetWidths.map { $0 * 4 } }

    /// 1x1 reduce -> 3x3 (stride) -> 1x1 expand, + identity (or the 1x1 downsample), ReLU.
    struct Bottleneck {
        let conv1: ConvUnit, conv2: ConvUnit, conv3: ConvUnit
        let downsample: ConvUnit?
    }

    let stem: ConvUnit
    let layers: [[Bottleneck]]

    init(_ p: ModelParameters, prefix: String, config: ModelConfig, trainableLayers: Int) {
        let eps = config.batchNormEps
        stem = ConvUnit(p, conv: "\(prefix).conv1", bn: "\(prefix).bn1", bnEps: eps, inChannels: 3,
                        outChannels: config.resnetStemChannels, kernel: 7, stride: 2, activation: .relu,
                        trainable: Self.isTrainable(layer: 0, trainableLayers: trainableLayers))
        var inChannels = config.resnetStemChannels
        var layers: [[Bottleneck]] = []
        for (layerIndex, blockCount) in config.resnetBlocks.enumerated() {
            let width = config.resnetWidths[layerIndex], outChannels = width * 4
            let trainable = Self.isTrainable(layer: layerIndex + 1, trainableLayers: trainableLayers)
            var blocks: [Bottleneck] = []
            for b in 0..<blockCount {
                let q = "\(prefix).layer\(layerIndex + 1).\(b)"
                let stride = (b == 0 && layerIndex > 0) ? 2 : 1
                func conv(_ n: Int, _ cin: Int, _ cout: Int, _ k: Int, _ s: Int, _ act: KernelActivation) -> ConvUnit {
                    ConvUnit(p, conv: "\(q).conv\(n)", bn: "\(q).bn\(n)", bnEps: eps, inChannels: cin, outChannels: cout,
                             kernel: k, stride: s, activation: act, trainable: trainable)
                }
                // Registration order is torchvision's: conv1, bn1, conv2, bn2, conv3, bn3, downsample.
                let c1 = conv(1, inChannels, width, 1, 1, .relu)
                let c2 = conv(2, width, width, 3, stride, .relu)
                let c3 = conv(3, width, outChannels, 1, 1, .identity)
                let downsample = b == 0
                    ? ConvUnit(p, conv: "\(q).downsample.0", bn: "\(q).downsample.1", bnEps: eps, inChannels: inChannels,
                               outChannels: outChannels, kernel: 1, stride: stride, trainable: trainable)
                    : nil
                blocks.append(Bottleneck(conv1: c1, conv2: c2, conv3: c3, downsample: downsample))
                inChannels = outChannels
            }
            layers.append(blocks)
        }
        self.layers = layers
    }

    /// images [N, 3, H, W] -> layer1..layer4 outputs [N, 4w_i, H/4 .. H/32, W/4 .. W/32].
    func callAsFunction(_ images: Variable, tape: Tape) -> [Variable] {
        var x = tape.maxPool2d(stem(images, tape: tape), kernel: 3, stride: 2, padding: 1)
        var outputs: [Variable] = []
        for blocks in layers {
            for b in blocks {
                let identity = b.downsample.map { $0(x, tape: tape) } ?? x
                let y = b.conv3(b.conv2(b.conv1(x, tape: tape), tape: tape), tape: tape)
                x = tape.relu(tape.add(y, identity))
            }
            outputs.append(x)
        }
        return outputs
    }
}
