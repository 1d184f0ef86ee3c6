import Foundation
import VisionCheckpoint
import VisionCore

/// torchvision's GeneralizedRCNN for Faster R-CNN at inference:
/// transform -> backbone + FPN -> RPN -> MultiScaleRoIAlign -> RoI heads -> postprocess.
public final class FasterRCNN: DetectionModel, @unchecked Sendable {
    public let config: ModelConfig
    public let backend: ComputeBackend
    let transform: DetectionTransform
    let backbone: BackboneWithFPN<InferenceExecutor>
    let rpn: RegionProposalNetwork
    let pooler: MultiScaleRoIAlign
    let roiHeads: RoIHeads

    /// Builds the model from a state dict, checking every key by name. The class
    /// count and the box head's width come from the checkpoint's shapes.
    /// - source: the file the tensors came from, named in errors.
    public init(config: ModelConfig, stateDict: StateDict, source: String,
                backend: ComputeBackend = CPUBackend()) throws {
        let reader = WeightReader(stateDict: stateDict, source: source, aliases: CheckpointKeyAliases.table)
        var config = config
        if let shape = reader.shape(of: "roi_heads.box_predictor.cls_score.weight"), shape.count == 2 {
            config.numClasses = shape[0]
            config.representationSize = shape[1]
        }
        // Every key is checked before `self` holds any layer (no throw from a partly built instance).
        let executor = InferenceExecutor(weights: reader, backend: backend)
        let backbone = BackboneWithFPN(executor, config: config)
        let rpn = RegionProposalNetwork(executor, config: config)
        let roiHeads = RoIHeads(executor, config: config)
        try executor.finishLoading()
        self.config = config
        self.backend = backend
        transform = DetectionTransform(config: config)
        self.backbone = backbone
        self.rpn = rpn
        pooler = MultiScaleRoIAlign(outputSize: config.roiOutputSize, samplingRatio: config.roiSamplingRatio)
        self.roiHeads = roiHeads
    }

    /// What the pipeline computed on the way, for parity tests and profiling.
    public struct Trace {
        /// Backbone body outputs (before the FPN), [N, C_l, H_l, W_l].
        public var bodyFeatures: [Tensor] = []
        /// FPN outputs "0".."n-1" then "pool".
        public var fpnFeatures: [Tensor] = []
        /// RPN proposals per image in resized-image pixels.
        public var proposals: [Boxes] = []
        /// The normalised, resized, padded batch [N, 3, H, W].
        public var batch: Tensor?

        public init(bodyFeatures: [Tensor] = [], fpnFeatures: [Tensor] = [], proposals: [Boxes] = [], batch: Tensor? = nil) {
            self.bodyFeatures = bodyFeatures
            self.fpnFeatures = fpnFeatures
            self.proposals = proposals
            self.batch = batch
        }
    }

    /// The model's input transform (torchvision's GeneralizedRCNNTransform at inference).
    public var inputTransform: DetectionTransform { transform }

    public func detect(prepared: [DetectionTransform.Prepared], timings: UnsafeMutablePointer<StageTimings>?) -> [Detections] {
        detect(prepared: prepared, trace: nil, timings: timings)
    }

    /// `detect(_:)`, also filling `trace` with what the pipeline computed on the way.
    public func detect(_ images: [Tensor], trace: UnsafeMutablePointer<Trace>?,
                       timings: UnsafeMutablePointer<StageTimings>? = nil) -> [Detections] {
        var clock = StageClock(timings)
        clock.begin(.transform)
        let prepared = images.map { transform.prepare($0) }
        clock.end()
        return detect(prepared: prepared, trace: trace, timings: timings)
    }

    /// Runs the network on images already passed through `inputTransform.prepare`
    /// (a batch runner prepares the next images on another thread meanwhile).
    public func detect(prepared: [DetectionTransform.Prepared], trace: UnsafeMutablePointer<Trace>?,
                       timings: UnsafeMutablePointer<StageTimings>? = nil) -> [Detections] {
        var clock = StageClock(timings)
        clock.begin(.transform)
        let hostBatch = transform.batch(prepared)
        let imageSizes = prepared.map { $0.resizedSize }
        let paddedSize = (height: hostBatch.shape[2], width: hostBatch.shape[3])
        // From here to the RoI heads' predictions the tensors are the backend's (on its device).
        let batch = backend.upload(hostBatch)

        clock.begin(.backbone)
        let body = backbone.bodyFeatures(batch)
        clock.begin(.fpn)
        let features = backbone.fpn(body)
        clock.begin(.rpn)
        let proposals = rpn(features, paddedSize: paddedSize, imageSizes: imageSizes, backend: backend)
        // RoIAlign never pools from "pool" (the last FPN level).
        clock.begin(.roiAlign)
        let pooled = pooler(features: Array(features.dropLast()), boxes: proposals, imageSizes: imageSizes,
                            backend: backend)
        clock.begin(.boxHead)
        let (scores, deltas) = roiHeads.predict(pooled)

        clock.begin(.postprocess)
        var results: [Detections] = []
        var row = 0
        for (i, p) in prepared.enumerated() {
            var detections = roiHeads.postprocess(scores: scores, deltas: deltas, proposals: proposals[i],
                                                  rowOffset: row, imageSize: imageSizes[i])
            row += proposals[i].count
            transform.mapToOriginal(&detections.boxes, resized: p.resizedSize, original: p.originalSize)
            results.append(detections)
        }
        clock.end()
        if let trace {
            trace.pointee = Trace(bodyFeatures: body.map { backend.readBack($0, at: .trace) },
                                  fpnFeatures: features.map { backend.readBack($0, at: .trace) },
                                  proposals: proposals, batch: hostBatch)
        }
        return results
    }
}
