// Activation derivatives with PyTorch's conventions at the kinks (checked against
// torch 2.x autograd): gradX = dY * act'(x), where x is the activation's input.
//   relu:        x > 0 ? 1 : 0, NaN passes dY (threshold_backward on the output: out <= 0 -> 0)
//   relu6:       0 < x < 6 ? 1 : 0 (0 at both kinks and for NaN)
//   hardswish:   x <= -3 ? 0 : (x >= 3 ? 1 : x / 3 + 0.5) (0 at -3, 1 at 3, NaN for NaN)
//   hardsigmoid: -3 < x < 3 ? 1/6 : 0
//   sigmoid:     dY * (1 - y) * y with y = sigmoid(x), in that order (sigmoid_backward)

import Foundation

public protocol ActivationDerivative {
    /// dY * act'(x).
    static func backward(_ x: Float, _ dy: Float) -> Float
}

extension IdentityActivation: ActivationDerivative {
    @inlinable @inline(__always) public static func backward(_ x: Float, _ dy: Float) -> Float { dy }
}

extension ReluActivation: ActivationDerivative {
    @inlinable @inline(__always) public static func backward(_ x: Float, _ dy: Float) -> Float { x <= 0 ? 0 : dy }
}

extension Relu6Activation: ActivationDerivative {
    @inlinable @inline(__always) public static func backward(_ x: Float, _ dy: Float) -> Float {
        x > 0 && x < 6 ? dy : 0
    }
}

extension HardswishActivation: ActivationDerivative {
    @inlinable @inline(__always) public static func backward(_ x: Float, _ dy: Float) -> Float {
        x <= -3 ? 0 : (x >= 3 ? dy : dy * (x / 3 + 0.5))
    }
}

extension HardsigmoidActivation: ActivationDerivative {
    @inlinable @inline(__always) public static func backward(_ x: Float, _ dy: Float) -> Float {
        x > -3 && x < 3 ? dy * (1 / 6 as Float) : 0
    }
}

extension SigmoidActivation: ActivationDerivative {
    @inlinable @inline(__always) public static func backward(_ x: Float, _ dy: Float) -> Float {
        let y = 1 / (1 + expf(-x))
        return dy * (1 - y) * y
    }
}

extension KernelActivation {
    /// Scalar dY * act'(x), used by reference code and tests.
    @inlinable
    public func backward(_ x: Float, _ dy: Float) -> Float {
        switch self {
        case .identity: return dy
        case .relu: return ReluActivation.backward(x, dy)
        case .relu6: return Relu6Activation.backward(x, dy)
        case .hardswish: return HardswishActivation.backward(x, dy)
        case .hardsigmoid: return HardsigmoidActivation.backward(x, dy)
        case .sigmoid: return SigmoidActivation.backward(x, dy)
        }
    }
}

@inlinable @inline(__always)
func activationBackwardRange<A: ActivationDerivative>(
    _: A.Type, _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
    _ range: Range<Int>, accumulate: Bool
) {
    if accumulate {
        for i in range { dx[i] += A.backward(x[i], dy[i]) }
    } else {
        for i in range { dx[i] = A.backward(x[i], dy[i]) }
    }
}

/// gradX[i] (=, or += when `accumulate`) dY[i] * act'(x[i]); x is the activation's
/// input (pre-activation). `gradX` may alias `gradOutput` when not accumulating.
public func activationBackward(
    input x: UnsafePointer<Float>, gradOutput dy: UnsafePointer<Float>, gradInput dx: UnsafeMutablePointer<Float>,
    count: Int, activation: KernelActivation, accumulate: Bool = false,
    threads: KernelThreads
) {
    threads.parallelRanges(count, serialThreshold: 1 << 16) { r in
        switch activation {
        case .identity: activationBackwardRange(IdentityActivation.self, x, dy, dx, r, accumulate: accumulate)
        case .relu: activationBackwardRange(ReluActivation.self, x, dy, dx, r, accumulate: accumulate)
        case .relu6: activationBackwardRange(Relu6Activation.self, x, dy, dx, r, accumulate: accumulate)
        case .hardswish: activationBackwardRange(HardswishActivation.self, x, dy, dx, r, accumulate: accumulate)
        case .hardsigmoid: activationBackwardRange(HardsigmoidActivation.self, x, dy, dx, r, accumulate: accumulate)
        case .sigmoid: activationBackwardRange(SigmoidActivation.self, x, dy, dx, r, accumulate: accumulate)
        }
    }
}
