import VisionCore

/// torchvision's mobilenet_v3_large `features` (17 modules), batch norms folded.
/// For detection it returns the outputs of module 13 ([N,160,H/32,W/32]) and
/// module 16 ([N,960,H/32,W/32]).
struct MobileNetV3LargeBody {
    typealias Architecture = MobileNetV3LargeArchitecture

    /// Channels of the two returned maps: the last block's output and 6x that.
    static func outChannels(_ config: ModelConfig) -> [Int] {
        Architecture.outChannels(widthMultiplier: config.mobilenetWidthMultiplier)
    }

    /// Indices into `features` whose outputs the FPN takes.
    static let returnedModules = [13, 16]

    let first: Conv
    let blocks: [InvertedResidualBlock]
    let last: Conv

    init(_ r: WeightReader, backend: ComputeBackend, prefix: String, config: ModelConfig) {
        let eps = config.batchNormEps
        let m = config.mobilenetWidthMultiplier
        first = Conv.load(r, backend: backend, conv: "\(prefix).0.0", bn: "\(prefix).0.1", bnEps: eps,
                          inChannels: 3, outChannels: Architecture.adjust(Architecture.settings[0].inChannels, m), kernel: 3,
                          stride: 2, activation: .hardswish)
        var blocks: [InvertedResidualBlock] = []
        for (i, unscaled) in Architecture.settings.enumerated() {
            let s = unscaled.scaled(by: m)
            let p = "\(prefix).\(i + 1).block"
            let act: Activation = s.hardswish ? .hardswish : .relu
            var j = 0
            func next() -> String { defer { j += 1 }; return "\(p).\(j)" }
            var expand: Conv?
            if s.expanded != s.inChannels {
                let q = next()
                expand = Conv.load(r, backend: backend, conv: "\(q).0", bn: "\(q).1", bnEps: eps,
                                   inChannels: s.inChannels, outChannels: s.expanded, kernel: 1, activation: act)
            }
            let dq = next()
            let depthwise = Conv.load(r, backend: backend, conv: "\(dq).0", bn: "\(dq).1", bnEps: eps,
                                      inChannels: s.expanded, outChannels: s.expanded, kernel: s.kernel,
                                      stride: s.stride, groups: s.expanded, activation: act)
            var se: SqueezeExcitation?
            if s.useSE {
                let q = next()
                let squeeze = Architecture.squeezeChannels(s.expanded)
                se = SqueezeExcitation(
                    fc1: Conv.load(r, backend: backend, conv: "\(q).fc1", inChannels: s.expanded, outChannels: squeeze,
                                   kernel: 1, bias: true, activation: .relu),
                    fc2: Conv.load(r, backend: backend, conv: "\(q).fc2", inChannels: squeeze, outChannels: s.expanded,
                                   kernel: 1, bias: true, activation: .hardsigmoid),
                    backend: backend)
            }
            let pq = next()
            let project = Conv.load(r, backend: backend, conv: "\(pq).0", bn: "\(pq).1", bnEps: eps,
                                    inChannels: s.expanded, outChannels: s.outChannels, kernel: 1)
            blocks.append(InvertedResidualBlock(
                expand: expand, depthwise: depthwise, se: se, project: project,
                residual: s.stride == 1 && s.inChannels == s.outChannels, backend: backend))
        }
        self.blocks = blocks
        let lastChannels = Self.outChannels(config)
        last = Conv.load(r, backend: backend, conv: "\(prefix).16.0", bn: "\(prefix).16.1", bnEps: eps,
                         inChannels: lastChannels[0], outChannels: lastChannels[1], kernel: 1, activation: .hardswish)
    }

    func callAsFunction(_ image: Tensor) -> [Tensor] {
        var x = first(image)
        var outputs: [Tensor] = []
        for (i, block) in blocks.enumerated() {
            x = block(x)
            if i + 1 == Self.returnedModules[0] { outputs.append(x) }
        }
        outputs.append(last(x))
        return outputs
    }
}
