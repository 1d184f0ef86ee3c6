// The region proposal network's training targets and loss, as torchvision's
// RegionProposalNetwork.assign_targets_to_anchors and compute_loss.
//
// Layouts: anchors per image [A, 4] (the same A anchors for every image of a batch);
// objectness [N*A] and deltas [N*A, 4] in the order of flattenPredictions (image,
// level, y, x, anchor), which is also the anchors' order.

import VisionDetection
import VisionKernels

/// One image's anchor targets.
public struct RPNTargets: Sendable {
    /// Per anchor: 1 foreground, 0 background, -1 ignored.
    public var labels: [Float]
    /// The matched GT box per anchor (zeros for a background-only image).
    public var matchedBoxes: Boxes
    /// BoxCoder.rpn.encode(matched GT, anchors): [A, 4].
    public var regressionTargets: [Float]
}

/// The RPN's two losses and their gradients w.r.t. objectness and deltas.
public struct RPNLoss: Sendable {
    public var objectness: Float
    public var boxRegression: Float
    /// d(objectness loss)/d(objectness) * objectnessWeight: [N*A].
    public var objectnessGradient: [Float]
    /// d(box loss)/d(deltas) * boxWeight: [N*A, 4].
    public var deltasGradient: [Float]
}

public struct RPNTargetAssigner: Sendable {
    public var matcher: Matcher
    public var sampler: BalancedPositiveNegativeSampler
    public var coder: BoxCoder

    public init(matcher: Matcher = .rpn,
                sampler: BalancedPositiveNegativeSampler = .init(batchSizePerImage: 256, positiveFraction: 0.5),
                coder: BoxCoder = .rpn) {
        self.matcher = matcher
        self.sampler = sampler
        self.coder = coder
    }

    /// assign_targets_to_anchors for one image.
    public func targets(anchors: Boxes, groundTruth: Boxes) -> RPNTargets {
        let a = anchors.count
        if groundTruth.isEmpty {
            let zeros = Boxes(coordinates: [Float](repeating: 0, count: a * 4))
            return RPNTargets(labels: [Float](repeating: 0, count: a), matchedBoxes: zeros,
                              regressionTargets: coder.encode(referenceBoxes: zeros, proposals: anchors))
        }
        let quality = boxIoU(groundTruth, anchors)
        let matches = matcher.match(quality: quality, groundTruthCount: groundTruth.count, predictionCount: a)
        let matched = groundTruth.selecting(matches.map { max($0, 0) })
        let labels: [Float] = matches.map { m in
            m >= 0 ? 1 : (m == Matcher.betweenThresholds ? -1 : 0)
        }
        return RPNTargets(labels: labels, matchedBoxes: matched,
                          regressionTargets: coder.encode(referenceBoxes: matched, proposals: anchors))
    }

    /// compute_loss: samples anchors per image, then
    ///   objectness loss = BCE-with-logits mean over sampled anchors,
    ///   box loss = smooth_l1(beta 1/9, sum) over sampled positives / number sampled.
    /// Gradients are scaled by `objectnessWeight` / `boxWeight` (the weights the
    /// objective gives each loss) so they can be seeded into a tape directly.
    public func loss<S: PermutationSource>(
        objectness: UnsafeBufferPointer<Float>, deltas: UnsafeBufferPointer<Float>, targets: [RPNTargets],
        permutations: inout S, objectnessWeight: Float = 1, boxWeight: Float = 1
    ) -> RPNLoss {
        let perImage = targets.first?.labels.count ?? 0
        precondition(targets.allSatisfy { $0.labels.count == perImage } && objectness.count == perImage * targets.count
                     && deltas.count == 4 * objectness.count,
                     "RPN loss: \(objectness.count) logits, \(deltas.count) deltas for \(targets.count) x \(perImage) anchors")
        let sampled = sampler.sample(targets.map { $0.labels.map { Int($0) } }, permutations: &permutations)
        var positive: [Int] = [], negative: [Int] = []
        for (image, s) in sampled.enumerated() {
            positive.append(contentsOf: s.positive.map { $0 + image * perImage })
            negative.append(contentsOf: s.negative.map { $0 + image * perImage })
        }
        let chosen = positive + negative
        let allLabels = targets.flatMap(\.labels)
        let allTargets = targets.flatMap(\.regressionTargets)

        // Objectness: gather the sampled logits, loss + gradient, scatter back.
        let bce = binaryCrossEntropyWithLogitsMean(chosen.map { objectness[$0] }, chosen.map { allLabels[$0] },
                                                   gradScale: objectnessWeight)
        var objectnessGradient = [Float](repeating: 0, count: objectness.count)
        for (k, i) in chosen.enumerated() { objectnessGradient[i] = bce.gradient[k] }

        // Box regression over the sampled positives, divided by the number sampled.
        var predicted = [Float](), wanted = [Float]()
        predicted.reserveCapacity(positive.count * 4); wanted.reserveCapacity(positive.count * 4)
        for i in positive {
            for c in 0..<4 { predicted.append(deltas[i * 4 + c]); wanted.append(allTargets[i * 4 + c]) }
        }
        let divisor = Float(chosen.count)
        let box = smoothL1Sum(predicted, wanted, beta: 1.0 / 9, gradScale: boxWeight / divisor)
        var deltasGradient = [Float](repeating: 0, count: deltas.count)
        for (k, i) in positive.enumerated() {
            for c in 0..<4 { deltasGradient[i * 4 + c] = box.gradient[k * 4 + c] }
        }
        return RPNLoss(objectness: bce.loss, boxRegression: box.loss / divisor,
                       objectnessGradient: objectnessGradient, deltasGradient: deltasGradient)
    }
}
