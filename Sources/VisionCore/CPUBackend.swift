// The CPU backend: every `ComputeBackend` operation on the VisionKernels
// (im2col + OpenBLAS sgemm, Winograd F(4x4, 3x3) for the 3x3 stride-1 convs
// WinogradRouting picks, direct depthwise, threaded element-wise loops).
// Shapes are checked with preconditions: a mismatch is a bug in the caller.

import VisionKernels

/// The kernels' thread count, named here so backend users need not import VisionKernels.
public typealias KernelThreads = VisionKernels.KernelThreads
/// The SIMD kernels' instruction set, named here for the same reason.
public typealias InstructionSet = VisionKernels.InstructionSet

public final class CPUBackend: ComputeBackend, @unchecked Sendable {
    public var name: String { "cpu" }
    /// Threads every kernel call of this backend may use (its own value: backends with
    /// different counts can run at once in one process).
    public let threads: KernelThreads
    /// Which convs this backend's prepareConv2D sets up for Winograd.
    public let winogradRouting: WinogradRouting
    /// Which build (generic, AVX2, AVX-512) of the C SIMD kernels every call of this backend runs.
    public let instructionSet: InstructionSet
    /// Block sizes of the convolution kernels (tests pass small ones to force many blocks).
    public let tiling: ConvTiling
    /// Whether `invertedResidual` runs MobileNet blocks fused (false: three convs, for comparison).
    public let fusesInvertedResiduals: Bool

    /// instructionSet: `.detected` (the widest this CPU has) unless a caller forces one
    /// (tests, VISION_CPU_ISA in the benchmarks); it must be supported by this CPU.
    public init(threads: KernelThreads = .allCores, winogradRouting: WinogradRouting = .measured,
                instructionSet: InstructionSet = .detected, tiling: ConvTiling = .standard,
                fusesInvertedResiduals: Bool = true) {
        precondition(instructionSet.isSupported, "this CPU does not support the \(instructionSet) kernels")
        self.threads = threads
        self.winogradRouting = winogradRouting
        self.instructionSet = instructionSet
        self.tiling = tiling
        self.fusesInvertedResiduals = fusesInvertedResiduals
        Self.configureOpenBLAS()
    }

    /// OpenBLAS single-threaded and its load-time worker pool joined, unless
    /// VISION_OPENBLAS_THREADS=1 (see VisionKernels' OpenBLASThreads.swift). Once per
    /// process; every init calls it, and a program calls it first thing so that pool's
    /// start-up spinning stays short.
    public static func configureOpenBLAS() { configureOpenBLASThreads() }

    /// threads: nil for all cores (what --threads left out means).
    public convenience init(threads: Int?, winogradRouting: WinogradRouting = .measured,
                            instructionSet: InstructionSet = .detected) {
        self.init(threads: threads.map(KernelThreads.init) ?? .allCores, winogradRouting: winogradRouting,
                  instructionSet: instructionSet)
    }

    public func prepareConv2D(weight: Tensor, bias: Tensor?, parameters: Conv2DParameters) -> PreparedConv2D {
        CPUPreparedConv2D(weight: weight, bias: bias, parameters: parameters, winogradRouting: winogradRouting,
                          threads: threads)
    }

    public func conv2d(_ input: Tensor, _ conv: PreparedConv2D, activation: Activation) -> Tensor {
        convolve(input, conv, activation: activation, residual: nil)
    }

    /// The add fused into the GEMM's epilogue (act(conv + bias + residual) in one pass over
    /// the output while it is in cache); Winograd convs add in a second pass.
    public func conv2d(_ input: Tensor, _ conv: PreparedConv2D, activation: Activation, adding residual: Tensor) -> Tensor {
        convolve(input, conv, activation: activation, residual: residual)
    }

    private func convolve(_ input: Tensor, _ conv: PreparedConv2D, activation: Activation, residual: Tensor?) -> Tensor {
        let c = cpuConv(conv)
        let g = c.geometry(for: input)
        if let residual {
            precondition(residual.shape == [g.batch, g.outChannels, g.outH, g.outW],
                         "conv residual \(residual.shape) does not match the conv output [\(g.batch), \(g.outChannels), \(g.outH), \(g.outW)]")
        }
        let out = Tensor(uninitializedShape: [g.batch, g.outChannels, g.outH, g.outW])
        if let u = c.winogradWeight, c.usesWinograd(g) {
            conv2dWinograd(input: input.storage.pointer, transformedWeight: u.storage.pointer,
                           bias: c.bias?.storage.pointer, output: out.storage.pointer,
                           geometry: g, activation: residual == nil ? activation.kernelActivation : .identity,
                           threads: threads, tiling: tiling)
            if let residual {
                VisionKernels.add(out.storage.pointer, residual.storage.pointer, output: out.storage.pointer,
                                  count: out.count, activation: activation.kernelActivation, threads: threads)
            }
        } else {
            VisionKernels.conv2d(input: input.storage.pointer, weight: c.packedWeight.storage.pointer,
                                 bias: c.bias?.storage.pointer, output: out.storage.pointer,
                                 geometry: g, activation: activation.kernelActivation, threads: threads,
                                 instructionSet: instructionSet, residual: residual?.storage.pointer, tiling: tiling)
        }
        withExtendedLifetime(residual) {}
        return out
    }

    /// Fused (VisionKernels' invertedResidualFused: chunk by chunk of output rows, each thread
    /// its own chunks) when the block has the plain MobileNet shape (1x1 expand and project,
    /// a depthwise conv with one output per channel) and an output map of at least
    /// `tiling.fusedBlockMinPixels`. Otherwise the three convs.
    public func invertedResidual(_ input: Tensor, _ block: InvertedResidualConvs) -> Tensor {
        let expand = block.expand.map { cpuConv($0.conv) }
        let depthwise = cpuConv(block.depthwise.conv), project = cpuConv(block.project.conv)
        precondition(input.rank == 4, "an inverted-residual block's input must be [N, C, H, W], got \(input.shape)")
        let cin = input.shape[1], cexp = expand?.outChannels ?? cin
        let p = depthwise.parameters
        guard fusesInvertedResiduals, expand.map({ $0.isPlainPointwise && $0.inChannels == cin }) ?? true,
              project.isPlainPointwise,
              project.inChannels == cexp, depthwise.inChannels == cexp, depthwise.outChannels == cexp,
              p.groups == cexp, cexp > 1 else {
            return unfusedInvertedResidual(input, block, on: self)
        }
        let dg = ConvGeometry(batch: input.shape[0], inChannels: cexp, inH: input.shape[2], inW: input.shape[3],
                              outChannels: cexp, kernelH: depthwise.kernelH, kernelW: depthwise.kernelW,
                              strideH: p.strideH, strideW: p.strideW, padH: p.padH, padW: p.padW,
                              dilationH: p.dilationH, dilationW: p.dilationW, groups: cexp)
        if dg.outH * dg.outW < tiling.fusedBlockMinPixels { return unfusedInvertedResidual(input, block, on: self) }
        let out = Tensor(uninitializedShape: [dg.batch, project.outChannels, dg.outH, dg.outW])
        let step = { (c: CPUPreparedConv2D, activation: Activation) in
            FusedConvStep(weight: c.packedWeight.storage.pointer, bias: c.bias?.storage.pointer,
                          activation: activation.kernelActivation)
        }
        invertedResidualFused(
            input: input.storage.pointer, inChannels: cin, expand: expand.map { step($0, block.expand!.activation) },
            depthwise: step(depthwise, block.depthwise.activation), depthwise: dg,
            project: step(project, block.project.activation), outChannels: project.outChannels,
            addsInput: block.addsInput, output: out.storage.pointer, threads: threads, instructionSet: instructionSet,
            bandFloats: tiling.fusedBlockBandFloats)
        withExtendedLifetime((input, expand, depthwise, project)) {}
        return out
    }

    public func prepareLinear(weight: Tensor, bias: Tensor?) -> PreparedLinear {
        CPUPreparedLinear(weight: weight, bias: bias)
    }

    public func linear(_ input: Tensor, _ layer: PreparedLinear, activation: Activation) -> Tensor {
        let l = cpuLinear(layer, input)
        let out = Tensor(uninitializedShape: [input.shape[0], l.outFeatures])
        VisionKernels.linear(input: input.storage.pointer, weight: l.weight.storage.pointer,
                             bias: l.bias?.storage.pointer, output: out.storage.pointer,
                             batch: input.shape[0], inFeatures: l.inFeatures, outFeatures: l.outFeatures,
                             activation: activation.kernelActivation, threads: threads)
        return out
    }

    public func maxPool2d(_ input: Tensor, kernel: Int, stride: Int, padding: Int) -> Tensor {
        let (out, planes) = maxPoolOutput(input, kernel: kernel, stride: stride, padding: padding)
        VisionKernels.maxPool2d(input: input.storage.pointer, output: out.storage.pointer, planes: planes,
                                inH: input.shape[2], inW: input.shape[3], kernel: kernel, stride: stride, padding: padding, threads: threads)
        return out
    }

    public func globalAveragePool(_ input: Tensor) -> Tensor {
        precondition(input.rank == 4, "globalAveragePool input must be [N, C, H, W], got \(input.shape)")
        let out = Tensor(uninitializedShape: [input.shape[0], input.shape[1], 1, 1])
        VisionKernels.globalAveragePool(input: input.storage.pointer, output: out.storage.pointer,
                                        planes: input.shape[0] * input.shape[1], planeSize: input.shape[2] * input.shape[3], threads: threads)
        return out
    }

    public func upsampleNearest(_ input: Tensor, height: Int, width: Int) -> Tensor {
        precondition(input.rank == 4, "upsampleNearest input must be [N, C, H, W], got \(input.shape)")
        precondition(height > 0 && width > 0, "upsampleNearest to an empty size \(height)x\(width)")
        let out = Tensor(uninitializedShape: [input.shape[0], input.shape[1], height, width])
        VisionKernels.upsampleNearest(input: input.storage.pointer, output: out.storage.pointer,
                                      planes: input.shape[0] * input.shape[1], inH: input.shape[2], inW: input.shape[3],
                                      outH: height, outW: width, threads: threads)
        return out
    }

    public func add(_ a: Tensor, _ b: Tensor, activation: Activation) -> Tensor {
        precondition(a.shape == b.shape, "add of mismatched shapes \(a.shape) and \(b.shape)")
        let out = Tensor(uninitializedShape: a.shape)
        VisionKernels.add(a.storage.pointer, b.storage.pointer, output: out.storage.pointer,
                          count: a.count, activation: activation.kernelActivation, threads: threads)
        return out
    }

    public func multiply(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.shape == b.shape, "multiply of mismatched shapes \(a.shape) and \(b.shape)")
        let out = Tensor(uninitializedShape: a.shape)
        VisionKernels.multiply(a.storage.pointer, b.storage.pointer, output: out.storage.pointer, count: a.count, threads: threads)
        return out
    }

    public func scaleChannels(_ input: Tensor, by scale: Tensor) -> Tensor {
        precondition(input.rank == 4, "scaleChannels input must be [N, C, H, W], got \(input.shape)")
        let planes = input.shape[0] * input.shape[1]
        precondition(scale.count == planes && (scale.rank < 1 || scale.shape[0] == input.shape[0]),
                     "scale \(scale.shape) must be [N, C, 1, 1] for input \(input.shape)")
        let out = Tensor(uninitializedShape: input.shape)
        VisionKernels.scaleChannels(input.storage.pointer, scale: scale.storage.pointer, output: out.storage.pointer,
                                    planes: planes, planeSize: input.shape[2] * input.shape[3], threads: threads)
        return out
    }

    public func activate(_ input: Tensor, _ activation: Activation) -> Tensor {
        let out = Tensor(uninitializedShape: input.shape)
        VisionKernels.activate(input.storage.pointer, output: out.storage.pointer,
                               count: input.count, activation: activation.kernelActivation, threads: threads)
        return out
    }

    public func softmax(_ input: Tensor) -> Tensor {
        precondition(input.rank >= 1, "softmax needs at least one axis")
        let cols = input.shape[input.rank - 1]
        let out = Tensor(uninitializedShape: input.shape)
        VisionKernels.softmax(input.storage.pointer, output: out.storage.pointer,
                              rows: cols == 0 ? 0 : input.count / cols, cols: cols, threads: threads)
        return out
    }

    public func concat(_ inputs: [Tensor], axis: Int) -> Tensor {
        concatTensors(inputs, axis: axis, threads: threads)
    }

    public func topK(_ input: Tensor, k: Int) -> (values: [Float], indices: [Int]) {
        precondition(input.rank == 1, "topK needs a 1-D tensor, got \(input.shape)")
        precondition(k >= 0, "topK with negative k \(k)")
        return VisionKernels.topK(input.storage.pointer, count: input.count, k: k)
    }
}

// MARK: - Helpers shared with ReferenceBackend

func cpuConv(_ conv: PreparedConv2D) -> CPUPreparedConv2D {
    guard let c = conv as? CPUPreparedConv2D else {
        preconditionFailure("conv prepared by another backend: \(type(of: conv))")
    }
    return c
}

func cpuLinear(_ layer: PreparedLinear, _ input: Tensor) -> CPUPreparedLinear {
    guard let l = layer as? CPUPreparedLinear else {
        preconditionFailure("linear layer prepared by another backend: \(type(of: layer))")
    }
    precondition(input.rank == 2 && input.shape[1] == l.inFeatures,
                 "linear expects [N, \(l.inFeatures)], got \(input.shape)")
    return l
}

/// The output tensor of max_pool2d and its plane count (N*C).
func maxPoolOutput(_ input: Tensor, kernel: Int, stride: Int, padding: Int) -> (Tensor, Int) {
    precondition(input.rank == 4, "maxPool2d input must be [N, C, H, W], got \(input.shape)")
    precondition(kernel > 0 && stride > 0 && padding >= 0 && padding <= kernel / 2,
                 "bad max_pool2d arguments kernel \(kernel) stride \(stride) padding \(padding)")
    let outH = maxPoolOutputSize(input: input.shape[2], kernel: kernel, stride: stride, padding: padding)
    let outW = maxPoolOutputSize(input: input.shape[3], kernel: kernel, stride: stride, padding: padding)
    precondition(outH > 0 && outW > 0, "max_pool2d output would be empty for input \(input.shape)")
    return (Tensor(uninitializedShape: [input.shape[0], input.shape[1], outH, outW]), input.shape[0] * input.shape[1])
}

func concatTensors(_ inputs: [Tensor], axis: Int, threads: KernelThreads) -> Tensor {
    let (shape, axis, outer, inner) = concatLayout(inputs.map(\.shape), axis: axis)
    let out = Tensor(uninitializedShape: shape)
    // Tensors keep their storage alive; pointers stay valid for the call.
    let parts = inputs.map { (pointer: UnsafePointer($0.storage.pointer), axisSize: $0.shape[axis]) }
    VisionKernels.concatenate(parts, output: out.storage.pointer, outer: outer, inner: inner, threads: threads)
    withExtendedLifetime(inputs) {}
    return out
}
