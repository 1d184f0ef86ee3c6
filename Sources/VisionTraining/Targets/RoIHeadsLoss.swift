// The box head's training targets and loss, as torchvision's
// RoIHeads.select_training_samples and fastrcnn_loss.

import VisionDetection
import VisionKernels

/// One image's sampled RoIs and their targets.
public struct RoIHeadsSamples: Sendable {
    /// The sampled proposals (GT boxes appended before sampling), ascending original order.
    public var proposals: Boxes
    /// Class label per sampled proposal: the matched GT's label, 0 background.
    public var labels: [Int]
    /// The matched GT index per sampled proposal (clamped at 0, torch's matched_idxs after clamp).
    public var matchedIndices: [Int]
    /// BoxCoder.roiHeads.encode(matched GT, proposals): [K, 4].
    public var regressionTargets: [Float]
}

/// fastrcnn_loss values and gradients w.r.t. its inputs.
public struct FastRCNNLoss: Sendable {
    public var classifier: Float
    public var boxRegression: Float
    /// classifierWeight * d(classifier loss)/d(class logits): [K, classes].
    public var classLogitsGradient: [Float]
    /// boxWeight * d(box loss)/d(box regression): [K, 4 * classes].
    public var boxRegressionGradient: [Float]
}

public struct RoIHeadsTargetAssigner: Sendable {
    public var matcher: Matcher
    public var sampler: BalancedPositiveNegativeSampler
    public var coder: BoxCoder

    public init(matcher: Matcher = .roiHeads,
                sampler: BalancedPositiveNegativeSampler = .init(batchSizePerImage: 512, positiveFraction: 0.25),
                coder: BoxCoder = .roiHeads) {
        self.matcher = matcher
        self.sampler = sampler
        self.coder = coder
    }

    /// select_training_samples: appends each image's GT boxes to its proposals, matches
    /// (background below the low threshold, ignored between thresholds), samples, encodes.
    /// gtLabels[i][j] is the class (>= 1) of GT box j of image i.
    public func samples<S: PermutationSource>(proposals: [Boxes], groundTruth: [Boxes], groundTruthLabels: [[Int]],
                                              permutations: inout S) -> [RoIHeadsSamples] {
        precondition(proposals.count == groundTruth.count && groundTruth.count == groundTruthLabels.count,
                     "RoI targets: \(proposals.count) proposal lists, \(groundTruth.count) GT lists, \(groundTruthLabels.count) label lists")
        var withGT: [Boxes] = []
        var matchedPerImage: [[Int]] = []
        var labelsPerImage: [[Int]] = []
        for (image, gt) in groundTruth.enumerated() {
            precondition(groundTruthLabels[image].count == gt.count, "RoI targets: image \(image) has \(gt.count) boxes, \(groundTruthLabels[image].count) labels")
            var all = proposals[image]
            all.append(contentsOf: gt)
            withGT.append(all)
            if gt.isEmpty {
                matchedPerImage.append([Int](repeating: 0, count: all.count))
                labelsPerImage.append([Int](repeating: 0, count: all.count))
                continue
            }
            let matches = matcher.match(quality: boxIoU(gt, all), groundTruthCount: gt.count, predictionCount: all.count)
            matchedPerImage.append(matches.map { max($0, 0) })
            labelsPerImage.append(matches.map { m in
                m == Matcher.belowLowThreshold ? 0 : (m == Matcher.betweenThresholds ? -1 : groundTruthLabels[image][m])
            })
        }
        let sampled = sampler.sample(labelsPerImage, permutations: &permutations)
        return sampled.enumerated().map { image, s in
            let keep = s.all
            let chosen = withGT[image].selecting(keep)
            let matched = keep.map { matchedPerImage[image][$0] }
            let gt = groundTruth[image].isEmpty ? Boxes(coordinates: [0, 0, 0, 0]) : groundTruth[image]
            let targets = coder.encode(referenceBoxes: gt.selecting(matched), proposals: chosen)
            return RoIHeadsSamples(proposals: chosen, labels: keep.map { labelsPerImage[image][$0] },
                                   matchedIndices: matched, regressionTargets: targets)
        }
    }
}

/// fastrcnn_loss over all images' sampled RoIs (concatenated, image-major):
///   classifier = cross_entropy(classLogits [K, C], labels) (mean),
///   box = smooth_l1(beta 1/9, sum) of the GT class's 4 deltas of each positive RoI / K.
/// boxRegression is [K, 4C] (class c's deltas at columns 4c..4c+3); regressionTargets [K, 4].
public func fastRCNNLoss(classLogits: UnsafeBufferPointer<Float>, boxRegression: UnsafeBufferPointer<Float>,
                         labels: [Int], regressionTargets: [Float], classes: Int,
                         classifierWeight: Float = 1, boxWeight: Float = 1) -> FastRCNNLoss {
    let k = labels.count
    precondition(classLogits.count == k * classes && boxRegression.count == k * 4 * classes && regressionTargets.count == k * 4,
                 "fastRCNNLoss: logits \(classLogits.count), regression \(boxRegression.count), targets \(regressionTargets.count) for \(k) RoIs x \(classes) classes")
    let ce = crossEntropyMean(classLogits, labels: labels, classes: classes, gradScale: classifierWeight)
    let positives = labels.indices.filter { labels[$0] > 0 }
    var predicted = [Float](), wanted = [Float]()
    for i in positives {
        for c in 0..<4 {
            predicted.append(boxRegression[i * 4 * classes + labels[i] * 4 + c])
            wanted.append(regressionTargets[i * 4 + c])
        }
    }
    let divisor = Float(k)
    let box = smoothL1Sum(predicted, wanted, beta: 1.0 / 9, gradScale: boxWeight / divisor)
    var boxGradient = [Float](repeating: 0, count: boxRegression.count)
    for (j, i) in positives.enumerated() {
        for c in 0..<4 { boxGradient[i * 4 * classes + labels[i] * 4 + c] = box.gradient[j * 4 + c] }
    }
    return FastRCNNLoss(classifier: ce.loss, boxRegression: box.loss / divisor,
                        classLogitsGradient: ce.gradient.isEmpty ? [Float](repeating: 0, count: classLogits.count) : ce.gradient,
                        boxRegressionGradient: boxGradient)
}
