// The compute-backend interface. Model code calls operations only through
// `ComputeBackend`, never through kernels directly, so a GPU backend (OpenCL or
// Vulkan compute) can implement this protocol without touching model code.
//
// Tensors a backend makes may live on its device (TensorStorage.device): between
// `upload` (the normalised image batch) and the final boxes, model code reads
// values on the host only through `readBack` at a named ReadBackPoint, which a
// device backend implements as a copy; a host backend returns the tensor itself.
//
// Layouts: feature maps are NCHW Float32; linear inputs are [N, inFeatures];
// linear weights are [outFeatures, inFeatures] (PyTorch's layout).

/// An activation fused into the kernel that produces its input.
public enum Activation: Sendable, Hashable {
    case identity
    case relu
    case relu6
    /// x * relu6(x + 3) / 6
    case hardswish
    /// relu6(x + 3) / 6
    case hardsigmoid
    case sigmoid
}

/// Geometry of a 2-D convolution (PyTorch's Conv2d arguments).
public struct Conv2DParameters: Sendable, Hashable {
    public var strideH: Int, strideW: Int
    public var padH: Int, padW: Int
    public var dilationH: Int, dilationW: Int
    public var groups: Int

    public init(stride: Int = 1, padding: Int = 0, dilation: Int = 1, groups: Int = 1) {
        self.init(strideH: stride, strideW: stride, padH: padding, padW: padding,
                  dilationH: dilation, dilationW: dilation, groups: groups)
    }

    public init(strideH: Int, strideW: Int, padH: Int, padW: Int, dilationH: Int, dilationW: Int, groups: Int) {
        self.strideH = strideH; self.strideW = strideW
        self.padH = padH; self.padW = padW
        self.dilationH = dilationH; self.dilationW = dilationW
        self.groups = groups
    }

    /// Output size along one axis (PyTorch's formula).
    public static func outputSize(input: Int, kernel: Int, stride: Int, padding: Int, dilation: Int) -> Int {
        (input + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1
    }
}

/// A convolution's weights, prepared once at load time for one backend
/// (batch-norm already folded in; packed into whatever layout the backend wants).
public protocol PreparedConv2D: AnyObject, Sendable {
    var outChannels: Int { get }
    var inChannels: Int { get }
    var kernelH: Int { get }
    var kernelW: Int { get }
    var parameters: Conv2DParameters { get }
}

/// A linear layer's weights, prepared once at load time.
public protocol PreparedLinear: AnyObject, Sendable {
    var inFeatures: Int { get }
    var outFeatures: Int { get }
}

/// Where model code reads tensor values on the host (each a copy on a device backend).
public enum ReadBackPoint: String, Sendable, CaseIterable {
    /// RPN objectness logits and box deltas, before top-k, decoding and NMS.
    case rpnPredictions
    /// Box-head class probabilities and box deltas, before per-class decoding and NMS.
    case boxPredictions
    /// Intermediate maps a caller asked to keep (parity tests, profiling).
    case trace
}

/// RoIs to pool with `roiAlign`, in host memory (they come from proposals read back before NMS).
public struct RoIAlignRequest: Sendable {
    /// 4 floats per RoI: x1, y1, x2, y2 in input-image pixels.
    public var boxes: [Float]
    /// Per RoI, the image (0..<N) of the feature maps it pools from.
    public var batchIndices: [Int]
    /// Per RoI, the index of the feature map it pools from (-1: the RoI pools to zeros);
    /// nil pools every RoI from the first map.
    public var levels: [Int]?
    /// Per feature map, feature pixels per image pixel (1 / stride).
    public var spatialScales: [Float]
    public var outputHeight: Int
    public var outputWidth: Int
    /// Samples per bin along each axis; <= 0 means ceil(roi size / output size).
    public var samplingRatio: Int
    /// torchvision's `aligned` (half-pixel offset).
    public var aligned: Bool

    public init(boxes: [Float], batchIndices: [Int], levels: [Int]?, spatialScales: [Float],
                outputHeight: Int, outputWidth: Int, samplingRatio: Int, aligned: Bool) {
        self.boxes = boxes
        self.batchIndices = batchIndices
        self.levels = levels
        self.spatialScales = spatialScales
        self.outputHeight = outputHeight
        self.outputWidth = outputWidth
        self.samplingRatio = samplingRatio
        self.aligned = aligned
    }
}

public protocol ComputeBackend: AnyObject, Sendable {
    var name: String { get }

    /// A host tensor (the normalised image batch) as this backend's tensor: where the
    /// model's input enters the backend. A host backend returns it unchanged.
    func upload(_ tensor: Tensor) -> Tensor
    /// `tensor`'s values in host memory, read at `point`. A host backend returns it unchanged.
    func readBack(_ tensor: Tensor, at point: ReadBackPoint) -> Tensor

    /// weight [Cout, Cin/groups, kH, kW], bias [Cout] or nil.
    func prepareConv2D(weight: Tensor, bias: Tensor?, parameters: Conv2DParameters) -> PreparedConv2D
    /// input [N, Cin, H, W] -> [N, Cout, Hout, Wout], activation applied in the same pass.
    func conv2d(_ input: Tensor, _ conv: PreparedConv2D, activation: Activation) -> Tensor
    /// activation(conv(input) + residual), residual [N, Cout, Hout, Wout]: a conv whose output
    /// feeds a residual add (ResNet's conv3 + identity, then ReLU; an inverted residual's
    /// project + input; an FPN lateral + top-down). A backend may fuse the add into the conv's
    /// epilogue; the default (extension below) is conv2d then add.
    func conv2d(_ input: Tensor, _ conv: PreparedConv2D, activation: Activation, adding residual: Tensor) -> Tensor

    /// A MobileNet inverted-residual block without squeeze-excitation, input [N, Cin, H, W]:
    /// [expand 1x1] -> depthwise -> project 1x1, plus the input when `block.addsInput`
    /// (then `block.project.activation` applies after the add). A backend may fuse the three
    /// convs; the default (extension below) runs them one after another.
    func invertedResidual(_ input: Tensor, _ block: InvertedResidualConvs) -> Tensor

    /// weight [out, in], bias [out] or nil.
    func prepareLinear(weight: Tensor, bias: Tensor?) -> PreparedLinear
    /// input [N, in] -> [N, out].
    func linear(_ input: Tensor, _ layer: PreparedLinear, activation: Activation) -> Tensor

    /// PyTorch max_pool2d (floor mode, padding counts as -inf).
    func maxPool2d(_ input: Tensor, kernel: Int, stride: Int, padding: Int) -> Tensor
    /// [N, C, H, W] -> [N, C, 1, 1] mean over H and W.
    func globalAveragePool(_ input: Tensor) -> Tensor
    /// Nearest-neighbour resize to (height, width) with PyTorch's "nearest" rule
    /// src = floor(dst * in / out).
    func upsampleNearest(_ input: Tensor, height: Int, width: Int) -> Tensor

    /// Element-wise a + b (same shape), then the activation.
    func add(_ a: Tensor, _ b: Tensor, activation: Activation) -> Tensor
    /// Element-wise a * b (same shape).
    func multiply(_ a: Tensor, _ b: Tensor) -> Tensor
    /// input [N, C, H, W] times scale [N, C, 1, 1] broadcast over H, W (squeeze-excitation).
    func scaleChannels(_ input: Tensor, by scale: Tensor) -> Tensor
    func activate(_ input: Tensor, _ activation: Activation) -> Tensor
    /// Softmax over the last axis.
    func softmax(_ input: Tensor) -> Tensor
    /// Concatenation along `axis`; all other dimensions must match.
    func concat(_ inputs: [Tensor], axis: Int) -> Tensor
    /// The k largest values of a 1-D tensor, sorted descending, with their indices
    /// (ties keep the lower index first).
    func topK(_ input: Tensor, k: Int) -> (values: [Float], indices: [Int])
    /// torchvision's roi_align over several feature maps [N, C, H_l, W_l] (same N and C):
    /// -> [K, C, outputHeight, outputWidth], RoIs in the request's order.
    func roiAlign(_ features: [Tensor], _ request: RoIAlignRequest) -> Tensor
    /// One image's per-anchor predictions in anchor order: input [N, A * v, H, W] (anchor a's
    /// value j at channel a * v + j) -> [H * W * A, v], row (y * W + x) * A + a (the RPN's order).
    func anchorsLast(_ input: Tensor, image: Int, valuesPerAnchor: Int) -> Tensor
    /// The same order's rows `indices` only, without the rest: [indices.count, v] (the RPN's
    /// deltas of its top-k anchors).
    func gatherAnchors(_ input: Tensor, image: Int, valuesPerAnchor: Int, rows indices: [Int]) -> Tensor
}

/// The convs of one inverted-residual block (ComputeBackend.invertedResidual), each with the
/// activation applied to its output.
public struct InvertedResidualConvs {
    public var expand: (conv: PreparedConv2D, activation: Activation)?
    public var depthwise: (conv: PreparedConv2D, activation: Activation)
    public var project: (conv: PreparedConv2D, activation: Activation)
    public var addsInput: Bool

    public init(expand: (conv: PreparedConv2D, activation: Activation)?, depthwise: (conv: PreparedConv2D, activation: Activation),
                project: (conv: PreparedConv2D, activation: Activation), addsInput: Bool) {
        self.expand = expand; self.depthwise = depthwise; self.project = project; self.addsInput = addsInput
    }
}

extension ComputeBackend {
    public func invertedResidual(_ input: Tensor, _ block: InvertedResidualConvs) -> Tensor {
        unfusedInvertedResidual(input, block, on: self)
    }

    /// Unfused: the conv without activation, then `add` with the activation.
    public func conv2d(_ input: Tensor, _ conv: PreparedConv2D, activation: Activation, adding residual: Tensor) -> Tensor {
        add(conv2d(input, conv, activation: .identity), residual, activation: activation)
    }
}

/// The default inverted-residual block: three convs, the input added in the project conv's
/// epilogue (`conv2d(_:_:activation:adding:)`).
public func unfusedInvertedResidual(_ input: Tensor, _ block: InvertedResidualConvs, on backend: ComputeBackend) -> Tensor {
    var y = block.expand.map { backend.conv2d(input, $0.conv, activation: $0.activation) } ?? input
    y = backend.conv2d(y, block.depthwise.conv, activation: block.depthwise.activation)
    return block.addsInput ? backend.conv2d(y, block.project.conv, activation: block.project.activation, adding: input)
                           : backend.conv2d(y, block.project.conv, activation: block.project.activation)
}
