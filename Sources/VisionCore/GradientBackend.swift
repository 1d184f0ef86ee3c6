// The training side of the compute seam. VisionTraining's autograd tape runs every
// forward op it records and every backward pass through a `GradientBackend`, never
// through kernels directly, so a GPU backend that implements this protocol (on top of
// `ComputeBackend`'s forward ops) trains without touching the tape or the models.
//
// Conventions (as in ComputeBackend): feature maps NCHW Float32; conv weights
// [Cout, Cin/groups, kH, kW]; linear weights [out, in]. Training weights change every
// step, so convs and linears take plain weight tensors here (nothing prepared).
// Every backward returns fresh tensors shaped like the forward inputs it differentiates;
// `gradOutput` always has the forward output's shape. A gradient the caller does not
// ask for (a frozen weight, a constant input) is not computed and comes back nil.
// The tape adds gradients that meet at one variable with `addGradients`.

public protocol GradientBackend: ComputeBackend {
    /// input [N, Cin, H, W], weight [Cout, Cin/groups, kH, kW], bias [Cout] or nil
    /// -> [N, Cout, Hout, Wout] (no activation; the tape records that separately).
    func conv2d(_ input: Tensor, weight: Tensor, bias: Tensor?, parameters: Conv2DParameters) -> Tensor
    /// Gradients of `conv2d(input, weight:, bias:, parameters:)` for gradOutput [N, Cout, Hout, Wout]:
    /// input [N, Cin, H, W], weight [Cout, Cin/groups, kH, kW], bias [Cout], each only when asked.
    func conv2dBackward(_ gradOutput: Tensor, input: Tensor, weight: Tensor, parameters: Conv2DParameters,
                        inputGradient: Bool, weightGradient: Bool, biasGradient: Bool)
        -> (input: Tensor?, weight: Tensor?, bias: Tensor?)

    /// input [N, in] (or any shape of N * in floats, e.g. [N, C, H, W] flattened in C, H, W
    /// order), weight [out, in], bias [out] or nil -> [N, out].
    func linear(_ input: Tensor, weight: Tensor, bias: Tensor?) -> Tensor
    /// Gradients of `linear` for gradOutput [N, out]: input (its own shape), weight [out, in],
    /// bias [out], each only when asked.
    func linearBackward(_ gradOutput: Tensor, input: Tensor, weight: Tensor,
                        inputGradient: Bool, weightGradient: Bool, biasGradient: Bool)
        -> (input: Tensor?, weight: Tensor?, bias: Tensor?)

    /// d act(x) / dx times gradOutput, element-wise; input is the activation's input x (any
    /// shape). PyTorch's conventions at the kinks (Kernels/CPU/Backward/ActivationBackward.swift).
    func activationBackward(_ gradOutput: Tensor, input: Tensor, _ activation: Activation) -> Tensor

    /// Frozen batch norm: input [N, C, H, W], scale [C], shift [C]
    /// -> y[n, c, :, :] = x[n, c, :, :] * scale[c] + shift[c].
    func channelAffine(_ input: Tensor, scale: Tensor, shift: Tensor) -> Tensor
    /// Gradient of `channelAffine` w.r.t. its input: gradOutput [N, C, H, W] * scale[c] per channel.
    func channelAffineBackward(_ gradOutput: Tensor, scale: Tensor) -> Tensor

    /// BatchNorm2d in training mode: input [N, C, H, W], weight and bias [C] -> y = (x - mean[c])
    /// / sqrt(variance[c] + eps) * weight[c] + bias[c], with the batch's mean and biased variance
    /// over N, H, W per channel ([C] each, in host memory: the caller updates running statistics).
    func batchNormTraining(_ input: Tensor, weight: Tensor, bias: Tensor, eps: Float)
        -> (output: Tensor, mean: Tensor, variance: Tensor)
    /// Gradients of `batchNormTraining` (the statistics depend on the input too): input [N, C, H, W],
    /// weight [C], bias [C], each only when asked. mean, variance: what the forward returned.
    func batchNormTrainingBackward(_ gradOutput: Tensor, input: Tensor, mean: Tensor, variance: Tensor,
                                   weight: Tensor, eps: Float, inputGradient: Bool, weightGradient: Bool,
                                   biasGradient: Bool) -> (input: Tensor?, weight: Tensor?, bias: Tensor?)
    /// GroupNorm: input [N, C, H, W] (C divisible by groups), weight and bias [C]; statistics per
    /// image and group of C / groups channels -> y, mean and biased variance [N * groups] (index n * groups + g).
    func groupNorm(_ input: Tensor, weight: Tensor, bias: Tensor, groups: Int, eps: Float)
        -> (output: Tensor, mean: Tensor, variance: Tensor)
    /// Gradients of `groupNorm`: input [N, C, H, W], weight [C], bias [C], each only when asked.
    func groupNormBackward(_ gradOutput: Tensor, input: Tensor, mean: Tensor, variance: Tensor, weight: Tensor,
                           groups: Int, eps: Float, inputGradient: Bool, weightGradient: Bool,
                           biasGradient: Bool) -> (input: Tensor?, weight: Tensor?, bias: Tensor?)

    /// Gradients of a * b (same shape): gradOutput * b and gradOutput * a, each only when asked.
    /// (add's backward hands gradOutput to both inputs unchanged: no backend op.)
    func multiplyBackward(_ gradOutput: Tensor, _ a: Tensor, _ b: Tensor, aGradient: Bool, bGradient: Bool)
        -> (a: Tensor?, b: Tensor?)
    /// Gradients of `scaleChannels(input, by: scale)`: input [N, C, H, W], scale N * C floats
    /// (its own shape, e.g. [N, C, 1, 1]; the sum over H, W of gradOutput * input), each only when asked.
    func scaleChannelsBackward(_ gradOutput: Tensor, input: Tensor, scale: Tensor,
                               inputGradient: Bool, scaleGradient: Bool) -> (input: Tensor?, scale: Tensor?)

    /// Gradient of `maxPool2d(input, kernel:, stride:, padding:)` w.r.t. input [N, C, H, W]:
    /// each window's gradient goes to its first maximum (PyTorch's rule).
    func maxPool2dBackward(_ gradOutput: Tensor, input: Tensor, kernel: Int, stride: Int, padding: Int) -> Tensor
    /// Gradient of `globalAveragePool`: gradOutput [N, C, 1, 1] -> inputShape [N, C, H, W],
    /// every pixel gets gradOutput / (H * W).
    func globalAveragePoolBackward(_ gradOutput: Tensor, inputShape: [Int]) -> Tensor
    /// Gradient of `upsampleNearest`: gradOutput [N, C, outH, outW] -> inputShape [N, C, H, W],
    /// each source pixel summing the output pixels that copied it.
    func upsampleNearestBackward(_ gradOutput: Tensor, inputShape: [Int]) -> Tensor

    /// Gradients of `roiAlign(features, request)` w.r.t. each feature map: gradOutput
    /// [K, C, outputHeight, outputWidth] -> per map l a tensor of featureShapes[l] ([N, C, H_l, W_l]),
    /// or nil where mapGradient[l] is false. RoIs of another level (request.levels) add nothing to a map.
    func roiAlignBackward(_ gradOutput: Tensor, featureShapes: [[Int]], _ request: RoIAlignRequest,
                          mapGradient: [Bool]) -> [Tensor?]

    /// a + b element-wise: two gradients of one variable (same element count; result has a's shape).
    func addGradients(_ a: Tensor, _ b: Tensor) -> Tensor

    /// torchvision concat_box_prediction_layers for one kind of prediction: per level
    /// [N, A_l * v, H_l, W_l] (channel a * v + j) -> [N * sum(H_l * W_l * A_l), v], rows ordered
    /// image, level, (y, x, anchor) — the order of the anchors and of the RPN's targets.
    func flattenPredictions(_ levels: [Tensor], valuesPerAnchor: Int) -> Tensor
    /// Gradient of `flattenPredictions`: gradOutput [N * sum(H_l * W_l * A_l), v] -> one tensor
    /// per level, of levelShapes[l] ([N, A_l * v, H_l, W_l]).
    func flattenPredictionsBackward(_ gradOutput: Tensor, levelShapes: [[Int]], valuesPerAnchor: Int) -> [Tensor]
}
