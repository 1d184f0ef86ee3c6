// Differentiable normalisations with statistics of the current batch: BatchNorm2d in
// training mode and GroupNorm. NCHW; forward and backward run on the tape's backend.
// The gradient flows through the statistics too (they are functions of x).

import VisionCore

extension Tape {
    /// BatchNorm2d.train(): x [N, C, H, W], weight and bias [C] -> y [N, C, H, W], and the
    /// batch mean and biased variance [C] (host memory) for the running statistics.
    public func batchNorm(_ x: Variable, weight: Variable, bias: Variable, eps: Float)
        -> (output: Variable, mean: Tensor, variance: Tensor) {
        precondition(x.value.rank == 4 && weight.value.count == x.shape[1] && bias.value.count == x.shape[1],
                     "batchNorm: x \(x.shape), weight \(weight.shape), bias \(bias.shape)")
        let r = backend.batchNormTraining(x.value, weight: weight.value, bias: bias.value, eps: eps)
        let out = record(r.output, inputs: [x, weight, bias]) { dy in
            let d = self.backend.batchNormTrainingBackward(dy, input: x.value, mean: r.mean, variance: r.variance,
                                                           weight: weight.value, eps: eps,
                                                           inputGradient: x.requiresGrad, weightGradient: weight.requiresGrad,
                                                           biasGradient: bias.requiresGrad)
            if let dx = d.input { x.accumulateGrad(dx, backend: self.backend) }
            if let dw = d.weight { weight.accumulateGrad(dw, backend: self.backend) }
            if let db = d.bias { bias.accumulateGrad(db, backend: self.backend) }
        }
        return (out, r.mean, r.variance)
    }

    /// nn.GroupNorm(groups, C): x [N, C, H, W], weight and bias [C] -> y [N, C, H, W].
    public func groupNorm(_ x: Variable, weight: Variable, bias: Variable, groups: Int, eps: Float) -> Variable {
        precondition(x.value.rank == 4 && groups > 0 && x.shape[1] % groups == 0 && weight.value.count == x.shape[1]
                     && bias.value.count == x.shape[1],
                     "groupNorm: x \(x.shape), \(groups) groups, weight \(weight.shape), bias \(bias.shape)")
        let r = backend.groupNorm(x.value, weight: weight.value, bias: bias.value, groups: groups, eps: eps)
        return record(r.output, inputs: [x, weight, bias]) { dy in
            let d = self.backend.groupNormBackward(dy, input: x.value, mean: r.mean, variance: r.variance,
                                                   weight: weight.value, groups: groups, eps: eps,
                                                   inputGradient: x.requiresGrad, weightGradient: weight.requiresGrad,
                                                   biasGradient: bias.requiresGrad)
            if let dx = d.input { x.accumulateGrad(dx, backend: self.backend) }
            if let dw = d.weight { weight.accumulateGrad(dw, backend: self.backend) }
            if let db = d.bias { bias.accumulateGrad(db, backend: self.backend) }
        }
    }
}
