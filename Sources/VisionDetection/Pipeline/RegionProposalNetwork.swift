import Foundation
import VisionCore
import VisionKernels

/// torchvision's RPNHead + RegionProposalNetwork at inference.
struct RegionProposalNetwork {
    let head: RPNHead<InferenceExecutor>
    let anchorGenerator: AnchorGenerator
    let preNMSTopN: Int
    let postNMSTopN: Int
    let nmsThreshold: Float
    let scoreThreshold: Float

    init(_ e: InferenceExecutor, config: ModelConfig) {
        head = RPNHead(e, channels: config.fpnChannels, anchors: config.anchorsPerLocation,
                       depth: config.variant == .v2 ? 2 : 1)
        anchorGenerator = AnchorGenerator(sizes: config.anchorSizes.map { $0.map { Int($0) } },
                                          aspectRatios: config.aspectRatios.map { $0.map { Double($0) } })
        preNMSTopN = config.rpnPreNMSTopNTest
        postNMSTopN = config.rpnPostNMSTopNTest
        nmsThreshold = config.rpnNMSThresh
        scoreThreshold = config.rpnScoreThresh
    }

    /// features: FPN levels [N, C, H_l, W_l]; imageSizes: each image's resized (h, w).
    /// Returns per image its proposals in padded-batch pixels, sorted by objectness.
    func callAsFunction(_ features: [Tensor], paddedSize: (height: Int, width: Int),
                        imageSizes: [(height: Int, width: Int)]) -> [Boxes] {
        let batch = features[0].shape[0]
        let A = anchorGenerator.cellAnchors[0].count
        let featureSizes = features.map { (height: $0.shape[2], width: $0.shape[3]) }
        let anchors = anchorGenerator.anchors(featureSizes: featureSizes, paddedImageSize: paddedSize)
        let outputs = head(features)

        var proposals: [Boxes] = []
        for n in 0..<batch {
            // Per level: objectness in (y, x, a) order, top-k on the logits.
            var candidateBoxes = Boxes()
            var candidateScores: [Float] = []
            var candidateLevels: [Int] = []
            var anchorOffset = 0
            for (level, (logits, deltas)) in outputs.enumerated() {
                let H = logits.shape[2], W = logits.shape[3], hw = H * W
                let count = hw * A
                var levelLogits = [Float](repeating: 0, count: count)
                let lp = logits.storage.pointer + n * A * hw
                for a in 0..<A {
                    for i in 0..<hw { levelLogits[i * A + a] = lp[a * hw + i] }
                }
                let k = min(preNMSTopN, count)
                let top = topKIndices(levelLogits, k: k)
                // Deltas of the selected anchors, (dx, dy, dw, dh) each.
                var selectedDeltas = [Float](repeating: 0, count: k * 4)
                var selectedAnchors = [Float](repeating: 0, count: k * 4)
                let dp = deltas.storage.pointer + n * 4 * A * hw
                anchors.coordinates.withUnsafeBufferPointer { anchorPointer in
                    for (j, index) in top.enumerated() {
                        let a = index % A, pixel = index / A
                        for c in 0..<4 {
                            selectedDeltas[j * 4 + c] = dp[(a * 4 + c) * hw + pixel]
                            selectedAnchors[j * 4 + c] = anchorPointer[(anchorOffset + index) * 4 + c]
                        }
                        candidateScores.append(levelLogits[index])
                        candidateLevels.append(level)
                    }
                }
                candidateBoxes.append(contentsOf: BoxCoder.rpn.decode(deltas: selectedDeltas,
                                                                      boxes: Boxes(coordinates: selectedAnchors)))
                anchorOffset += count
            }
            proposals.append(filter(boxes: candidateBoxes, logits: candidateScores, levels: candidateLevels,
                                    imageSize: imageSizes[n]))
        }
        return proposals
    }

    /// sigmoid, clip, remove boxes under 1e-3, score threshold, NMS per level, top post-NMS n.
    private func filter(boxes: Boxes, logits: [Float], levels: [Int], imageSize: (height: Int, width: Int)) -> Boxes {
        let clipped = boxes.clipped(toHeight: imageSize.height, width: imageSize.width)
        var keep = clipped.indicesOfBoxes(minSize: 1e-3)
        let scores = logits.map { 1 / (1 + Foundation.exp(-$0)) }
        keep = keep.filter { scores[$0] >= scoreThreshold }
        let kept = clipped.selecting(keep)
        let survivors = batchedNMS(boxes: kept, scores: keep.map { scores[$0] }, classes: keep.map { levels[$0] },
                                   iouThreshold: Double(nmsThreshold))
        return kept.selecting(Array(survivors.prefix(postNMSTopN)))
    }
}

/// Indices of the k largest values, sorted descending (ties: lower index first).
/// A size-k heap selection (O(n log k)) rather than a full sort of every anchor.
func topKIndices(_ values: [Float], k: Int) -> [Int] {
    values.withUnsafeBufferPointer { p in
        guard let base = p.baseAddress else { return [] }
        return VisionKernels.topK(base, count: p.count, k: k).indices
    }
}
