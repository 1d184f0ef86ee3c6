// What a layer is, independent of how it runs: torchvision's parameter names and
// shapes, its geometry, its fused activation and how its weights start when no
// checkpoint provides them. Architectures describe their layers with these specs
// once; a LayerExecutor turns each spec into something it can run (prepared,
// batch-norm-folded weights for inference; tape parameters for training).

import VisionCore

/// How a parameter is initialised when the checkpoint does not provide it
/// (torchvision's initialisation for that layer).
public enum ParameterInit: Sendable, Hashable {
    /// nn.init.kaiming_normal_(mode="fan_out", nonlinearity="relu"): std sqrt(2 / (shape[0] * receptive field)).
    case kaimingNormalFanOut
    /// nn.init.kaiming_uniform_(a: a) with fan_in = shape[1] * receptive field.
    case kaimingUniform(a: Float)
    /// nn.Linear's default bias: uniform(-1/sqrt(fanIn), 1/sqrt(fanIn)).
    case uniformFanIn(Int)
    case normal(std: Float)
    case constant(Float)
}

/// torchvision's Conv2d [-> BatchNorm2d] [-> activation] (Conv2dNormActivation, or a
/// plain conv when `batchNorm` is nil).
/// Parameters: `<conv>.weight` [out, in/groups, k, k], `<conv>.bias` [out] when `bias`,
/// `<batchNorm>.{weight,bias,running_mean,running_var}` [out] when `batchNorm` is set.
public struct ConvSpec: Sendable, Hashable {
    public var conv: String
    public var batchNorm: String?
    public var batchNormEps: Float
    public var inChannels: Int
    public var outChannels: Int
    public var kernel: Int
    public var stride: Int
    public var padding: Int
    public var dilation: Int
    public var groups: Int
    public var bias: Bool
    public var activation: Activation
    public var weightInit: ParameterInit
    public var biasInit: ParameterInit

    /// `padding` nil is torchvision's Conv2dNormActivation default, (kernel - 1) / 2 * dilation.
    /// The default initialisation is the one torchvision's ResNet and MobileNets use for convs.
    public init(conv: String, batchNorm: String? = nil, batchNormEps: Float = 1e-5,
                inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int? = nil,
                dilation: Int = 1, groups: Int = 1, bias: Bool = false, activation: Activation = .identity,
                weightInit: ParameterInit = .kaimingNormalFanOut, biasInit: ParameterInit = .constant(0)) {
        self.conv = conv
        self.batchNorm = batchNorm
        self.batchNormEps = batchNormEps
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding ?? (kernel - 1) / 2 * dilation
        self.dilation = dilation
        self.groups = groups
        self.bias = bias
        self.activation = activation
        self.weightInit = weightInit
        self.biasInit = biasInit
    }

    /// [out, in/groups, k, k].
    public var weightShape: [Int] { [outChannels, inChannels / groups, kernel, kernel] }

    public var geometry: Conv2DParameters {
        Conv2DParameters(stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
}

/// torchvision's nn.Linear [-> activation]: `<prefix>.weight` [out, in], `<prefix>.bias` [out].
/// The default initialisation is nn.Linear's (kaiming_uniform_(a=sqrt(5)), uniform(+-1/sqrt(in)) bias).
public struct LinearSpec: Sendable, Hashable {
    public var prefix: String
    public var inFeatures: Int
    public var outFeatures: Int
    public var activation: Activation
    public var weightInit: ParameterInit
    public var biasInit: ParameterInit

    public init(prefix: String, inFeatures: Int, outFeatures: Int, activation: Activation = .identity,
                weightInit: ParameterInit? = nil, biasInit: ParameterInit? = nil) {
        self.prefix = prefix
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.activation = activation
        self.weightInit = weightInit ?? .kaimingUniform(a: Float(5).squareRoot())
        self.biasInit = biasInit ?? .uniformFanIn(inFeatures)
    }
}
