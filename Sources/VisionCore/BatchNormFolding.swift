// Folds a (frozen) batch norm that follows a convolution into the conv's weights.
// Mirrors torchvision's FrozenBatchNorm2d in float32:
//   scale = gamma * rsqrt(runningVar + eps);  shift = beta - runningMean * scale
//   bn(conv(x) + b) = conv_{w * scale}(x) + (b * scale + shift)

import Foundation

/// weight [Cout, ...], bias [Cout] or nil, BN parameters [Cout] each.
/// Returns the folded weight (same shape) and bias [Cout].
public func foldBatchNorm(
    weight: Tensor, bias: Tensor?, gamma: Tensor, beta: Tensor,
    runningMean: Tensor, runningVar: Tensor, eps: Float
) -> (weight: Tensor, bias: Tensor) {
    precondition(weight.rank >= 1, "weight must have an output-channel axis, got \(weight.shape)")
    let cout = weight.shape[0]
    for (name, t) in [("gamma", gamma), ("beta", beta), ("runningMean", runningMean), ("runningVar", runningVar)] {
        precondition(t.count == cout, "batch-norm \(name) \(t.shape) does not match Cout \(cout)")
    }
    if let bias { precondition(bias.count == cout, "conv bias \(bias.shape) does not match Cout \(cout)") }
    let perChannel = cout == 0 ? 0 : weight.count / cout
    let foldedWeight = Tensor(uninitializedShape: weight.shape)
    let foldedBias = Tensor(uninitializedShape: [cout])
    let w = weight.storage.pointer, fw = foldedWeight.storage.pointer, fb = foldedBias.storage.pointer
    for c in 0..<cout {
        let scale = gamma[flat: c] * (1 / (runningVar[flat: c] + eps).squareRoot())
        let shift = beta[flat: c] - runningMean[flat: c] * scale
        for i in 0..<perChannel { fw[c * perChannel + i] = w[c * perChannel + i] * scale }
        fb[c] = (bias?[flat: c] ?? 0) * scale + shift
    }
    return (foldedWeight, foldedBias)
}
