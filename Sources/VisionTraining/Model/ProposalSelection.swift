// RegionProposalNetwork.filter_proposals in training mode: no gradient flows through
// it (torchvision detaches objectness and deltas). Layouts as flattenPredictions:
// objectness [N * A], deltas [N * A, 4], rows ordered image, level, (y, x, anchor).

import Foundation
import VisionDetection
import VisionKernels

struct ProposalSelector {
    var preNMSTopN: Int
    var postNMSTopN: Int
    var nmsThreshold: Float
    var scoreThreshold: Float

    /// anchors: one image's anchors [A, 4] (the same for every image); levelCounts:
    /// anchors per level (H * W * anchorsPerLocation). Returns per image its proposals
    /// in resized-image pixels, sorted by objectness as torchvision's NMS leaves them.
    func callAsFunction(objectness: UnsafeBufferPointer<Float>, deltas: UnsafeBufferPointer<Float>, anchors: Boxes,
                        levelCounts: [Int], imageSizes: [(height: Int, width: Int)]) -> [Boxes] {
        let perImage = anchors.count
        return imageSizes.enumerated().map { image, size in
            var boxes = Boxes()
            var scores: [Float] = [], levels: [Int] = []
            var offset = 0
            for (level, count) in levelCounts.enumerated() {
                let base = image * perImage + offset
                let top = VisionKernels.topK(objectness.baseAddress! + base, count: count, k: min(preNMSTopN, count)).indices
                var selectedDeltas = [Float](repeating: 0, count: top.count * 4)
                var selectedAnchors = [Float](repeating: 0, count: top.count * 4)
                anchors.coordinates.withUnsafeBufferPointer { a in
                    for (j, i) in top.enumerated() {
                        for c in 0..<4 {
                            selectedDeltas[j * 4 + c] = deltas[(base + i) * 4 + c]
                            selectedAnchors[j * 4 + c] = a[(offset + i) * 4 + c]
                        }
                        scores.append(objectness[base + i])
                        levels.append(level)
                    }
                }
                boxes.append(contentsOf: BoxCoder.rpn.decode(deltas: selectedDeltas, boxes: Boxes(coordinates: selectedAnchors)))
                offset += count
            }
            let clipped = boxes.clipped(toHeight: size.height, width: size.width)
            let probabilities = scores.map { 1 / (1 + Foundation.exp(-$0)) }
            let keep = clipped.indicesOfBoxes(minSize: 1e-3).filter { probabilities[$0] >= scoreThreshold }
            let kept = clipped.selecting(keep)
            let survivors = batchedNMS(boxes: kept, scores: keep.map { probabilities[$0] }, classes: keep.map { levels[$0] },
                                       iouThreshold: Double(nmsThreshold))
            return kept.selecting(Array(survivors.prefix(postNMSTopN)))
        }
    }
}
