import VisionCore

// The MobileNet building block, shared by MobileNetV3LargeBody and MobileNetV2Body
// (V2's blocks have no squeeze-excitation).

/// Squeeze-excitation: mean over HxW -> 1x1 conv -> ReLU -> 1x1 conv -> Hardsigmoid -> scale.
struct SqueezeExcitation {
    let fc1: Conv, fc2: Conv
    let backend: ComputeBackend
    func callAsFunction(_ x: Tensor) -> Tensor {
        backend.scaleChannels(x, by: fc2(fc1(backend.globalAveragePool(x))))
    }
}

/// Inverted residual: [expand 1x1] -> depthwise kxk -> [SE] -> project 1x1 (+ input).
/// Activations are fused into the convs; x [N, Cin, H, W] -> [N, Cout, H/stride, W/stride].
struct InvertedResidualBlock {
    let expand: Conv?, depthwise: Conv, se: SqueezeExcitation?, project: Conv
    let residual: Bool
    let backend: ComputeBackend
    func callAsFunction(_ x: Tensor) -> Tensor {
        var y = expand.map { $0(x) } ?? x
        y = depthwise(y)
        if let se { y = se(y) }
        y = project(y)
        return residual ? backend.add(y, x, activation: .identity) : y
    }
}
