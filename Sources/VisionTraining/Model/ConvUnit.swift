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

/// The batch norm after a conv: frozen (a constant channel affine) or live (BatchNorm2d in
/// training mode, LiveBatchNorm.swift).
public enum ConvNormalization {
    case frozen(FrozenBatchNorm)
    case live(LiveBatchNorm)
}

/// conv2d [-> batch norm] [-> activation].
public final class ConvUnit {
    public let weight: Variable
    public let bias: Variable?
    public let normalization: ConvNormalization?
    public let spec: ConvSpec

    /// Registers `<conv>.weight` (+ `<conv>.bias`) as parameters that train when `trainable`.
    /// The batch norm's four tensors are frozen buffers, unless `liveBatchNorm`: then its
    /// weight and bias are parameters (training when `normTrainable`) and its running
    /// statistics (+ num_batches_tracked) buffers updated by every forward pass.
    init(_ p: ModelParameters, _ spec: ConvSpec, trainable: Bool, liveBatchNorm: Bool, normTrainable: Bool) {
        self.spec = spec
        weight = p.parameter("\(spec.conv).weight", shape: spec.weightShape, initializer: spec.weightInit, trainable: trainable)
        bias = spec.bias
            ? p.parameter("\(spec.conv).bias", shape: [spec.outChannels], initializer: spec.biasInit, trainable: trainable)
            : nil
        guard let bn = spec.batchNorm else {
            normalization = nil
            return
        }
        let c = [spec.outChannels]
        if liveBatchNorm {
            normalization = .live(LiveBatchNorm(p, prefix: bn, channels: spec.outChannels, eps: spec.batchNormEps,
                                                trainable: normTrainable))
        } else {
            normalization = .frozen(FrozenBatchNorm(weight: p.buffer("\(bn).weight", shape: c, fill: 1),
                                                    bias: p.buffer("\(bn).bias", shape: c, fill: 0),
                                                    runningMean: p.buffer("\(bn).running_mean", shape: c, fill: 0),
                                                    runningVar: p.buffer("\(bn).running_var", shape: c, fill: 1),
                                                    eps: spec.batchNormEps))
        }
    }

    /// x [N, cin, H, W] -> [N, cout, H', W'].
    func callAsFunction(_ x: Variable, tape: Tape) -> Variable {
        var y = tape.conv2d(x, weight: weight, bias: bias, stride: spec.stride, padding: spec.padding,
                            dilation: spec.dilation, groups: spec.groups)
        switch normalization {
        case .frozen(let bn): y = tape.channelAffine(y, scale: bn.scale, shift: bn.shift)
        case .live(let bn): y = bn(y, tape: tape)
        case nil: break
        }
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
