// Differentiable element-wise ops: activations, frozen batch norm (a constant
// per-channel affine), add, multiply, squeeze-excitation channel scaling, reshape.
// Forward and backward run on the tape's backend.

import VisionCore

extension Tape {
    /// y = act(x), any shape. The backward uses x, PyTorch's derivative conventions
    /// at the kinks (see Kernels/CPU/Backward/ActivationBackward.swift).
    public func activation(_ x: Variable, _ kind: Activation) -> Variable {
        if kind == .identity { return x }
        let out = backend.activate(x.value, kind)
        return record(out, inputs: [x]) { dy in
            x.accumulateGrad(self.backend.activationBackward(dy, input: x.value, kind), backend: self.backend)
        }
    }

    public func relu(_ x: Variable) -> Variable { activation(x, .relu) }

    /// Frozen batch norm: y[n, c] = x[n, c] * scale[c] + shift[c] with constant
    /// scale = gamma / sqrt(var + eps), shift = beta - mean * scale. x [N, C, H, W].
    public func channelAffine(_ x: Variable, scale: Tensor, shift: Tensor) -> Variable {
        precondition(x.value.rank == 4 && scale.count == x.shape[1] && shift.count == x.shape[1],
                     "channelAffine: x \(x.shape), scale \(scale.shape), shift \(shift.shape)")
        let out = backend.channelAffine(x.value, scale: scale, shift: shift)
        return record(out, inputs: [x]) { dy in
            x.accumulateGrad(self.backend.channelAffineBackward(dy, scale: scale), backend: self.backend)
        }
    }

    public func add(_ a: Variable, _ b: Variable) -> Variable {
        precondition(a.shape == b.shape, "add: shapes \(a.shape) and \(b.shape) differ")
        let out = backend.add(a.value, b.value, activation: .identity)
        return record(out, inputs: [a, b]) { dy in
            a.accumulateGrad(dy, backend: self.backend)
            b.accumulateGrad(dy, backend: self.backend)
        }
    }

    public func multiply(_ a: Variable, _ b: Variable) -> Variable {
        precondition(a.shape == b.shape, "multiply: shapes \(a.shape) and \(b.shape) differ")
        let out = backend.multiply(a.value, b.value)
        return record(out, inputs: [a, b]) { dy in
            let d = self.backend.multiplyBackward(dy, a.value, b.value, aGradient: a.requiresGrad, bGradient: b.requiresGrad)
            if let da = d.a { a.accumulateGrad(da, backend: self.backend) }
            if let db = d.b { b.accumulateGrad(db, backend: self.backend) }
        }
    }

    /// Squeeze-excitation: y[n, c, :] = x[n, c, :] * scale[n, c]. x [N, C, H, W], scale [N, C, 1, 1] (or [N, C]).
    public func scaleChannels(_ x: Variable, by scale: Variable) -> Variable {
        precondition(x.value.rank == 4 && scale.value.count == x.shape[0] * x.shape[1],
                     "scaleChannels: x \(x.shape), scale \(scale.shape)")
        let out = backend.scaleChannels(x.value, by: scale.value)
        return record(out, inputs: [x, scale]) { dy in
            let d = self.backend.scaleChannelsBackward(dy, input: x.value, scale: scale.value,
                                                       inputGradient: x.requiresGrad, scaleGradient: scale.requiresGrad)
            if let dx = d.input { x.accumulateGrad(dx, backend: self.backend) }
            if let ds = d.scale { scale.accumulateGrad(ds, backend: self.backend) }
        }
    }

    /// Same elements, another shape (torch's view / flatten).
    public func reshape(_ x: Variable, _ shape: [Int]) -> Variable {
        let out = x.value.reshaped(shape)
        return record(out, inputs: [x]) { dy in x.accumulateGrad(dy.reshaped(x.shape), backend: self.backend) }
    }
}
