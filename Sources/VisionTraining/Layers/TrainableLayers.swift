// Layers that hold trainable parameters as leaf Variables. Forward records onto a
// tape; the tape's backward fills each parameter's `grad`, which an optimizer reads.

import VisionCore
import VisionKernels

/// Anything with trainable parameters.
public protocol ParameterContainer {
    /// Every trainable parameter, in a stable order.
    var parameters: [Variable] { get }
}

extension ParameterContainer {
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }
}

/// A frozen batch norm as torchvision's FrozenBatchNorm2d computes it:
/// scale = weight * rsqrt(running_var + eps), shift = bias - running_mean * scale.
public struct FrozenBatchNorm: Sendable {
    public let scale: Tensor
    public let shift: Tensor

    public init(scale: Tensor, shift: Tensor) {
        precondition(scale.count == shift.count, "FrozenBatchNorm: scale \(scale.shape) and shift \(shift.shape)")
        self.scale = scale
        self.shift = shift
    }

    public init(weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor, eps: Float = 1e-5) {
        let c = weight.count
        precondition(bias.count == c && runningMean.count == c && runningVar.count == c, "FrozenBatchNorm: mismatched statistics")
        let s = Tensor(uninitializedShape: [c]), b = Tensor(uninitializedShape: [c])
        for i in 0..<c {
            let k = weight[flat: i] * (1 / (runningVar[flat: i] + eps).squareRoot())
            s[flat: i] = k
            b[flat: i] = bias[flat: i] - runningMean[flat: i] * k
        }
        self.init(scale: s, shift: b)
    }
}

/// conv2d -> optional frozen batch norm -> activation, as torchvision's Conv2dNormActivation.
public final class Conv2DLayer: ParameterContainer {
    public let weight: Variable
    public let bias: Variable?
    public let batchNorm: FrozenBatchNorm?
    public let stride: Int, padding: Int, dilation: Int, groups: Int
    public let activation: KernelActivation

    /// weight [Cout, Cin/groups, kH, kW]; bias [Cout]. Trainable unless `trainable` is false.
    public init(weight: Tensor, bias: Tensor? = nil, batchNorm: FrozenBatchNorm? = nil, stride: Int = 1,
                padding: Int? = nil, dilation: Int = 1, groups: Int = 1, activation: KernelActivation = .identity,
                trainable: Bool = true) {
        precondition(weight.rank == 4, "Conv2DLayer: weight must be [Cout, Cin/groups, kH, kW], got \(weight.shape)")
        self.weight = Variable(weight, requiresGrad: trainable)
        self.bias = bias.map { Variable($0, requiresGrad: trainable) }
        self.batchNorm = batchNorm
        self.stride = stride
        self.padding = padding ?? (weight.shape[2] - 1) / 2 * dilation
        self.dilation = dilation
        self.groups = groups
        self.activation = activation
    }

    public var parameters: [Variable] {
        ([weight] + (bias.map { [$0] } ?? [])).filter(\.requiresGrad)
    }

    public func callAsFunction(_ x: Variable, tape: Tape) -> Variable {
        var y = tape.conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding,
                            dilation: dilation, groups: groups)
        if let bn = batchNorm { y = tape.channelAffine(y, scale: bn.scale, shift: bn.shift) }
        return tape.activation(y, activation)
    }
}

/// Fully connected layer, weight [out, in], then an activation.
public final class LinearLayer: ParameterContainer {
    public let weight: Variable
    public let bias: Variable?
    public let activation: KernelActivation

    public init(weight: Tensor, bias: Tensor?, activation: KernelActivation = .identity, trainable: Bool = true) {
        precondition(weight.rank == 2, "LinearLayer: weight must be [out, in], got \(weight.shape)")
        self.weight = Variable(weight, requiresGrad: trainable)
        self.bias = bias.map { Variable($0, requiresGrad: trainable) }
        self.activation = activation
    }

    public var parameters: [Variable] {
        ([weight] + (bias.map { [$0] } ?? [])).filter(\.requiresGrad)
    }

    public func callAsFunction(_ x: Variable, tape: Tape) -> Variable {
        tape.activation(tape.linear(x, weight: weight, bias: bias), activation)
    }
}
