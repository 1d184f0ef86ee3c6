/// torchvision's mobilenet_v2 layout (`MobileNetV2.__init__`'s inverted_residual_setting),
/// shared by the inference body and the trainable one so the table exists once.
///
/// `features` has 19 modules: 0 the stem (3x3 s2 conv, 32 channels), 1...17 the inverted
/// residual blocks, 18 the last 1x1 conv (1280 channels). Every activation is ReLU6, no
/// squeeze-excitation. Keys of block i: with expansion, `features.i.conv.0.{0,1}` (expand
/// 1x1 + BN), `conv.1.{0,1}` (depthwise 3x3 + BN), `conv.2` (project 1x1), `conv.3` (its BN);
/// without expansion (block 1), `conv.0.{0,1}` (depthwise), `conv.1` (project), `conv.2` (BN).
///
/// For detection (fasterrcnn_mobilenet_v2_fpn, this project's own architecture) the FPN
/// takes the outputs of features[13] (96 channels, stride 16) and features[18] (1280,
/// stride 32): one level finer than torchvision's MobileNetV3 FPN, whose two maps are
/// both at stride 32, because small objects (platelets in BCCD) need a stride-16 map.
public enum MobileNetV2Architecture {
    /// One inverted-residual block: features[i + 1] for blocks[i].
    public struct BlockSetting: Sendable, Equatable {
        public let inChannels: Int, expanded: Int, outChannels: Int, stride: Int
        public var hasExpansion: Bool { expanded != inChannels }
        public var residual: Bool { stride == 1 && inChannels == outChannels }
    }

    /// torchvision's (t, c, n, s) rows, before width scaling.
    public static let rows: [(expansion: Int, channels: Int, repeats: Int, stride: Int)] = [
        (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
    ]

    /// Indices into `features` whose outputs the FPN takes.
    public static let returnedModules = [13, 18]

    /// torchvision's mobilenet_backbone stage_indices: the stem, every block with stride 2, the last conv.
    public static let stageIndices = [0, 2, 4, 7, 14, 18]

    /// Stem output channels (torchvision's input_channel = _make_divisible(32 * width_mult, 8)).
    public static func stemChannels(widthMultiplier m: Double) -> Int { MobileNetV3LargeArchitecture.makeDivisible(32 * m) }

    /// Channels of features[18]: _make_divisible(1280 * max(1, width_mult), 8).
    public static func lastChannels(widthMultiplier m: Double) -> Int {
        MobileNetV3LargeArchitecture.makeDivisible(1280 * max(1.0, m))
    }

    /// The 17 blocks with their channels scaled as torchvision scales them.
    public static func blocks(widthMultiplier m: Double) -> [BlockSetting] {
        var input = stemChannels(widthMultiplier: m)
        var result: [BlockSetting] = []
        for row in rows {
            let output = MobileNetV3LargeArchitecture.makeDivisible(Double(row.channels) * m)
            for i in 0..<row.repeats {
                result.append(BlockSetting(inChannels: input, expanded: input * row.expansion, outChannels: output,
                                           stride: i == 0 ? row.stride : 1))
                input = output
            }
        }
        return result
    }

    /// Channels of the two maps the FPN takes: features[13] and features[18].
    public static func outChannels(widthMultiplier m: Double) -> [Int] {
        [blocks(widthMultiplier: m)[returnedModules[0] - 1].outChannels, lastChannels(widthMultiplier: m)]
    }
}
