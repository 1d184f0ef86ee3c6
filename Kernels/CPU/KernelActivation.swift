// Activations as the kernels see them. VisionKernels cannot import VisionCore,
// so VisionCore maps its `Activation` onto `KernelActivation` one-to-one.
//
// Each activation is also a zero-size type conforming to `ActivationFunction`:
// hot loops are generic over it, so the switch on the activation happens once
// per call and every loop body is specialised (and vectorised) per activation.

import Foundation

public enum KernelActivation: Int, Sendable, CaseIterable {
    case identity = 0
    case relu
    case relu6
    /// x * relu6(x + 3) / 6
    case hardswish
    /// relu6(x + 3) / 6
    case hardsigmoid
    case sigmoid

    /// Scalar form, used by the reference kernels.
    @inlinable
    public func apply(_ x: Float) -> Float {
        switch self {
        case .identity: return x
        case .relu: return ReluActivation.apply(x)
        case .relu6: return Relu6Activation.apply(x)
        case .hardswish: return HardswishActivation.apply(x)
        case .hardsigmoid: return HardsigmoidActivation.apply(x)
        case .sigmoid: return SigmoidActivation.apply(x)
        }
    }
}

public protocol ActivationFunction {
    static func apply(_ x: Float) -> Float
}

public enum IdentityActivation: ActivationFunction {
    @inlinable @inline(__always) public static func apply(_ x: Float) -> Float { x }
}

/// NaN passes through, as torch.relu does.
public enum ReluActivation: ActivationFunction {
    @inlinable @inline(__always) public static func apply(_ x: Float) -> Float { x < 0 ? 0 : x }
}

public enum Relu6Activation: ActivationFunction {
    @inlinable @inline(__always) public static func apply(_ x: Float) -> Float {
        let r: Float = x < 0 ? 0 : x
        return r > 6 ? 6 : r
    }
}

/// Same operation order as ATen's CPU kernel: x * min(max(x + 3, 0), 6) / 6.
public enum HardswishActivation: ActivationFunction {
    @inlinable @inline(__always) public static func apply(_ x: Float) -> Float {
        x * Relu6Activation.apply(x + 3) / 6
    }
}

public enum HardsigmoidActivation: ActivationFunction {
    @inlinable @inline(__always) public static func apply(_ x: Float) -> Float {
        Relu6Activation.apply(x + 3) / 6
    }
}

public enum SigmoidActivation: ActivationFunction {
    @inlinable @inline(__always) public static func apply(_ x: Float) -> Float {
        1 / (1 + expf(-x))
    }
}
