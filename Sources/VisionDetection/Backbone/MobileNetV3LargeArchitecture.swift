/// torchvision's mobilenet_v3_large layout (`_mobilenet_v3_conf`), shared by the
/// inference body and the trainable one so the table exists once.
public enum MobileNetV3LargeArchitecture {
    /// One inverted-residual block: features[i + 1] for settings[i].
    public struct BlockSetting: Sendable {
        public let inChannels: Int, kernel: Int, expanded: Int, outChannels: Int
        public let useSE: Bool, hardswish: Bool, stride: Int

        /// The same block with its channels scaled by torchvision's adjust_channels.
        public func scaled(by widthMultiplier: Double) -> BlockSetting {
            let a = { MobileNetV3LargeArchitecture.adjust($0, widthMultiplier) }
            return BlockSetting(inChannels: a(inChannels), kernel: kernel, expanded: a(expanded), outChannels: a(outChannels),
                                useSE: useSE, hardswish: hardswish, stride: stride)
        }
    }

    /// Before width scaling.
    public static let settings: [BlockSetting] = [
        .init(inChannels: 16, kernel: 3, expanded: 16, outChannels: 16, useSE: false, hardswish: false, stride: 1),
        .init(inChannels: 16, kernel: 3, expanded: 64, outChannels: 24, useSE: false, hardswish: false, stride: 2),
        .init(inChannels: 24, kernel: 3, expanded: 72, outChannels: 24, useSE: false, hardswish: false, stride: 1),
        .init(inChannels: 24, kernel: 5, expanded: 72, outChannels: 40, useSE: true, hardswish: false, stride: 2),
        .init(inChannels: 40, kernel: 5, expanded: 120, outChannels: 40, useSE: true, hardswish: false, stride: 1),
        .init(inChannels: 40, kernel: 5, expanded: 120, outChannels: 40, useSE: true, hardswish: false, stride: 1),
        .init(inChannels: 40, kernel: 3, expanded: 240, outChannels: 80, useSE: false, hardswish: true, stride: 2),
        .init(inChannels: 80, kernel: 3, expanded: 200, outChannels: 80, useSE: false, hardswish: true, stride: 1),
        .init(inChannels: 80, kernel: 3, expanded: 184, outChannels: 80, useSE: false, hardswish: true, stride: 1),
        .init(inChannels: 80, kernel: 3, expanded: 184, outChannels: 80, useSE: false, hardswish: true, stride: 1),
        .init(inChannels: 80, kernel: 3, expanded: 480, outChannels: 112, useSE: true, hardswish: true, stride: 1),
        .init(inChannels: 112, kernel: 3, expanded: 672, outChannels: 112, useSE: true, hardswish: true, stride: 1),
        .init(inChannels: 112, kernel: 5, expanded: 672, outChannels: 160, useSE: true, hardswish: true, stride: 2),
        .init(inChannels: 160, kernel: 5, expanded: 960, outChannels: 160, useSE: true, hardswish: true, stride: 1),
        .init(inChannels: 160, kernel: 5, expanded: 960, outChannels: 160, useSE: true, hardswish: true, stride: 1),
    ]

    /// Indices into `features` whose outputs the FPN takes: the last block and the last conv.
    public static let returnedModules = [13, 16]

    /// torchvision's mobilenet_backbone stage_indices: the stem, every block with stride > 1,
    /// the last conv: [0, 2, 4, 7, 13, 16].
    public static let stageIndices: [Int] = [0] + settings.enumerated().filter { $0.element.stride > 1 }.map { $0.offset + 1 } + [16]

    /// torchvision's _make_divisible(v, 8).
    public static func makeDivisible(_ v: Double, _ divisor: Int = 8) -> Int {
        var newV = max(divisor, Int(v + Double(divisor) / 2) / divisor * divisor)
        if Double(newV) < 0.9 * v { newV += divisor }
        return newV
    }

    /// torchvision's InvertedResidualConfig.adjust_channels.
    public static func adjust(_ channels: Int, _ widthMultiplier: Double) -> Int {
        makeDivisible(Double(channels) * widthMultiplier)
    }

    /// SqueezeExcitation's squeeze channels for `expanded` channels.
    public static func squeezeChannels(_ expanded: Int) -> Int { makeDivisible(Double(expanded / 4)) }

    /// Channels of the two maps the FPN takes: features[13] (the last block) and features[16] (6x that).
    public static func outChannels(widthMultiplier: Double) -> [Int] {
        let c = adjust(settings[settings.count - 1].outChannels, widthMultiplier)
        return [c, 6 * c]
    }
}
