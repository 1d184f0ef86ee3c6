// torchvision's Conv2dNormActivation (and plain convs / linears) built from named
// parameters in a ModelParameters registry, so the keys stay torchvision's.

import VisionCore
import VisionKernels

/// conv2d [-> FrozenBatchNorm2d as a constant channel affine] [-> activation].
public final class ConvUnit {
    public let weight: Variable
    public let bias: Variable?
    public let batchNorm: FrozenBatchNorm?
    public let stride: Int, padding: Int, groups: Int
    public let activation: KernelActivation

    /// Registers `<conv>.weight` [cout, cin/groups, k, k] (+ `<conv>.bias` when `bias`) and,
    /// when `bn` is given, the frozen batch norm `<bn>.{weight,bias,running_mean,running_var}`.
    public init(_ p: ModelParameters, conv: String, bn: String? = nil, bnEps: Float = 1e-5,
                inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, groups: Int = 1,
                bias: Bool = false, activation: KernelActivation = .identity, trainable: Bool,
                initializer: ParameterInit = .kaimingNormalFanOut, biasInitializer: ParameterInit = .constant(0)) {
        weight = p.parameter("\(conv).weight", shape: [outChannels, inChannels / groups, kernel, kernel],
                             initializer: initializer, trainable: trainable)
        self.bias = bias ? p.parameter("\(conv).bias", shape: [outChannels], initializer: biasInitializer, trainable: trainable) : nil
        if let bn {
            let c = [outChannels]
            batchNorm = FrozenBatchNorm(weight: p.buffer("\(bn).weight", shape: c, fill: 1),
                                        bias: p.buffer("\(bn).bias", shape: c, fill: 0),
                                        runningMean: p.buffer("\(bn).running_mean", shape: c, fill: 0),
                                        runningVar: p.buffer("\(bn).running_var", shape: c, fill: 1), eps: bnEps)
        } else {
            batchNorm = nil
        }
        self.stride = stride
        self.padding = (kernel - 1) / 2
        self.groups = groups
        self.activation = activation
    }

    /// x [N, cin, H, W] -> [N, cout, H', W'].
    public func callAsFunction(_ x: Variable, tape: Tape) -> Variable {
        var y = tape.conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding, groups: groups)
        if let bn = batchNorm { y = tape.channelAffine(y, scale: bn.scale, shift: bn.shift) }
        return tape.activation(y, activation)
    }
}

/// nn.Linear, weight [out, in], then an activation.
public final class LinearUnit {
    public let weight: Variable
    public let bias: Variable
    public let activation: KernelActivation

    public init(_ p: ModelParameters, prefix: String, inFeatures: Int, outFeatures: Int,
                activation: KernelActivation = .identity, trainable: Bool = true,
                initializer: ParameterInit? = nil, biasInitializer: ParameterInit? = nil) {
        // nn.Linear's defaults: kaiming_uniform_(a=sqrt(5)) and uniform(+-1/sqrt(in)).
        weight = p.parameter("\(prefix).weight", shape: [outFeatures, inFeatures],
                             initializer: initializer ?? .kaimingUniform(a: Float(5).squareRoot()), trainable: trainable)
        bias = p.parameter("\(prefix).bias", shape: [outFeatures],
                           initializer: biasInitializer ?? .uniformFanIn(inFeatures), trainable: trainable)
        self.activation = activation
    }

    /// x [N, in] (or [N, C, H, W], flattened) -> [N, out].
    public func callAsFunction(_ x: Variable, tape: Tape) -> Variable {
        tape.activation(tape.linear(x, weight: weight, bias: bias), activation)
    }
}
