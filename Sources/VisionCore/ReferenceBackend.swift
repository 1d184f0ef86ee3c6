// A backend that runs the naive reference kernels for conv2d, linear, max-pool,
// softmax and top-k (the operations whose fast kernels are non-trivial), and the
// CPU backend's kernels for the rest. Slow; for tests.

import VisionKernels

public final class ReferenceBackend: ComputeBackend, @unchecked Sendable {
    /// The fast kernels it borrows run on the calling thread only.
    private let cpu = CPUBackend(threads: .single, winogradRouting: .never)
    public var name: String { "reference" }
    public func upload(_ tensor: Tensor) -> Tensor { tensor }

    public func readBack(_ tensor: Tensor, at point: ReadBackPoint) -> Tensor { tensor }

    public func roiAlign(_ features: [Tensor], _ request: RoIAlignRequest) -> Tensor {
        roiAlignOnCPU(features, request, threads: .single)
    }

    public func anchorsLast(_ input: Tensor, image: Int, valuesPerAnchor: Int) -> Tensor {
        anchorsLastOnCPU(input, image: image, valuesPerAnchor: valuesPerAnchor)
    }

    public func gatherAnchors(_ input: Tensor, image: Int, valuesPerAnchor: Int, rows indices: [Int]) -> Tensor {
        gatherAnchorsOnCPU(input, image: image, valuesPerAnchor: valuesPerAnchor, rows: indices)
    }

    public init() {}

    public func prepareConv2D(weight: Tensor, bias: Tensor?, parameters: Conv2DParameters) -> PreparedConv2D {
        cpu.prepareConv2D(weight: weight, bias: bias, parameters: parameters)
    }

    public func conv2d(_ input: Tensor, _ conv: PreparedConv2D, activation: Activation) -> Tensor {
        let c = cpuConv(conv)
        let g = c.geometry(for: input)
        let out = Tensor(uninitializedShape: [g.batch, g.outChannels, g.outH, g.outW])
        conv2dReference(input: input.storage.pointer, weight: c.packedWeight.storage.pointer,
                        bias: c.bias?.storage.pointer, output: out.storage.pointer,
                        geometry: g, activation: activation.kernelActivation)
        return out
    }

    public func prepareLinear(weight: Tensor, bias: Tensor?) -> PreparedLinear {
        CPUPreparedLinear(weight: weight, bias: bias)
    }

    public func linear(_ input: Tensor, _ layer: PreparedLinear, activation: Activation) -> Tensor {
        let l = cpuLinear(layer, input)
        let out = Tensor(uninitializedShape: [input.shape[0], l.outFeatures])
        linearReference(input: input.storage.pointer, weight: l.weight.storage.pointer,
                        bias: l.bias?.storage.pointer, output: out.storage.pointer,
                        batch: input.shape[0], inFeatures: l.inFeatures, outFeatures: l.outFeatures,
                        activation: activation.kernelActivation)
        return out
    }

    public func maxPool2d(_ input: Tensor, kernel: Int, stride: Int, padding: Int) -> Tensor {
        let (out, planes) = maxPoolOutput(input, kernel: kernel, stride: stride, padding: padding)
        maxPool2dReference(input: input.storage.pointer, output: out.storage.pointer, planes: planes,
                           inH: input.shape[2], inW: input.shape[3], kernel: kernel, stride: stride, padding: padding)
        return out
    }

    public func globalAveragePool(_ input: Tensor) -> Tensor { cpu.globalAveragePool(input) }
    public func upsampleNearest(_ input: Tensor, height: Int, width: Int) -> Tensor {
        cpu.upsampleNearest(input, height: height, width: width)
    }
    public func add(_ a: Tensor, _ b: Tensor, activation: Activation) -> Tensor { cpu.add(a, b, activation: activation) }
    public func multiply(_ a: Tensor, _ b: Tensor) -> Tensor { cpu.multiply(a, b) }
    public func scaleChannels(_ input: Tensor, by scale: Tensor) -> Tensor { cpu.scaleChannels(input, by: scale) }
    public func activate(_ input: Tensor, _ activation: Activation) -> Tensor { cpu.activate(input, activation) }

    public func softmax(_ input: Tensor) -> Tensor {
        precondition(input.rank >= 1, "softmax needs at least one axis")
        let cols = input.shape[input.rank - 1]
        let out = Tensor(uninitializedShape: input.shape)
        softmaxReference(input.storage.pointer, output: out.storage.pointer,
                         rows: cols == 0 ? 0 : input.count / cols, cols: cols)
        return out
    }

    public func concat(_ inputs: [Tensor], axis: Int) -> Tensor { cpu.concat(inputs, axis: axis) }

    public func topK(_ input: Tensor, k: Int) -> (values: [Float], indices: [Int]) {
        precondition(input.rank == 1, "topK needs a 1-D tensor, got \(input.shape)")
        precondition(k >= 0, "topK with negative k \(k)")
        return topKReference(input.storage.pointer, count: input.count, k: k)
    }
}
