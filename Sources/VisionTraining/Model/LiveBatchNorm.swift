// torch.nn.BatchNorm2d in train() mode, as the training executor runs it: normalised
// with the current batch's statistics (gradient through them), and the running
// statistics updated the way torch does it, so that inference, which folds the batch
// norm into the conv with the running statistics (InferenceExecutor), and a resumed
// run see exactly what torch's state dict would hold.

import VisionCore

public final class LiveBatchNorm {
    /// torch's default BatchNorm2d momentum: running = (1 - m) * running + m * batch.
    public static let momentum: Float = 0.1

    /// gamma, beta [C]: parameters (frozen ones when the layer is outside the trainable backbone layers).
    public let weight: Variable
    public let bias: Variable
    /// [C], [C] and a scalar: ModelParameters' buffers, updated in place by every forward pass.
    public let runningMean: Tensor
    public let runningVar: Tensor
    public let numBatchesTracked: Tensor
    public let eps: Float

    /// Registers `<prefix>.weight`, `.bias` (ones, zeros when initialised, as torch's
    /// reset_parameters), `.running_mean`, `.running_var` and `.num_batches_tracked`, in
    /// torch's state-dict order.
    init(_ p: ModelParameters, prefix: String, channels: Int, eps: Float, trainable: Bool) {
        weight = p.parameter("\(prefix).weight", shape: [channels], initializer: .constant(1), trainable: trainable)
        bias = p.parameter("\(prefix).bias", shape: [channels], initializer: .constant(0), trainable: trainable)
        runningMean = p.buffer("\(prefix).running_mean", shape: [channels], fill: 0)
        runningVar = p.buffer("\(prefix).running_var", shape: [channels], fill: 1)
        numBatchesTracked = p.counter("\(prefix).num_batches_tracked")
        self.eps = eps
    }

    /// x [N, C, H, W] -> [N, C, H, W]. Updates the running statistics with the batch mean
    /// and the unbiased batch variance (var * M / (M - 1), M = N * H * W), and counts the batch.
    func callAsFunction(_ x: Variable, tape: Tape) -> Variable {
        let r = tape.batchNorm(x, weight: weight, bias: bias, eps: eps)
        let elements = x.shape[0] * x.shape[2] * x.shape[3]
        // torch refuses M = 1 (no variance to estimate); keep the biased value rather than divide by zero.
        let correction = elements > 1 ? Float(elements) / Float(elements - 1) : 1
        let m = Self.momentum
        let mean = runningMean.storage.pointer, variance = runningVar.storage.pointer
        for c in 0..<runningMean.count {
            mean[c] = (1 - m) * mean[c] + m * r.mean[flat: c]
            variance[c] = (1 - m) * variance[c] + m * r.variance[flat: c] * correction
        }
        numBatchesTracked.storage.pointer[0] += 1
        return r.output
    }
}
