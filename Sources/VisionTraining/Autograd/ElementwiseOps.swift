// Differentiable element-wise ops: activations, frozen batch norm (a constant
// per-channel affine), add, multiply, squeeze-excitation channel scaling, reshape.

import VisionCore
import VisionKernels

extension Tape {
    /// y = act(x), any shape. The backward uses x, PyTorch's derivative conventions
    /// at the kinks (see ActivationBackward.swift).
    public func activation(_ x: Variable, _ kind: KernelActivation) -> Variable {
        if kind == .identity { return x }
        let out = Tensor(uninitializedShape: x.shape)
        activate(x.value.storage.pointer, output: out.storage.pointer, count: out.count, activation: kind, threads: self.threads)
        return record(out, inputs: [x]) { dy in
            let dx = Tensor(uninitializedShape: x.shape)
            activationBackward(input: x.value.storage.pointer, gradOutput: dy.storage.pointer,
                               gradInput: dx.storage.pointer, count: dx.count, activation: kind, threads: self.threads)
            x.accumulateGrad(dx, threads: self.threads)
        }
    }

    public func relu(_ x: Variable) -> Variable { activation(x, .relu) }

    /// Frozen batch norm: y[n, c] = x[n, c] * scale[c] + shift[c] with constant
    /// scale = gamma / sqrt(var + eps), shift = beta - mean * scale. x [N, C, H, W].
    public func channelAffine(_ x: Variable, scale: Tensor, shift: Tensor) -> Variable {
        precondition(x.value.rank == 4 && scale.count == x.shape[1] && shift.count == x.shape[1],
                     "channelAffine: x \(x.shape), scale \(scale.shape), shift \(shift.shape)")
        let n = x.shape[0], c = x.shape[1], plane = x.shape[2] * x.shape[3]
        let out = Tensor(uninitializedShape: x.shape)
        let src = x.value.storage.pointer, dst = out.storage.pointer
        let s = scale.storage.pointer, b = shift.storage.pointer
        for p in 0..<(n * c) {
            let ch = p % c
            let k = s[ch], o = b[ch]
            for i in 0..<plane { dst[p &* plane &+ i] = src[p &* plane &+ i] * k + o }
        }
        return record(out, inputs: [x]) { dy in
            let dx = zeros(x.shape)
            channelAffineBackward(scale: scale.storage.pointer, gradOutput: dy.storage.pointer,
                                  gradX: dx.storage.pointer, batch: n, channels: c, planeSize: plane, threads: self.threads)
            x.accumulateGrad(dx, threads: self.threads)
        }
    }

    public func add(_ a: Variable, _ b: Variable) -> Variable {
        precondition(a.shape == b.shape, "add: shapes \(a.shape) and \(b.shape) differ")
        let out = Tensor(uninitializedShape: a.shape)
        VisionKernels.add(a.value.storage.pointer, b.value.storage.pointer, output: out.storage.pointer,
                          count: out.count, activation: .identity, threads: self.threads)
        return record(out, inputs: [a, b]) { dy in
            a.accumulateGrad(dy, threads: self.threads)
            b.accumulateGrad(dy, threads: self.threads)
        }
    }

    public func multiply(_ a: Variable, _ b: Variable) -> Variable {
        precondition(a.shape == b.shape, "multiply: shapes \(a.shape) and \(b.shape) differ")
        let out = Tensor(uninitializedShape: a.shape)
        VisionKernels.multiply(a.value.storage.pointer, b.value.storage.pointer, output: out.storage.pointer, count: out.count, threads: self.threads)
        return record(out, inputs: [a, b]) { dy in
            let da = a.requiresGrad ? zeros(a.shape) : nil
            let db = b.requiresGrad ? zeros(b.shape) : nil
            multiplyBackward(a.value.storage.pointer, b.value.storage.pointer, gradOutput: dy.storage.pointer,
                             gradA: da?.storage.pointer, gradB: db?.storage.pointer, count: dy.count, threads: self.threads)
            if let da { a.accumulateGrad(da, threads: self.threads) }
            if let db { b.accumulateGrad(db, threads: self.threads) }
        }
    }

    /// Squeeze-excitation: y[n, c, :] = x[n, c, :] * scale[n, c]. x [N, C, H, W], scale N*C floats.
    public func scaleChannels(_ x: Variable, by scale: Variable) -> Variable {
        precondition(x.value.rank == 4 && scale.value.count == x.shape[0] * x.shape[1],
                     "scaleChannels: x \(x.shape), scale \(scale.shape)")
        let planes = x.shape[0] * x.shape[1], plane = x.shape[2] * x.shape[3]
        let out = Tensor(uninitializedShape: x.shape)
        VisionKernels.scaleChannels(x.value.storage.pointer, scale: scale.value.storage.pointer,
                                    output: out.storage.pointer, planes: planes, planeSize: plane, threads: self.threads)
        return record(out, inputs: [x, scale]) { dy in
            let dx = x.requiresGrad ? zeros(x.shape) : nil
            let ds = scale.requiresGrad ? zeros(scale.shape) : nil
            scaleChannelsBackward(x.value.storage.pointer, scale: scale.value.storage.pointer,
                                  gradOutput: dy.storage.pointer, gradX: dx?.storage.pointer,
                                  gradScale: ds?.storage.pointer, planes: planes, planeSize: plane, threads: self.threads)
            if let dx { x.accumulateGrad(dx, threads: self.threads) }
            if let ds { scale.accumulateGrad(ds, threads: self.threads) }
        }
    }

    /// Same elements, another shape (torch's view / flatten).
    public func reshape(_ x: Variable, _ shape: [Int]) -> Variable {
        let out = x.value.reshaped(shape)
        return record(out, inputs: [x]) { dy in x.accumulateGrad(dy.reshaped(x.shape), threads: self.threads) }
    }
}
