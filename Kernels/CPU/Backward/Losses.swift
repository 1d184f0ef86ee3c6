// The detection losses and their gradients w.r.t. their inputs, as PyTorch defines
// them. Sums run in Double (the values are then rounded once to Float32), so the
// result does not depend on the summation order. Gradients are written (not
// accumulated) when a pointer is given, multiplied by `gradScale` (the upstream
// gradient of the loss, 1 for a loss that is itself the objective).

import Foundation

/// F.cross_entropy(logits, labels) with reduction "mean": mean over rows of
/// logsumexp(row) - row[label]. logits [rows, classes]; labels in 0..<classes.
/// Gradient: gradScale * (softmax(row) - onehot(label)) / rows.
public func softmaxCrossEntropy(
    logits: UnsafePointer<Float>, labels: UnsafePointer<Int>, rows: Int, classes: Int,
    gradLogits: UnsafeMutablePointer<Float>?, gradScale: Float = 1
) -> Float {
    if rows == 0 {
        return .nan  // torch: mean over an empty batch
    }
    var total: Double = 0
    let invRows = gradScale / Float(rows)
    for r in 0..<rows {
        let row = logits + r &* classes
        let label = labels[r]
        precondition(label >= 0 && label < classes, "softmaxCrossEntropy: label \(label) out of 0..<\(classes)")
        var m = -Float.infinity
        for c in 0..<classes where row[c] > m { m = row[c] }
        var sum: Double = 0
        for c in 0..<classes { sum += Double(expf(row[c] - m)) }
        let logSum = Double(m) + Foundation.log(sum)
        total += logSum - Double(row[label])
        if let gradLogits {
            let g = gradLogits + r &* classes
            for c in 0..<classes {
                let p = Float(Foundation.exp(Double(row[c]) - logSum))
                g[c] = (c == label ? p - 1 : p) * invRows
            }
        }
    }
    return Float(total / Double(rows))
}

/// F.smooth_l1_loss(input, target, beta, reduction "sum"):
/// |d| < beta ? 0.5 d² / beta : |d| - 0.5 beta, d = input - target.
/// Gradient (PyTorch's smooth_l1_backward): d < -beta ? -1 : (d > beta ? 1 : d / beta), times gradScale.
public func smoothL1LossSum(
    input: UnsafePointer<Float>, target: UnsafePointer<Float>, count: Int, beta: Float,
    gradInput: UnsafeMutablePointer<Float>?, gradScale: Float = 1
) -> Float {
    var total: Double = 0
    for i in 0..<count {
        let d = input[i] - target[i]
        let a = abs(d)
        total += a < beta ? Double(0.5 * d * d / beta) : Double(a - 0.5 * beta)
        if let gradInput {
            gradInput[i] = d < -beta ? -gradScale : (d > beta ? gradScale : gradScale * d / beta)
        }
    }
    return Float(total)
}

/// F.binary_cross_entropy_with_logits(x, y) with reduction "mean":
/// mean of (1 - y) x + log(1 + exp(-x)), evaluated stably as
/// (1 - y) x + m + log(exp(-m) + exp(-x - m)), m = max(-x, 0).
/// Gradient: gradScale * (sigmoid(x) - y) / count.
public func binaryCrossEntropyWithLogits(
    logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, count: Int,
    gradLogits: UnsafeMutablePointer<Float>?, gradScale: Float = 1
) -> Float {
    if count == 0 { return .nan }
    var total: Double = 0
    let scale = gradScale / Float(count)
    for i in 0..<count {
        let x = Double(logits[i]), y = Double(targets[i])
        let m = max(-x, 0)
        total += (1 - y) * x + m + Foundation.log(Foundation.exp(-m) + Foundation.exp(-x - m))
        if let gradLogits {
            let s = 1 / (1 + expf(-logits[i]))
            gradLogits[i] = (s - targets[i]) * scale
        }
    }
    return Float(total / Double(count))
}
