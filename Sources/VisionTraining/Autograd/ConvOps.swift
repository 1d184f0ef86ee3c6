// Differentiable convolution and fully connected ops on the tape.
// conv2d: x [N, Cin, H, W], weight [Cout, Cin/groups, kH, kW], bias [Cout] -> [N, Cout, Hout, Wout].
// linear: x [N, in] (or [N, C, H, W], flattened in C, H, W order), weight [out, in], bias [out] -> [N, out].

import VisionCore
import VisionKernels

extension Tape {
    public func conv2d(_ x: Variable, weight: Variable, bias: Variable?, stride: Int = 1, padding: Int = 0,
                       dilation: Int = 1, groups: Int = 1) -> Variable {
        precondition(x.value.rank == 4 && weight.value.rank == 4, "conv2d: x \(x.shape), weight \(weight.shape)")
        let ws = weight.shape
        let g = ConvGeometry(batch: x.shape[0], inChannels: x.shape[1], inH: x.shape[2], inW: x.shape[3],
                             outChannels: ws[0], kernelH: ws[2], kernelW: ws[3], strideH: stride, strideW: stride,
                             padH: padding, padW: padding, dilationH: dilation, dilationW: dilation, groups: groups)
        precondition(ws[1] == g.inChannelsPerGroup, "conv2d: weight \(ws) does not fit \(x.shape[1]) channels / \(groups) groups")
        if let bias { precondition(bias.value.count == ws[0], "conv2d: bias \(bias.shape) for \(ws[0]) channels") }
        let out = Tensor(uninitializedShape: [g.batch, g.outChannels, g.outH, g.outW])
        VisionKernels.conv2d(input: x.value.storage.pointer, weight: weight.value.storage.pointer,
                             bias: bias.map { UnsafePointer($0.value.storage.pointer) },
                             output: out.storage.pointer, geometry: g, activation: .identity, threads: self.threads)
        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        return record(out, inputs: inputs) { dy in
            let dx = x.requiresGrad ? zeros(x.shape) : nil
            let dw = weight.requiresGrad ? zeros(weight.shape) : nil
            let db = (bias?.requiresGrad ?? false) ? zeros([ws[0]]) : nil
            conv2dBackward(input: x.value.storage.pointer, weight: weight.value.storage.pointer,
                           gradOutput: dy.storage.pointer, gradInput: dx?.storage.pointer,
                           gradWeight: dw?.storage.pointer, gradBias: db?.storage.pointer, geometry: g, threads: self.threads)
            if let dx { x.accumulateGrad(dx, threads: self.threads) }
            if let dw { weight.accumulateGrad(dw, threads: self.threads) }
            if let db, let bias { bias.accumulateGrad(db, threads: self.threads) }
        }
    }

    public func linear(_ x: Variable, weight: Variable, bias: Variable?) -> Variable {
        precondition(weight.value.rank == 2, "linear: weight must be [out, in], got \(weight.shape)")
        let batch = x.shape.first ?? 0
        let outF = weight.shape[0], inF = weight.shape[1]
        precondition(x.value.count == batch * inF, "linear: x \(x.shape) does not flatten to [\(batch), \(inF)]")
        if let bias { precondition(bias.value.count == outF, "linear: bias \(bias.shape) for \(outF) outputs") }
        let out = Tensor(uninitializedShape: [batch, outF])
        VisionKernels.linear(input: x.value.storage.pointer, weight: weight.value.storage.pointer,
                             bias: bias.map { UnsafePointer($0.value.storage.pointer) },
                             output: out.storage.pointer, batch: batch, inFeatures: inF, outFeatures: outF,
                             activation: .identity, threads: self.threads)
        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        return record(out, inputs: inputs) { dy in
            let dx = x.requiresGrad ? zeros(x.shape) : nil
            let dw = weight.requiresGrad ? zeros(weight.shape) : nil
            let db = (bias?.requiresGrad ?? false) ? zeros([outF]) : nil
            linearBackward(input: x.value.storage.pointer, weight: weight.value.storage.pointer,
                           gradOutput: dy.storage.pointer, gradInput: dx?.storage.pointer,
                           gradWeight: dw?.storage.pointer, gradBias: db?.storage.pointer,
                           batch: batch, inFeatures: inF, outFeatures: outF, threads: self.threads)
            if let dx { x.accumulateGrad(dx, threads: self.threads) }
            if let dw { weight.accumulateGrad(dw, threads: self.threads) }
            if let db, let bias { bias.accumulateGrad(db, threads: self.threads) }
        }
    }
}
