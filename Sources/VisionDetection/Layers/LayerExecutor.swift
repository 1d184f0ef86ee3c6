// One op set, several executors (tinygrad's idea): every architecture (backbone
// bodies, FPN, RPN head, box heads, predictor) is written once, generic over a
// LayerExecutor, and runs unchanged for inference (InferenceExecutor: Tensors,
// prepared weights on a ComputeBackend) and for training (VisionTraining's
// TrainingExecutor: tape Variables with gradients).
//
// Layouts: feature maps are NCHW; linear inputs [N, in] (a 4-D input is flattened
// in C, H, W order first), linear weights [out, in].

import VisionCore

public protocol LayerExecutor: AnyObject {
    /// What flows between layers: a Tensor at inference, a tape Variable in training.
    associatedtype Value
    /// A conv (+ norm) (+ activation) built from a ConvSpec.
    associatedtype ConvLayer
    /// A linear (+ activation) built from a LinearSpec.
    associatedtype LinearLayer

    /// Binds the spec's parameters by name (loading, checking, initialising as the executor does).
    func makeConv(_ spec: ConvSpec) -> ConvLayer
    func makeLinear(_ spec: LinearSpec) -> LinearLayer

    /// x [N, in, H, W] -> [N, out, H', W'].
    func conv(_ layer: ConvLayer, _ x: Value) -> Value
    /// activation(conv(layer, x) + residual), residual shaped like the conv's output: the
    /// conv of a residual add (an executor may fuse the add into the conv; the default in
    /// the extension below runs conv then add).
    func conv(_ layer: ConvLayer, _ x: Value, adding residual: Value, activation: Activation) -> Value
    /// An inverted-residual block without squeeze-excitation: [expand] -> depthwise ->
    /// project (+ x when `addsInput`, added to the project conv's raw output). An executor
    /// may fuse it; the default (extension below) is the three convs.
    func invertedResidual(expand: ConvLayer?, depthwise: ConvLayer, project: ConvLayer, _ x: Value, addsInput: Bool) -> Value
    /// x [N, in] or [N, C, H, W] -> [N, out].
    func linear(_ layer: LinearLayer, _ x: Value) -> Value
    /// a + b (same shape), then the activation.
    func add(_ a: Value, _ b: Value, activation: Activation) -> Value
    /// PyTorch max_pool2d (floor mode).
    func maxPool2d(_ x: Value, kernel: Int, stride: Int, padding: Int) -> Value
    /// [N, C, H, W] -> [N, C, 1, 1].
    func globalAveragePool(_ x: Value) -> Value
    /// x [N, C, H, W] times scale [N, C, 1, 1].
    func scaleChannels(_ x: Value, by scale: Value) -> Value
    /// PyTorch's "nearest" resize to (height, width).
    func upsampleNearest(_ x: Value, height: Int, width: Int) -> Value
    func shape(of x: Value) -> [Int]
}

extension LayerExecutor {
    public func invertedResidual(expand: ConvLayer?, depthwise: ConvLayer, project: ConvLayer, _ x: Value,
                                 addsInput: Bool) -> Value {
        var y = expand.map { conv($0, x) } ?? x
        y = conv(depthwise, y)
        return addsInput ? conv(project, y, adding: x, activation: .identity) : conv(project, y)
    }

    public func conv(_ layer: ConvLayer, _ x: Value, adding residual: Value, activation: Activation) -> Value {
        add(conv(layer, x), residual, activation: activation)
    }
}
