import Foundation
import VisionCore

/// torchvision's RoIHeads at inference: box head on pooled RoI features,
/// FastRCNNPredictor, then per-class decode, clip, score threshold, NMS, top-n.
struct RoIHeads {
    let boxHead: BoxHead<InferenceExecutor>
    let predictor: BoxPredictor<InferenceExecutor>
    let backend: ComputeBackend
    let numClasses: Int
    let config: ModelConfig
    let coder: BoxCoder

    init(_ e: InferenceExecutor, config: ModelConfig) {
        self.config = config
        boxHead = BoxHead(e, config: config)
        predictor = BoxPredictor(e, representation: config.representationSize, numClasses: config.numClasses)
        backend = e.backend
        numClasses = config.numClasses
        let w = config.boxCoderWeights
        coder = BoxCoder(weights: (w[0], w[1], w[2], w[3]))
    }

    /// Class scores [K, classes] and box deltas [K, 4*classes] for pooled RoIs [K, C, 7, 7],
    /// read back to the host at `.boxPredictions` for decoding and NMS.
    func predict(_ pooled: Tensor) -> (scores: Tensor, deltas: Tensor) {
        let (logits, deltas) = predictor(boxHead(pooled))
        return (backend.readBack(backend.softmax(logits), at: .boxPredictions),
                backend.readBack(deltas, at: .boxPredictions))
    }

    /// Per image: decode per class, clip, drop background, score > thresh, w,h >= 1e-2,
    /// NMS per class, keep the top `boxDetectionsPerImage`. Boxes in resized-image pixels.
    func postprocess(scores: Tensor, deltas: Tensor, proposals: Boxes, rowOffset: Int,
                     imageSize: (height: Int, width: Int)) -> Detections {
        let K = proposals.count, C = numClasses
        if K == 0 { return Detections() }
        let deltaPointer = UnsafeBufferPointer(start: deltas.storage.pointer + rowOffset * 4 * C, count: K * 4 * C)
        let decoded = coder.decode(deltas: deltaPointer, boxes: proposals)
            .clipped(toHeight: imageSize.height, width: imageSize.width)
        let scorePointer = scores.storage.pointer + rowOffset * C
        // Proposal-major, class-minor (torchvision flattens [K, C-1] that way).
        var candidates: [Int] = []
        var candidateScores: [Float] = []
        var candidateLabels: [Int] = []
        let threshold = config.boxScoreThresh
        for k in 0..<K {
            for c in 1..<C {
                let s = scorePointer[k * C + c]
                guard s > threshold else { continue }
                let b = decoded[k * C + c]
                guard b.x2 - b.x1 >= 1e-2, b.y2 - b.y1 >= 1e-2 else { continue }
                candidates.append(k * C + c)
                candidateScores.append(s)
                candidateLabels.append(c)
            }
        }
        let boxes = decoded.selecting(candidates)
        let keep = batchedNMS(boxes: boxes, scores: candidateScores, classes: candidateLabels,
                              iouThreshold: Double(config.boxNMSThresh)).prefix(config.boxDetectionsPerImage)
        return Detections(boxes: boxes.selecting(Array(keep)), scores: keep.map { candidateScores[$0] },
                          labels: keep.map { candidateLabels[$0] })
    }
}

/// Detections of one image: boxes (x1, y1, x2, y2), scores descending, class indices.
public struct Detections: Sendable {
    public var boxes: Boxes
    public var scores: [Float]
    public var labels: [Int]

    public init(boxes: Boxes = Boxes(), scores: [Float] = [], labels: [Int] = []) {
        self.boxes = boxes
        self.scores = scores
        self.labels = labels
    }

    public var count: Int { scores.count }
}
