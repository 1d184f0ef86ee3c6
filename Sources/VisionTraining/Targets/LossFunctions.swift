// Array-level wrappers of the loss kernels (Kernels/CPU/Backward/Losses.swift) that
// also accept empty inputs: the loss of nothing is 0 for sums and NaN for means, as in torch.

import VisionKernels

/// smooth_l1_loss(input, target, beta, reduction "sum") and gradScale * its gradient.
public func smoothL1Sum(_ input: [Float], _ target: [Float], beta: Float, gradScale: Float = 1) -> (loss: Float, gradient: [Float]) {
    precondition(input.count == target.count, "smoothL1Sum: \(input.count) inputs, \(target.count) targets")
    if input.isEmpty { return (0, []) }
    var grad = [Float](repeating: 0, count: input.count)
    let loss = input.withUnsafeBufferPointer { x in
        target.withUnsafeBufferPointer { t in
            grad.withUnsafeMutableBufferPointer { g in
                smoothL1LossSum(input: x.baseAddress!, target: t.baseAddress!, count: x.count, beta: beta,
                                gradInput: g.baseAddress!, gradScale: gradScale)
            }
        }
    }
    return (loss, grad)
}

/// binary_cross_entropy_with_logits(logits, targets) mean, and gradScale * its gradient.
public func binaryCrossEntropyWithLogitsMean(_ logits: [Float], _ targets: [Float], gradScale: Float = 1) -> (loss: Float, gradient: [Float]) {
    precondition(logits.count == targets.count, "BCE: \(logits.count) logits, \(targets.count) targets")
    if logits.isEmpty { return (.nan, []) }
    var grad = [Float](repeating: 0, count: logits.count)
    let loss = logits.withUnsafeBufferPointer { x in
        targets.withUnsafeBufferPointer { t in
            grad.withUnsafeMutableBufferPointer { g in
                binaryCrossEntropyWithLogits(logits: x.baseAddress!, targets: t.baseAddress!, count: x.count,
                                             gradLogits: g.baseAddress!, gradScale: gradScale)
            }
        }
    }
    return (loss, grad)
}

/// cross_entropy(logits [rows, classes], labels) mean, and gradScale * its gradient [rows, classes].
public func crossEntropyMean(_ logits: UnsafeBufferPointer<Float>, labels: [Int], classes: Int,
                             gradScale: Float = 1) -> (loss: Float, gradient: [Float]) {
    precondition(logits.count == labels.count * classes, "crossEntropy: \(logits.count) logits for \(labels.count) x \(classes)")
    if labels.isEmpty { return (.nan, []) }
    var grad = [Float](repeating: 0, count: logits.count)
    let loss = labels.withUnsafeBufferPointer { l in
        grad.withUnsafeMutableBufferPointer { g in
            softmaxCrossEntropy(logits: logits.baseAddress!, labels: l.baseAddress!, rows: labels.count, classes: classes,
                                gradLogits: g.baseAddress!, gradScale: gradScale)
        }
    }
    return (loss, grad)
}
