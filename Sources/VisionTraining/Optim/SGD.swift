// torch.optim.SGD with momentum and weight decay (dampening 0, no Nesterov), per
// parameter p with gradient g:
//   g = g + weightDecay * p
//   buf = g on the first step, else momentum * buf + g
//   p = p - lr * buf
// Parameters without a gradient are skipped (torch skips p.grad is None). The
// update writes into the parameter's storage: parameters own their tensors.

import VisionCore

public final class SGD {
    public let parameters: [Variable]
    public var learningRate: Float
    public let momentum: Float
    public let weightDecay: Float
    /// Momentum buffers, one per parameter, created at the parameter's first update.
    public private(set) var momentumBuffers: [Tensor?]

    public init(parameters: [Variable], learningRate: Float, momentum: Float = 0.9, weightDecay: Float = 1e-4) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        momentumBuffers = Array(repeating: nil, count: parameters.count)
    }

    /// One update of every parameter that has a gradient.
    public func step() {
        let lr = learningRate, wd = weightDecay, mu = momentum
        for (i, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            let n = p.value.count
            let w = p.value.storage.pointer, g = grad.storage.pointer
            if mu == 0 {
                for j in 0..<n { w[j] -= lr * (g[j] + wd * w[j]) }
                continue
            }
            if let buffer = momentumBuffers[i] {
                let b = buffer.storage.pointer
                for j in 0..<n {
                    b[j] = mu * b[j] + (g[j] + wd * w[j])
                    w[j] -= lr * b[j]
                }
            } else {
                let buffer = Tensor(uninitializedShape: p.shape)
                let b = buffer.storage.pointer
                for j in 0..<n {
                    b[j] = g[j] + wd * w[j]
                    w[j] -= lr * b[j]
                }
                momentumBuffers[i] = buffer
            }
        }
    }

    public func zeroGrad() { for p in parameters { p.zeroGrad() } }

    /// Restores a saved momentum buffer (same shape as parameter `index`; nil: none yet).
    public func setMomentumBuffer(_ buffer: Tensor?, at index: Int) {
        if let buffer { precondition(buffer.count == parameters[index].value.count, "momentum buffer \(buffer.shape) for \(parameters[index].shape)") }
        momentumBuffers[index] = buffer.map { $0.copy().reshaped(parameters[index].shape) }
    }
}
