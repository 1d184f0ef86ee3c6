// The training executor's layers: a ConvSpec / LinearSpec bound to named parameters
// in a ModelParameters registry (loaded or initialised), run on the tape.

import VisionCore
import VisionDetection

/// A frozen batch norm as torchvision's FrozenBatchNorm2d computes it:
/// scale = weight * rsqrt(running_var + eps), shift = bias - running_mean * scale.
public struct FrozenBatchNorm: Sendable {
    public let scale: Tensor
    public let shift: Tensor

    public init(weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor, eps: Float = 1e-5) {
        let c = weight.count
        precondition(bias.count == c && runningMean.count == c && runningVar.count == c, "FrozenBatchNorm: mismatched statistics")
        let s = Tensor(uninitializedShape: [c]), b = Tensor(uninitializedShape: [c])
        for i in 0..<c {
            let k = weight[flat: i] * (1 / (runningVar[flat: i] + eps).squareRoot())
            s[flat: i] = k
            b[flat: i] = bias[flat: i] - runningMean[flat: i] * k
        }
        scale = s
        shift = b
    }
}

/// conv2d [-> FrozenBatchNorm2d as a constant channel affine] [-> activation].
public final class ConvUnit {
    public let weight: Variable
    public let bias: Variable?
    public let batchNorm: FrozenBatchNorm?
    public let spec: ConvSpec

    /// Registers `<conv>.weight` (+ `<conv>.bias`) as parameters that train when `trainable`,
    /// and the batch norm's four tensors as frozen buffers.
    init(_ p: ModelParameters, _ spec: ConvSpec, trainable: Bool) {
        self.spec = spec
        weight = p.parameter("\(spec.conv).weight", shape: spec.weightShape, initializer: spec.weightInit, trainable: trainable)
        bias = spec.bias
            ? p.parameter("\(spec.conv).bias", shape: [spec.outChannels], initializer: spec.biasInit, trainable: trainable)
            : nil
        if let bn = spec.batchNorm {
            let c = [spec.outChannels]
            batchNorm = FrozenBatchNorm(weight: p.buffer("\(bn).weight", shape: c, fill: 1),
                                        bias: p.buffer("\(bn).bias", shape: c, fill: 0),
                                        runningMean: p.buffer("\(bn).running_mean", shape: c, fill: 0),
                                        runningVar: p.buffer("\(bn).running_var", shape: c, fill: 1), eps: spec.batchNormEps)
        } else {
            batchNorm = nil
        }
    }

    /// x [N, cin, H, W] -> [N, cout, H', W'].
    func callAsFunction(_ x: Variable, tape: Tape) -> Variable {
        var y = tape.conv2d(x, weight: weight, bias: bias, stride: spec.stride, padding: spec.padding,
                            dilation: spec.dilation, groups: spec.groups)
        if let bn = batchNorm { y = tape.channelAffine(y, scale: bn.scale, shift: bn.shift) }
        return tape.activation(y, spec.activation)
    }
}

/// nn.Linear, weight [out, in], then an activation.
public final class LinearUnit {
    public let weight: Variable
    public let bias: Variable
    public let activation: Activation

    init(_ p: ModelParameters, _ spec: LinearSpec, trainable: Bool) {
        weight = p.parameter("\(spec.prefix).weight", shape: [spec.outFeatures, spec.inFeatures],
                             initializer: spec.weightInit, trainable: trainable)
        bias = p.parameter("\(spec.prefix).bias", shape: [spec.outFeatures], initializer: spec.biasInit, trainable: trainable)
        activation = spec.activation
    }

    /// x [N, in] (or [N, C, H, W], flattened) -> [N, out].
    func callAsFunction(_ x: Variable, tape: Tape) -> Variable {
        tape.activation(tape.linear(x, weight: weight, bias: bias), activation)
    }
}
