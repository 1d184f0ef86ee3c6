// A ComputeBackend that forwards every call to the CPU backend and, while
// `recording` is on, adds up the FLOPs and the wall time of each conv2d and
// linear call, attributed to the pipeline stage running at the time.
// FLOPs count a multiply-add as 2 (ConvGeometry.flops).

import Foundation
import VisionCore
import VisionDetection
import VisionKernels

/// FLOPs and seconds of the conv / linear calls of one stage, split by conv kind.
struct OperationCost {
    var denseFlops: Double = 0, denseSeconds: Double = 0, denseCalls = 0
    var depthwiseFlops: Double = 0, depthwiseSeconds: Double = 0, depthwiseCalls = 0
    var linearFlops: Double = 0, linearSeconds: Double = 0
    /// Fused inverted-residual blocks (expand + depthwise + project in one call).
    var fusedFlops: Double = 0, fusedSeconds: Double = 0, fusedCalls = 0
    var convSeconds: Double { denseSeconds + depthwiseSeconds + fusedSeconds }
    var convFlops: Double { denseFlops + depthwiseFlops + fusedFlops }
}

final class ProfilingBackend: ComputeBackend, @unchecked Sendable {
    let cpu: CPUBackend
    var recording = false
    var stage: StageTimings.Stage = .transform
    var costs: [StageTimings.Stage: OperationCost] = [:]

    init(threads: Int, instructionSet: InstructionSet, fusesInvertedResiduals: Bool) {
        cpu = CPUBackend(threads: KernelThreads(threads), instructionSet: instructionSet,
                         fusesInvertedResiduals: fusesInvertedResiduals)
    }

    var name: String { "cpu (profiled)" }
    func upload(_ tensor: Tensor) -> Tensor { cpu.upload(tensor) }
    func readBack(_ tensor: Tensor, at point: ReadBackPoint) -> Tensor { cpu.readBack(tensor, at: point) }
    func roiAlign(_ features: [Tensor], _ request: RoIAlignRequest) -> Tensor { cpu.roiAlign(features, request) }
    func anchorsLast(_ input: Tensor, image: Int, valuesPerAnchor: Int) -> Tensor {
        cpu.anchorsLast(input, image: image, valuesPerAnchor: valuesPerAnchor)
    }
    func gatherAnchors(_ input: Tensor, image: Int, valuesPerAnchor: Int, rows indices: [Int]) -> Tensor {
        cpu.gatherAnchors(input, image: image, valuesPerAnchor: valuesPerAnchor, rows: indices)
    }

    private func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    func prepareConv2D(weight: Tensor, bias: Tensor?, parameters: Conv2DParameters) -> PreparedConv2D {
        cpu.prepareConv2D(weight: weight, bias: bias, parameters: parameters)
    }

    func conv2d(_ input: Tensor, _ conv: PreparedConv2D, activation: Activation) -> Tensor {
        profiledConv(input, conv) { cpu.conv2d(input, conv, activation: activation) }
    }

    /// The fused conv + residual add counts as the conv (its FLOPs, its time with the add).
    func conv2d(_ input: Tensor, _ conv: PreparedConv2D, activation: Activation, adding residual: Tensor) -> Tensor {
        profiledConv(input, conv) { cpu.conv2d(input, conv, activation: activation, adding: residual) }
    }

    private func profiledConv(_ input: Tensor, _ conv: PreparedConv2D, _ run: () -> Tensor) -> Tensor {
        guard recording, let c = conv as? CPUPreparedConv2D else { return run() }
        let start = now()
        let out = run()
        let seconds = Double(now() - start) / 1e9
        let g = c.geometry(for: input)
        if g.isDepthwise {
            costs[stage, default: .init()].depthwiseFlops += g.flops
            costs[stage, default: .init()].depthwiseSeconds += seconds
            costs[stage, default: .init()].depthwiseCalls += 1
        } else {
            costs[stage, default: .init()].denseFlops += g.flops
            costs[stage, default: .init()].denseSeconds += seconds
            costs[stage, default: .init()].denseCalls += 1
        }
        return out
    }

    /// The CPU backend's (fused) block, timed as one call with its three convs' FLOPs.
    func invertedResidual(_ input: Tensor, _ block: InvertedResidualConvs) -> Tensor {
        guard recording else { return cpu.invertedResidual(input, block) }
        let start = now()
        let out = cpu.invertedResidual(input, block)
        let seconds = Double(now() - start) / 1e9
        var flops = 0.0
        var x = input
        for conv in [block.expand?.conv, block.depthwise.conv, block.project.conv].compactMap({ $0 }) {
            guard let c = conv as? CPUPreparedConv2D else { continue }
            let g = c.geometry(for: x)
            flops += g.flops
            x = Tensor(uninitializedShape: [0, g.outChannels, g.outH, g.outW])
        }
        costs[stage, default: .init()].fusedFlops += flops
        costs[stage, default: .init()].fusedSeconds += seconds
        costs[stage, default: .init()].fusedCalls += 1
        return out
    }

    func prepareLinear(weight: Tensor, bias: Tensor?) -> PreparedLinear { cpu.prepareLinear(weight: weight, bias: bias) }

    func linear(_ input: Tensor, _ layer: PreparedLinear, activation: Activation) -> Tensor {
        guard recording else { return cpu.linear(input, layer, activation: activation) }
        let start = now()
        let out = cpu.linear(input, layer, activation: activation)
        costs[stage, default: .init()].linearSeconds += Double(now() - start) / 1e9
        costs[stage, default: .init()].linearFlops += 2 * Double(input.shape[0] * layer.inFeatures * layer.outFeatures)
        return out
    }

    func maxPool2d(_ input: Tensor, kernel: Int, stride: Int, padding: Int) -> Tensor {
        cpu.maxPool2d(input, kernel: kernel, stride: stride, padding: padding)
    }
    func globalAveragePool(_ input: Tensor) -> Tensor { cpu.globalAveragePool(input) }
    func upsampleNearest(_ input: Tensor, height: Int, width: Int) -> Tensor {
        cpu.upsampleNearest(input, height: height, width: width)
    }
    func add(_ a: Tensor, _ b: Tensor, activation: Activation) -> Tensor { cpu.add(a, b, activation: activation) }
    func multiply(_ a: Tensor, _ b: Tensor) -> Tensor { cpu.multiply(a, b) }
    func scaleChannels(_ input: Tensor, by scale: Tensor) -> Tensor { cpu.scaleChannels(input, by: scale) }
    func activate(_ input: Tensor, _ activation: Activation) -> Tensor { cpu.activate(input, activation) }
    func softmax(_ input: Tensor) -> Tensor { cpu.softmax(input) }
    func concat(_ inputs: [Tensor], axis: Int) -> Tensor { cpu.concat(inputs, axis: axis) }
    func topK(_ input: Tensor, k: Int) -> (values: [Float], indices: [Int]) { cpu.topK(input, k: k) }
}
