// RegionProposalNetwork.filter_proposals in training mode: no gradient flows through
// it (torchvision detaches objectness and deltas). Layouts as flattenPredictions:
// objectness [N * A], deltas [N * A, 4], rows ordered image, level, (y, x, anchor).

import VisionDetection
import VisionKernels

struct ProposalSelector {
    var preNMSTopN: Int
    /// The part shared with inference (VisionDetection's RegionProposalNetwork).
    var filter: ProposalFilter

    /// anchors: one image's anchors [A, 4] (the same for every image); levelCounts:
    /// anchors per level (H * W * anchorsPerLocation). Returns per image its proposals
    /// in resized-image pixels, sorted by objectness as torchvision's NMS leaves them.
    func callAsFunction(objectness: UnsafeBufferPointer<Float>, deltas: UnsafeBufferPointer<Float>, anchors: Boxes,
                        levelCounts: [Int], imageSizes: [(height: Int, width: Int)]) -> [Boxes] {
        let perImage = anchors.count
        return imageSizes.enumerated().map { image, size in
            var boxes = Boxes()
            var logits: [Float] = [], levels: [Int] = []
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
                        logits.append(objectness[base + i])
                        levels.append(level)
                    }
                }
                boxes.append(contentsOf: BoxCoder.rpn.decode(deltas: selectedDeltas, boxes: Boxes(coordinates: selectedAnchors)))
                offset += count
            }
            return filter(boxes: boxes, logits: logits, levels: levels, imageSize: size)
        }
    }
}
