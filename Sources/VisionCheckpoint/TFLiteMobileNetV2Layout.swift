// The operator sequence a TFLite MobileNetV2 (width 1.0) must have, step by step,
// with the torchvision `mobilenet_v2` key each conv fills. Mirrors
// Tools/convert_tflite_mobilenet_v2.py's expected_layout().

struct MobileNetV2ConvSlot {
    /// torchvision key prefix of the conv ("features.3.conv.1.0", "classifier.1").
    let conv: String
    /// Key prefix of the BatchNorm2d after it; nil for the classifier.
    let batchNorm: String?
    let depthwise: Bool
    let inChannels: Int
    let outChannels: Int
    let kernel: Int
    let stride: Int
    /// Fused activation torchvision applies after it: "RELU6" or "NONE".
    let activation: String
    /// First conv of an inverted-residual block: its input is the residual's source.
    var blockStart = false
}

enum MobileNetV2Step {
    case conv(MobileNetV2ConvSlot)
    case add
    case pool
    case classifier(MobileNetV2ConvSlot)

    /// torchvision's inverted residual setting: expansion t, channels c, repeats n, stride s.
    static let invertedResidualSetting = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                                          (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

    /// 52 feature convs, 10 residual ADDs, the global pool, the 1x1 classifier conv (1001 outputs).
    static let expectedLayout: [MobileNetV2Step] = {
        typealias Slot = MobileNetV2ConvSlot
        var steps: [MobileNetV2Step] = [.conv(Slot(conv: "features.0.0", batchNorm: "features.0.1", depthwise: false,
                                                   inChannels: 3, outChannels: 32, kernel: 3, stride: 2, activation: "RELU6"))]
        var cin = 32, index = 1
        for (t, c, n, s) in invertedResidualSetting {
            for i in 0 ..< n {
                let stride = i == 0 ? s : 1, hidden = cin * t, p = "features.\(index).conv"
                if t != 1 {
                    steps.append(.conv(Slot(conv: "\(p).0.0", batchNorm: "\(p).0.1", depthwise: false, inChannels: cin,
                                            outChannels: hidden, kernel: 1, stride: 1, activation: "RELU6", blockStart: true)))
                    steps.append(.conv(Slot(conv: "\(p).1.0", batchNorm: "\(p).1.1", depthwise: true, inChannels: hidden,
                                            outChannels: hidden, kernel: 3, stride: stride, activation: "RELU6")))
                    steps.append(.conv(Slot(conv: "\(p).2", batchNorm: "\(p).3", depthwise: false, inChannels: hidden,
                                            outChannels: c, kernel: 1, stride: 1, activation: "NONE")))
                } else {
                    steps.append(.conv(Slot(conv: "\(p).0.0", batchNorm: "\(p).0.1", depthwise: true, inChannels: hidden,
                                            outChannels: hidden, kernel: 3, stride: stride, activation: "RELU6", blockStart: true)))
                    steps.append(.conv(Slot(conv: "\(p).1", batchNorm: "\(p).2", depthwise: false, inChannels: hidden,
                                            outChannels: c, kernel: 1, stride: 1, activation: "NONE")))
                }
                if stride == 1 && cin == c { steps.append(.add) }
                cin = c
                index += 1
            }
        }
        steps.append(.conv(Slot(conv: "features.18.0", batchNorm: "features.18.1", depthwise: false, inChannels: cin,
                                outChannels: 1280, kernel: 1, stride: 1, activation: "RELU6")))
        steps.append(.pool)
        steps.append(.classifier(Slot(conv: "classifier.1", batchNorm: nil, depthwise: false, inChannels: 1280,
                                      outChannels: 1001, kernel: 1, stride: 1, activation: "NONE")))
        return steps
    }()

    /// "conv features.1.conv.0.0", "add", as the reference script names a step.
    var label: String {
        switch self {
        case let .conv(slot): return "conv " + slot.conv
        case let .classifier(slot): return "classifier " + slot.conv
        case .add: return "add"
        case .pool: return "pool"
        }
    }
}

/// Python's str() of a tuple of ints, so messages read as the reference script's: "(1, 3, 3, 32)", "(32,)".
func pythonTuple(_ values: [Int]) -> String {
    values.count == 1 ? "(\(values[0]),)" : "(" + values.map(String.init).joined(separator: ", ") + ")"
}

/// Python's str() of a list of strings: "['RESHAPE', 'SOFTMAX']".
func pythonList(_ values: [String]) -> String {
    "[" + values.map { "'\($0)'" }.joined(separator: ", ") + "]"
}
