import Foundation
import VisionCore

/// torchvision's RPNHead + RegionProposalNetwork at inference.
struct RegionProposalNetwork {
    let head: RPNHead<InferenceExecutor>
    let anchorGenerator: AnchorGenerator
    let preNMSTopN: Int
    let filter: ProposalFilter

    init(_ e: InferenceExecutor, config: ModelConfig) {
        head = RPNHead(e, config: config)
        anchorGenerator = AnchorGenerator(sizes: config.anchorSizes.map { $0.map { Int($0) } },
                                          aspectRatios: config.aspectRatios.map { $0.map { Double($0) } })
        preNMSTopN = config.rpnPreNMSTopNTest
        filter = ProposalFilter(postNMSTopN: config.rpnPostNMSTopNTest, nmsThreshold: config.rpnNMSThresh,
                                scoreThreshold: config.rpnScoreThresh)
    }

    /// features: FPN levels [N, C, H_l, W_l] on `backend`; imageSizes: each image's resized (h, w).
    /// Returns per image its proposals in padded-batch pixels, sorted by objectness.
    /// Read-back point `.rpnPredictions`: per level, the top-k objectness logits (topK's
    /// values) and the deltas of those anchors only; everything after is host work.
    func callAsFunction(_ features: [Tensor], paddedSize: (height: Int, width: Int),
                        imageSizes: [(height: Int, width: Int)], backend: ComputeBackend) -> [Boxes] {
        let batch = features[0].shape[0]
        let featureSizes = features.map { (height: $0.shape[2], width: $0.shape[3]) }
        let anchors = anchorGenerator.anchors(featureSizes: featureSizes, paddedImageSize: paddedSize)
        let outputs = head(features)

        var proposals: [Boxes] = []
        for n in 0..<batch {
            var candidateBoxes = Boxes()
            var candidateScores: [Float] = []
            var candidateLevels: [Int] = []
            var anchorOffset = 0
            for (level, (logits, deltas)) in outputs.enumerated() {
                // Logits in (y, x, anchor) order, top-k on the backend; deltas of the chosen anchors.
                let scores = backend.anchorsLast(logits, image: n, valuesPerAnchor: 1)
                let count = scores.shape[0]
                let top = backend.topK(scores.reshaped([count]), k: min(preNMSTopN, count))
                let selected = backend.readBack(
                    backend.gatherAnchors(deltas, image: n, valuesPerAnchor: 4, rows: top.indices), at: .rpnPredictions)
                // (dx, dy, dw, dh) per chosen anchor, and the anchor itself.
                var selectedAnchors = [Float](repeating: 0, count: top.indices.count * 4)
                anchors.coordinates.withUnsafeBufferPointer { anchorPointer in
                    for (j, index) in top.indices.enumerated() {
                        for c in 0..<4 { selectedAnchors[j * 4 + c] = anchorPointer[(anchorOffset + index) * 4 + c] }
                    }
                }
                candidateScores.append(contentsOf: top.values)
                candidateLevels.append(contentsOf: repeatElement(level, count: top.indices.count))
                candidateBoxes.append(contentsOf: BoxCoder.rpn.decode(deltas: selected.values,
                                                                      boxes: Boxes(coordinates: selectedAnchors)))
                anchorOffset += count
            }
            proposals.append(filter(boxes: candidateBoxes, logits: candidateScores, levels: candidateLevels,
                                    imageSize: imageSizes[n]))
        }
        return proposals
    }
}

/// RegionProposalNetwork.filter_proposals after each level's top-k, at inference and in
/// training alike: sigmoid, clip, remove boxes under 1e-3, score threshold, NMS per level,
/// the top `postNMSTopN`.
public struct ProposalFilter: Sendable {
    public var postNMSTopN: Int
    public var nmsThreshold: Float
    public var scoreThreshold: Float

    public init(postNMSTopN: Int, nmsThreshold: Float, scoreThreshold: Float) {
        self.postNMSTopN = postNMSTopN
        self.nmsThreshold = nmsThreshold
        self.scoreThreshold = scoreThreshold
    }

    /// boxes: the decoded candidates of one image; logits: their objectness logits;
    /// levels: their FPN level. Returns the proposals sorted by objectness.
    public func callAsFunction(boxes: Boxes, logits: [Float], levels: [Int], imageSize: (height: Int, width: Int)) -> Boxes {
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
