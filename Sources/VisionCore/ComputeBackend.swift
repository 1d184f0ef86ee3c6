// The compute-backend interface. Model code calls operations only through
// `ComputeBackend`, never through kernels directly, so a GPU backend (OpenCL or
// Vulkan compute) can implement this protocol without touching model code.
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

public protocol ComputeBackend: AnyObject, Sendable {
    var name: String { get }
    /// CPU threads the model may use for work it does beside this backend's operations
    /// (RoIAlign), so one setting (--threads) bounds the whole detection.
    var hostThreads: KernelThreads { get }

    /// weight [Cout, Cin/groups, kH, kW], bias [Cout] or nil.
    func prepareConv2D(weight: Tensor, bias: Tensor?, parameters: Conv2DParameters) -> PreparedConv2D
    /// input [N, Cin, H, W] -> [N, Cout, Hout, Wout], activation applied in the same pass.
    func conv2d(_ input: Tensor, _ conv: PreparedConv2D, activation: Activation) -> Tensor

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
}
