// Differentiable convolution and fully connected ops on the tape, run on its backend.
// conv2d: x [N, Cin, H, W], weight [Cout, Cin/groups, kH, kW], bias [Cout] -> [N, Cout, Hout, Wout].
// linear: x [N, in] (or [N, C, H, W], flattened in C, H, W order), weight [out, in], bias [out] -> [N, out].

import VisionCore

extension Tape {
    public func conv2d(_ x: Variable, weight: Variable, bias: Variable?, stride: Int = 1, padding: Int = 0,
                       dilation: Int = 1, groups: Int = 1) -> Variable {
        precondition(x.value.rank == 4 && weight.value.rank == 4, "conv2d: x \(x.shape), weight \(weight.shape)")
        let ws = weight.shape
        precondition(groups > 0 && ws[1] * groups == x.shape[1],
                     "conv2d: weight \(ws) does not fit \(x.shape[1]) channels / \(groups) groups")
        if let bias { precondition(bias.value.count == ws[0], "conv2d: bias \(bias.shape) for \(ws[0]) channels") }
        let parameters = Conv2DParameters(stride: stride, padding: padding, dilation: dilation, groups: groups)
        let out = backend.conv2d(x.value, weight: weight.value, bias: bias?.value, parameters: parameters)
        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        return record(out, inputs: inputs) { dy in
            let d = self.backend.conv2dBackward(dy, input: x.value, weight: weight.value, parameters: parameters,
                                                inputGradient: x.requiresGrad, weightGradient: weight.requiresGrad,
                                                biasGradient: bias?.requiresGrad ?? false)
            if let dx = d.input { x.accumulateGrad(dx, backend: self.backend) }
            if let dw = d.weight { weight.accumulateGrad(dw, backend: self.backend) }
            if let db = d.bias, let bias { bias.accumulateGrad(db, backend: self.backend) }
        }
    }

    public func linear(_ x: Variable, weight: Variable, bias: Variable?) -> Variable {
        precondition(weight.value.rank == 2, "linear: weight must be [out, in], got \(weight.shape)")
        let batch = x.shape.first ?? 0
        let outF = weight.shape[0], inF = weight.shape[1]
        precondition(x.value.count == batch * inF, "linear: x \(x.shape) does not flatten to [\(batch), \(inF)]")
        if let bias { precondition(bias.value.count == outF, "linear: bias \(bias.shape) for \(outF) outputs") }
        let out = backend.linear(x.value, weight: weight.value, bias: bias?.value)
        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        return record(out, inputs: inputs) { dy in
            let d = self.backend.linearBackward(dy, input: x.value, weight: weight.value,
                                                inputGradient: x.requiresGrad, weightGradient: weight.requiresGrad,
                                                biasGradient: bias?.requiresGrad ?? false)
            if let dx = d.input { x.accumulateGrad(dx, backend: self.backend) }
            if let dw = d.weight { weight.accumulateGrad(dw, backend: self.backend) }
            if let db = d.bias, let bias { bias.accumulateGrad(db, backend: self.backend) }
        }
    }
}
