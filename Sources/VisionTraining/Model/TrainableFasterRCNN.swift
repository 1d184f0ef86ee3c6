// torchvision's FasterRCNN in train() mode: the layers VisionDetection defines once
// (backbone body + FPN with frozen or live batch norms, RPN head, box head, predictor) run by
// the TrainingExecutor on the tape -> proposals (no gradient) -> RoI targets (GT
// appended, sampled) -> MultiScaleRoIAlign -> the four losses, and the backward pass
// that leaves every trainable parameter's gradient in `grad`. Keys are torchvision's,
// so state dicts load in both directions with VisionDetection.

import VisionCheckpoint
import VisionCore
import VisionDetection

/// The four losses of one step (torchvision's loss dict) and their sum.
public struct TrainingLosses: Sendable, Codable, Equatable {
    public var objectness: Float
    public var rpnBoxRegression: Float
    public var classifier: Float
    public var boxRegression: Float
    public var total: Float { objectness + rpnBoxRegression + classifier + boxRegression }

    public init(objectness: Float, rpnBoxRegression: Float, classifier: Float, boxRegression: Float) {
        self.objectness = objectness
        self.rpnBoxRegression = rpnBoxRegression
        self.classifier = classifier
        self.boxRegression = boxRegression
    }
}

/// What one training step computed on the way (for parity tests and debugging).
public final class TrainingStepTrace {
    /// RPN proposals per image (resized-image pixels), objectness order.
    public var proposals: [Boxes] = []
    /// The RoIs the box head saw per image (sampled proposals + GT), ascending index order.
    public var sampledProposals: [Boxes] = []
    public init() {}
}

public final class TrainableFasterRCNN: TrainableDetectionModel {
    public let config: ModelConfig
    public let parameters: ModelParameters
    public let transform: DetectionTransform
    let executor: TrainingExecutor
    let backbone: BackboneWithFPN<TrainingExecutor>
    let rpnHead: RPNHead<TrainingExecutor>
    let boxHead: BoxHead<TrainingExecutor>
    let predictor: BoxPredictor<TrainingExecutor>
    let anchorGenerator: AnchorGenerator
    let pooler: MultiScaleRoIAlign
    let selector: ProposalSelector
    let rpnTargets: RPNTargetAssigner
    let roiTargets: RoIHeadsTargetAssigner

    /// Predictor keys, re-initialised when the checkpoint's class count differs.
    public static func isPredictorKey(_ key: String) -> Bool { key.hasPrefix("roi_heads.box_predictor.") }

    /// - config: the architecture; `numClasses` (background included) sets the predictor's size.
    /// - stateDict: starting weights (torchvision names), nil to initialise from scratch as torchvision
    ///   does. Every key must be present with its shape, except the predictor's, which is
    ///   re-initialised when missing or of another class count. A classification model's state
    ///   dict (`features.*`, e.g. an ImageNet MobileNetV2) starts the backbone body only.
    /// - trainableBackboneLayers: torchvision's trainable_backbone_layers, in
    ///   `trainableBackboneLayerRange(config.backbone)` (0...6 for the MobileNets, 0...5 for ResNet-50).
    /// - seed: drives the initialisation of whatever the state dict does not provide.
    ///   From scratch, every batch norm is a live BatchNorm2d; an eps of 0 (the COCO v1 weights'
    ///   overwrite_eps) becomes torch's default 1e-5 in `self.config`, which the saved model carries.
    /// - continuesLiveBatchNorm: true when `stateDict` continues a run (resume): its live batch norms
    ///   (those with `num_batches_tracked`) stay live. False for a new run started from `stateDict`:
    ///   a pretrained start, whose body's batch norms torchvision freezes (v2 excepted).
    public init(config given: ModelConfig, stateDict: StateDict?, source: String = "initialisation",
                trainableBackboneLayers: Int, seed: UInt64 = 0, continuesLiveBatchNorm: Bool = true) throws {
        var config = given
        // torchvision applies overwrite_eps(model, 0.0) only to pretrained COCO weights; a new
        // BatchNorm2d has eps 1e-5 (and eps 0 would divide by zero on a constant channel).
        if stateDict == nil, config.batchNormEps == 0 { config.batchNormEps = 1e-5 }
        let range = TrainableBackboneLayers.range(config.backbone)
        guard range.contains(trainableBackboneLayers) else {
            throw TrainingModelError("trainable backbone layers must be in \(range.lowerBound)...\(range.upperBound) for \(config.name) (\(config.backbone.rawValue) backbone), got \(trainableBackboneLayers)")
        }
        // An ImageNet classification state dict starts the body only; everything else is initialised.
        let backboneOnly = stateDict.flatMap(BackboneImport.detectionKeys)
        let resettable: (String) -> Bool = backboneOnly == nil
            ? Self.isPredictorKey
            : { !$0.hasPrefix("backbone.body.") }
        let p = ModelParameters(source: backboneOnly ?? stateDict, sourceName: source, seed: seed, resettable: resettable)
        let backboneKind = config.backbone
        let e = TrainingExecutor(parameters: p, trains: {
            TrainableBackboneLayers.trains($0, backbone: backboneKind, trainableLayers: trainableBackboneLayers)
        }, liveBatchNorm: Self.liveBatchNorm(config: config, start: backboneOnly ?? stateDict,
                                             continuing: continuesLiveBatchNorm))
        // The layers register their parameters as they are made; every check is done before
        // `self` holds any of them (a throw from a partly initialised class instance is avoided).
        let backbone = BackboneWithFPN(e, config: config)
        let rpnHead = RPNHead(e, config: config)
        let boxHead = BoxHead(e, config: config)
        let predictor = BoxPredictor(e, representation: config.representationSize, numClasses: config.numClasses)
        try p.finish()
        self.config = config
        parameters = p
        transform = DetectionTransform(config: config)
        executor = e
        self.backbone = backbone
        self.rpnHead = rpnHead
        self.boxHead = boxHead
        self.predictor = predictor
        anchorGenerator = AnchorGenerator(sizes: config.anchorSizes.map { $0.map { Int($0) } },
                                          aspectRatios: config.aspectRatios.map { $0.map { Double($0) } })
        pooler = MultiScaleRoIAlign(outputSize: config.roiOutputSize, samplingRatio: config.roiSamplingRatio)
        selector = ProposalSelector(preNMSTopN: config.rpnPreNMSTopNTrain,
                                    filter: ProposalFilter(postNMSTopN: config.rpnPostNMSTopNTrain,
                                                           nmsThreshold: config.rpnNMSThresh, scoreThreshold: config.rpnScoreThresh))
        rpnTargets = RPNTargetAssigner(
            matcher: Matcher(highThreshold: config.rpnFgIoUThresh, lowThreshold: config.rpnBgIoUThresh, allowLowQualityMatches: true),
            sampler: BalancedPositiveNegativeSampler(batchSizePerImage: config.rpnBatchSizePerImage,
                                                     positiveFraction: config.rpnPositiveFraction))
        let w = config.boxCoderWeights
        roiTargets = RoIHeadsTargetAssigner(
            matcher: Matcher(highThreshold: config.boxFgIoUThresh, lowThreshold: config.boxBgIoUThresh, allowLowQualityMatches: false),
            sampler: BalancedPositiveNegativeSampler(batchSizePerImage: config.boxBatchSizePerImage,
                                                     positiveFraction: config.boxPositiveFraction),
            coder: BoxCoder(weights: (w[0], w[1], w[2], w[3])))
    }

    /// Which batch norms run as live BatchNorm2d (batch statistics, running statistics updated),
    /// by prefix; the others are FrozenBatchNorm2d. torchvision's builders: v2 uses BatchNorm2d
    /// everywhere (body, FPN, box head; its body is resnet50's default norm even with pretrained
    /// weights); v1 and the MobileNets freeze the body's batch norms when weights are pretrained
    /// and use BatchNorm2d otherwise. A new run from a state dict is a pretrained start (frozen,
    /// whatever the file saved); a continued run (`continuing`) keeps live the batch norms its
    /// state dict counts (`num_batches_tracked`: FrozenBatchNorm2d has none, a live one saves it),
    /// so a from-scratch run keeps its live batch norms when it is resumed.
    static func liveBatchNorm(config: ModelConfig, start: StateDict?, continuing: Bool) -> (String) -> Bool {
        if config.variant == .v2 { return { _ in true } }
        guard let start else { return { _ in true } }
        guard continuing else { return { _ in false } }
        // The prefixes only: the executor keeps this predicate, and it must not keep the checkpoint alive.
        let suffix = ".num_batches_tracked"
        let counted = Set(start.keys.filter { $0.hasSuffix(suffix) }.map { String($0.dropLast(suffix.count)) })
        return { counted.contains($0) }
    }

    /// Trainable parameters in key order (what the optimizer updates).
    public var trainableParameters: [(key: String, variable: Variable)] { parameters.trainable }

    /// Every weight and frozen statistic under torchvision's keys (copies).
    public func stateDict() -> StateDict { parameters.stateDict() }

    public func zeroGrad() { for (_, v) in trainableParameters { v.zeroGrad() } }

    /// One forward pass in training mode and its backward: returns the losses and leaves
    /// d(sum of the four losses)/d(parameter) in each trainable parameter's `grad`
    /// (accumulated onto what is there: call zeroGrad() between steps).
    /// `permutations` feeds the RPN's, then the RoI heads' sampler, image by image,
    /// positives then negatives, as torch.randperm is drawn.
    /// `proposals`, when given, replaces the RPN's own (per image, resized-image pixels):
    /// proposal selection is a chain of discrete choices (top-k, NMS) on near-tied scores,
    /// so parity tests feed the reference's proposals to compare everything downstream exactly.
    /// `threads` bounds every kernel call of the step.
    public func forwardBackward<S: PermutationSource>(_ batch: TrainingBatch, permutations: inout S,
                                                      threads: KernelThreads) -> TrainingLosses {
        forwardBackward(batch, permutations: &permutations, proposals: nil, trace: nil, threads: threads)
    }

    /// `forwardBackward(_:permutations:threads:)`, recording what it computed in `trace`.
    public func forwardBackward<S: PermutationSource>(_ batch: TrainingBatch, permutations: inout S,
                                                      proposals given: [Boxes]? = nil,
                                                      trace: TrainingStepTrace?, threads: KernelThreads) -> TrainingLosses {
        let tape = Tape(threads: threads)
        executor.tape = tape
        let images = Variable(batch.images)
        let levels = backbone(images)

        // RPN: predictions flattened to the anchors' order, proposals without gradient.
        let heads = rpnHead(levels)
        let objectness = tape.flattenPredictions(heads.map(\.logits), valuesPerAnchor: 1)
        let deltas = tape.flattenPredictions(heads.map(\.deltas), valuesPerAnchor: 4)
        let featureSizes = levels.map { (height: $0.shape[2], width: $0.shape[3]) }
        let anchors = anchorGenerator.anchors(featureSizes: featureSizes,
                                              paddedImageSize: (batch.images.shape[2], batch.images.shape[3]))
        let levelCounts = zip(featureSizes, anchorGenerator.anchorsPerLocation).map { $0.height * $0.width * $1 }
        let proposals = given ?? objectness.value.withUnsafeBufferPointer { o in
            deltas.value.withUnsafeBufferPointer { d in
                selector(objectness: o, deltas: d, anchors: anchors, levelCounts: levelCounts, imageSizes: batch.imageSizes)
            }
        }
        let targets = batch.boxes.map { rpnTargets.targets(anchors: anchors, groundTruth: $0) }
        let rpnLoss = objectness.value.withUnsafeBufferPointer { o in
            deltas.value.withUnsafeBufferPointer { d in
                rpnTargets.loss(objectness: o, deltas: d, targets: targets, permutations: &permutations)
            }
        }

        // RoI heads: sample proposals (+ GT), pool from every level but "pool", predict.
        let samples = roiTargets.samples(proposals: proposals, groundTruth: batch.boxes,
                                         groundTruthLabels: batch.labels, permutations: &permutations)
        trace?.proposals = proposals
        trace?.sampledProposals = samples.map(\.proposals)
        let pooled = tape.multiScaleRoIAlign(Array(levels.dropLast()), boxes: samples.map(\.proposals),
                                             imageSizes: batch.imageSizes, pooler: pooler)
        let (classLogits, boxRegression) = predictor(boxHead(pooled))
        let boxLoss = classLogits.value.withUnsafeBufferPointer { c in
            boxRegression.value.withUnsafeBufferPointer { r in
                fastRCNNLoss(classLogits: c, boxRegression: r, labels: samples.flatMap(\.labels),
                             regressionTargets: samples.flatMap(\.regressionTargets), classes: config.numClasses)
            }
        }

        tape.backward([
            (objectness, Tensor(shape: objectness.shape, values: rpnLoss.objectnessGradient)),
            (deltas, Tensor(shape: deltas.shape, values: rpnLoss.deltasGradient)),
            (classLogits, Tensor(shape: classLogits.shape, values: boxLoss.classLogitsGradient)),
            (boxRegression, Tensor(shape: boxRegression.shape, values: boxLoss.boxRegressionGradient)),
        ])
        return TrainingLosses(objectness: rpnLoss.objectness, rpnBoxRegression: rpnLoss.boxRegression,
                              classifier: boxLoss.classifier, boxRegression: boxLoss.boxRegression)
    }
}
