// Convolution and linear layers on the device. Weights [Cout, Cin/groups, kH, kW] and
// [out, in] (PyTorch's layouts, flattened) and biases are uploaded once when prepared.
//
// Which conv kernel runs (VulkanConvAlgorithm.automatic):
// - conv_depthwise: one input channel per group (MobileNets' depthwise convs);
// - conv_direct: fewer than 16 output channels per group (the RPN's 1x1 heads), where
//   a 64-row GEMM tile would be mostly empty;
// - conv_gemm: everything else, a shared-memory tiled implicit GEMM (im2col gathered
//   into the tiles, 1x1 convs as plain GEMMs).

import VisionCore

/// Which kernel computes a convolution; tests name one to check each against the CPU.
public enum VulkanConvAlgorithm: Sendable, CaseIterable {
    case automatic
    case direct
    case depthwise
    case gemm
}

final class VulkanPreparedConv2D: PreparedConv2D, @unchecked Sendable {
    let outChannels: Int
    let inChannels: Int
    let kernelH: Int
    let kernelW: Int
    let parameters: Conv2DParameters
    /// [Cout, Cin/groups * kH * kW] on the device.
    let weight: VulkanBuffer
    /// [Cout] on the device, or nil.
    let bias: VulkanBuffer?

    init(weight: Tensor, bias: Tensor?, parameters p: Conv2DParameters, backend: VulkanBackend) {
        checkConv2DWeights(weight: weight, bias: bias, parameters: p)
        outChannels = weight.shape[0]
        inChannels = weight.shape[1] * p.groups
        kernelH = weight.shape[2]
        kernelW = weight.shape[3]
        parameters = p
        self.weight = backend.deviceCopy(of: weight)
        self.bias = bias.map { backend.deviceCopy(of: $0) }
    }
}

final class VulkanPreparedLinear: PreparedLinear, @unchecked Sendable {
    let inFeatures: Int
    let outFeatures: Int
    /// [out, in] on the device.
    let weight: VulkanBuffer
    let bias: VulkanBuffer?

    init(weight: Tensor, bias: Tensor?, backend: VulkanBackend) {
        precondition(weight.rank == 2, "linear weight must be [out, in], got \(weight.shape)")
        outFeatures = weight.shape[0]
        inFeatures = weight.shape[1]
        if let bias { precondition(bias.count == outFeatures, "linear bias \(bias.shape) does not match out \(outFeatures)") }
        self.weight = backend.deviceCopy(of: weight)
        self.bias = bias.map { backend.deviceCopy(of: $0) }
    }
}

extension VulkanBackend {
    public func prepareConv2D(weight: Tensor, bias: Tensor?, parameters: Conv2DParameters) -> PreparedConv2D {
        locked { VulkanPreparedConv2D(weight: weight, bias: bias, parameters: parameters, backend: self) }
    }

    public func conv2d(_ input: Tensor, _ conv: PreparedConv2D, activation: Activation) -> Tensor {
        conv2d(input, conv, activation: activation, algorithm: .automatic)
    }

    /// `conv2d` on a named kernel (.depthwise needs one input channel per group).
    public func conv2d(_ input: Tensor, _ conv: PreparedConv2D, activation: Activation,
                       algorithm: VulkanConvAlgorithm) -> Tensor {
        guard let c = conv as? VulkanPreparedConv2D else {
            preconditionFailure("conv prepared by another backend: \(type(of: conv))")
        }
        precondition(input.rank == 4 && input.shape[1] == c.inChannels,
                     "conv expects [N, \(c.inChannels), H, W], got \(input.shape)")
        let p = c.parameters
        let outH = Conv2DParameters.outputSize(input: input.shape[2], kernel: c.kernelH, stride: p.strideH,
                                               padding: p.padH, dilation: p.dilationH)
        let outW = Conv2DParameters.outputSize(input: input.shape[3], kernel: c.kernelW, stride: p.strideW,
                                               padding: p.padW, dilation: p.dilationW)
        precondition(outH > 0 && outW > 0, "conv output would be empty for input \(input.shape)")
        let batch = input.shape[0]
        let cinPerGroup = c.inChannels / p.groups, coutPerGroup = c.outChannels / p.groups
        var kernel: VulkanKernel
        switch algorithm {
        case .automatic:
            kernel = cinPerGroup == 1 && p.groups > 1 ? .convDepthwise : coutPerGroup < 16 ? .convDirect : .convGemm
        case .direct: kernel = .convDirect
        case .gemm: kernel = .convGemm
        case .depthwise:
            precondition(cinPerGroup == 1, "the depthwise kernel needs one input channel per group, got \(cinPerGroup)")
            kernel = .convDepthwise
        }
        return locked {
            let (out, outBuffer) = makeTensor([batch, c.outChannels, outH, outW])
            guard out.count > 0 else { return out }
            let push = [batch, c.inChannels, input.shape[2], input.shape[3], c.outChannels, outH, outW,
                        c.kernelH, c.kernelW, p.strideH, p.strideW, p.padH, p.padW, p.dilationH, p.dilationW,
                        p.groups, activation.vulkanCode, c.bias == nil ? 0 : 1].map(\.push)
            // Without a bias, binding 2 holds the weights (never read: hasBias is 0).
            let buffers = [buffer(input, "conv2d").handle, c.weight.handle, (c.bias ?? c.weight).handle, outBuffer.handle]
            let groups = kernel == .convGemm
                ? ((outH * outW + 63) / 64, (coutPerGroup + 63) / 64, batch * p.groups)
                : VulkanKernel.linearGroups(out.count)
            context.dispatch(kernel, buffers, push: push, groups: groups)
            return out
        }
    }

    public func prepareLinear(weight: Tensor, bias: Tensor?) -> PreparedLinear {
        locked { VulkanPreparedLinear(weight: weight, bias: bias, backend: self) }
    }

    public func linear(_ input: Tensor, _ layer: PreparedLinear, activation: Activation) -> Tensor {
        guard let l = layer as? VulkanPreparedLinear else {
            preconditionFailure("linear layer prepared by another backend: \(type(of: layer))")
        }
        precondition(input.rank == 2 && input.shape[1] == l.inFeatures, "linear expects [N, \(l.inFeatures)], got \(input.shape)")
        let rows = input.shape[0]
        return locked {
            let (out, outBuffer) = makeTensor([rows, l.outFeatures])
            guard out.count > 0 else { return out }
            let push = [rows, l.inFeatures, l.outFeatures, activation.vulkanCode, l.bias == nil ? 0 : 1].map(\.push)
            let buffers = [buffer(input, "linear").handle, l.weight.handle, (l.bias ?? l.weight).handle, outBuffer.handle]
            context.dispatch(.linearGemm, buffers, push: push, groups: ((l.outFeatures + 63) / 64, (rows + 63) / 64, 1))
            return out
        }
    }
}
