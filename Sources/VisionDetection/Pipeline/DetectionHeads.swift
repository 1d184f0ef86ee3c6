import VisionCore

// The learned heads of Faster R-CNN, defined once for every executor: torchvision's
// RPNHead (rpn.head.*), the box heads (roi_heads.box_head.*) and FastRCNNPredictor
// (roi_heads.box_predictor.*).

/// RPNHead: t = ReLU(conv3x3(x)) (twice in v2), shared over levels; logits 1x1 -> A
/// channels; deltas 1x1 -> 4A channels (anchor a, delta k at channel a*4+k).
/// torchvision initialises every conv with normal(std 0.01), bias 0.
public struct RPNHead<E: LayerExecutor> {
    let executor: E
    let convs: [E.ConvLayer]
    let logits: E.ConvLayer
    let deltas: E.ConvLayer

    public init(_ e: E, channels: Int, anchors: Int, depth: Int) {
        executor = e
        func conv(_ name: String, _ cout: Int, _ k: Int, _ activation: Activation = .identity) -> E.ConvLayer {
            e.makeConv(ConvSpec(conv: name, inChannels: channels, outChannels: cout, kernel: k, bias: true,
                                activation: activation, weightInit: .normal(std: 0.01)))
        }
        convs = (0..<depth).map { conv("rpn.head.conv.\($0).0", channels, 3, .relu) }
        logits = conv("rpn.head.cls_logits", anchors, 1)
        deltas = conv("rpn.head.bbox_pred", 4 * anchors, 1)
    }

    /// The head `config` describes: conv_depth 2 in v2, 1 otherwise.
    public init(_ e: E, config: ModelConfig) {
        self.init(e, channels: config.fpnChannels, anchors: config.anchorsPerLocation, depth: config.variant == .v2 ? 2 : 1)
    }

    /// Per level x [N, C, H, W]: (logits [N, A, H, W], deltas [N, 4A, H, W]).
    public func callAsFunction(_ levels: [E.Value]) -> [(logits: E.Value, deltas: E.Value)] {
        let e = executor
        return levels.map { x in
            var t = x
            for conv in convs { t = e.conv(conv, t) }
            return (e.conv(logits, t), e.conv(deltas, t))
        }
    }
}

/// TwoMLPHead (v1): flatten -> fc6 -> ReLU -> fc7 -> ReLU.
/// FastRCNNConvFCHead (v2): 4x [3x3 conv + BN + ReLU] -> flatten -> Linear -> ReLU.
/// pooled [K, C, S, S] -> [K, representation].
public struct BoxHead<E: LayerExecutor> {
    let executor: E
    let convs: [E.ConvLayer]
    let fcs: [E.LinearLayer]

    public init(_ e: E, config: ModelConfig) {
        executor = e
        let s = config.roiOutputSize, representation = config.representationSize
        switch config.variant {
        case .v1:
            convs = []
            fcs = [e.makeLinear(LinearSpec(prefix: "roi_heads.box_head.fc6", inFeatures: config.fpnChannels * s * s,
                                           outFeatures: representation, activation: .relu)),
                   e.makeLinear(LinearSpec(prefix: "roi_heads.box_head.fc7", inFeatures: representation,
                                           outFeatures: representation, activation: .relu))]
        case .v2:
            var convs: [E.ConvLayer] = []
            var inChannels = config.fpnChannels
            for (i, channels) in config.boxHeadConvChannels.enumerated() {
                convs.append(e.makeConv(ConvSpec(conv: "roi_heads.box_head.\(i).0", batchNorm: "roi_heads.box_head.\(i).1",
                                                 inChannels: inChannels, outChannels: channels, kernel: 3, activation: .relu)))
                inChannels = channels
            }
            self.convs = convs
            // Index convs.count is the Flatten.
            fcs = [e.makeLinear(LinearSpec(prefix: "roi_heads.box_head.\(convs.count + 1)", inFeatures: inChannels * s * s,
                                           outFeatures: representation, activation: .relu))]
        }
    }

    public func callAsFunction(_ pooled: E.Value) -> E.Value {
        let e = executor
        var x = pooled
        for conv in convs { x = e.conv(conv, x) }
        for fc in fcs { x = e.linear(fc, x) }
        return x
    }
}

/// FastRCNNPredictor: [K, representation] -> (class logits [K, classes], box deltas [K, 4 * classes]).
/// A re-initialised predictor starts from normal std 0.01 (scores) / 0.001 (deltas), bias 0.
public struct BoxPredictor<E: LayerExecutor> {
    let executor: E
    let classifier: E.LinearLayer
    let regressor: E.LinearLayer

    public init(_ e: E, representation: Int, numClasses: Int) {
        executor = e
        classifier = e.makeLinear(LinearSpec(prefix: "roi_heads.box_predictor.cls_score", inFeatures: representation,
                                             outFeatures: numClasses, weightInit: .normal(std: 0.01), biasInit: .constant(0)))
        regressor = e.makeLinear(LinearSpec(prefix: "roi_heads.box_predictor.bbox_pred", inFeatures: representation,
                                            outFeatures: 4 * numClasses, weightInit: .normal(std: 0.001), biasInit: .constant(0)))
    }

    public func callAsFunction(_ x: E.Value) -> (classLogits: E.Value, boxDeltas: E.Value) {
        (executor.linear(classifier, x), executor.linear(regressor, x))
    }
}
