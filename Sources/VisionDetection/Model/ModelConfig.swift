import Foundation

/// Every hyperparameter of one Faster R-CNN variant, in one place.
/// torchvision's four builders and fasterrcnn_mobilenet_v2_fpn are described by `Models/<name>.json`;
/// the field names mirror torchvision's constructor arguments.
public struct ModelConfig: Codable, Sendable, Equatable {
    public enum Backbone: String, Codable, Sendable {
        case resnet50, mobilenetV3Large = "mobilenet_v3_large", mobilenetV2 = "mobilenet_v2"
    }
    /// v1: TwoMLPHead, one RPN conv, FPN convs with bias. v2: conv box head, two RPN convs, BN in FPN.
    public enum Variant: String, Codable, Sendable { case v1, v2 }

    public var name: String
    public var backbone: Backbone
    public var variant: Variant
    /// eps of the backbone's (frozen) batch norms, folded into the convolutions at load.
    public var batchNormEps: Float

    // Transform (GeneralizedRCNNTransform).
    public var minSize: Int
    public var maxSize: Int
    public var imageMean: [Float]
    public var imageStd: [Float]
    public var sizeDivisible: Int

    // Anchors: one list of sizes and one of aspect ratios per feature level.
    public var anchorSizes: [[Float]]
    public var aspectRatios: [[Float]]

    // RPN.
    public var rpnPreNMSTopNTest: Int
    public var rpnPostNMSTopNTest: Int
    public var rpnPreNMSTopNTrain: Int
    public var rpnPostNMSTopNTrain: Int
    public var rpnNMSThresh: Float
    public var rpnScoreThresh: Float
    public var rpnFgIoUThresh: Float
    public var rpnBgIoUThresh: Float
    public var rpnBatchSizePerImage: Int
    public var rpnPositiveFraction: Float

    // RoI heads.
    public var boxScoreThresh: Float
    public var boxNMSThresh: Float
    public var boxDetectionsPerImage: Int
    public var boxFgIoUThresh: Float
    public var boxBgIoUThresh: Float
    public var boxBatchSizePerImage: Int
    public var boxPositiveFraction: Float
    public var boxCoderWeights: [Float]
    public var roiOutputSize: Int
    public var roiSamplingRatio: Int
    public var fpnChannels: Int
    /// Width of the box head's fully connected layers (fc6/fc7); the checkpoint's shapes win.
    public var representationSize: Int

    // Backbone widths. torchvision's builders use the defaults; smaller values
    // describe the reduced-width test models built by Tests/Fixtures/generate_model.py.
    /// ResNet stem output channels.
    public var resnetStemChannels: Int = 64
    /// ResNet bottleneck widths per layer (outputs are 4x these).
    public var resnetWidths: [Int] = [64, 128, 256, 512]
    public var resnetBlocks: [Int] = [3, 4, 6, 3]
    /// mobilenet_v3_large width_mult.
    public var mobilenetWidthMultiplier: Double = 1.0
    /// v2 box head: channels of its 3x3 convs.
    public var boxHeadConvChannels: [Int] = [256, 256, 256, 256]

    /// Class count including background; replaced by the checkpoint's own when it differs.
    public var numClasses: Int

    public var notes: String?
    /// Published weights for this architecture, where torchvision has them.
    public var url: String?
    public var sha256Prefix: String?

    public var anchorsPerLocation: Int { anchorSizes[0].count * aspectRatios[0].count }

    enum CodingKeys: String, CodingKey {
        case name, backbone, variant, batchNormEps, minSize, maxSize, imageMean, imageStd, sizeDivisible
        case anchorSizes, aspectRatios, rpnPreNMSTopNTest, rpnPostNMSTopNTest, rpnPreNMSTopNTrain, rpnPostNMSTopNTrain
        case rpnNMSThresh, rpnScoreThresh, rpnFgIoUThresh, rpnBgIoUThresh, rpnBatchSizePerImage, rpnPositiveFraction
        case boxScoreThresh, boxNMSThresh, boxDetectionsPerImage, boxFgIoUThresh, boxBgIoUThresh
        case boxBatchSizePerImage, boxPositiveFraction, boxCoderWeights, roiOutputSize, roiSamplingRatio
        case fpnChannels, representationSize, resnetStemChannels, resnetWidths, resnetBlocks
        case mobilenetWidthMultiplier, boxHeadConvChannels, numClasses, notes, url, sha256Prefix
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        backbone = try c.decode(Backbone.self, forKey: .backbone)
        variant = try c.decode(Variant.self, forKey: .variant)
        batchNormEps = try c.decode(Float.self, forKey: .batchNormEps)
        minSize = try c.decode(Int.self, forKey: .minSize)
        maxSize = try c.decode(Int.self, forKey: .maxSize)
        imageMean = try c.decode([Float].self, forKey: .imageMean)
        imageStd = try c.decode([Float].self, forKey: .imageStd)
        sizeDivisible = try c.decode(Int.self, forKey: .sizeDivisible)
        anchorSizes = try c.decode([[Float]].self, forKey: .anchorSizes)
        aspectRatios = try c.decode([[Float]].self, forKey: .aspectRatios)
        rpnPreNMSTopNTest = try c.decode(Int.self, forKey: .rpnPreNMSTopNTest)
        rpnPostNMSTopNTest = try c.decode(Int.self, forKey: .rpnPostNMSTopNTest)
        rpnPreNMSTopNTrain = try c.decode(Int.self, forKey: .rpnPreNMSTopNTrain)
        rpnPostNMSTopNTrain = try c.decode(Int.self, forKey: .rpnPostNMSTopNTrain)
        rpnNMSThresh = try c.decode(Float.self, forKey: .rpnNMSThresh)
        rpnScoreThresh = try c.decode(Float.self, forKey: .rpnScoreThresh)
        rpnFgIoUThresh = try c.decode(Float.self, forKey: .rpnFgIoUThresh)
        rpnBgIoUThresh = try c.decode(Float.self, forKey: .rpnBgIoUThresh)
        rpnBatchSizePerImage = try c.decode(Int.self, forKey: .rpnBatchSizePerImage)
        rpnPositiveFraction = try c.decode(Float.self, forKey: .rpnPositiveFraction)
        boxScoreThresh = try c.decode(Float.self, forKey: .boxScoreThresh)
        boxNMSThresh = try c.decode(Float.self, forKey: .boxNMSThresh)
        boxDetectionsPerImage = try c.decode(Int.self, forKey: .boxDetectionsPerImage)
        boxFgIoUThresh = try c.decode(Float.self, forKey: .boxFgIoUThresh)
        boxBgIoUThresh = try c.decode(Float.self, forKey: .boxBgIoUThresh)
        boxBatchSizePerImage = try c.decode(Int.self, forKey: .boxBatchSizePerImage)
        boxPositiveFraction = try c.decode(Float.self, forKey: .boxPositiveFraction)
        boxCoderWeights = try c.decode([Float].self, forKey: .boxCoderWeights)
        roiOutputSize = try c.decode(Int.self, forKey: .roiOutputSize)
        roiSamplingRatio = try c.decode(Int.self, forKey: .roiSamplingRatio)
        fpnChannels = try c.decode(Int.self, forKey: .fpnChannels)
        representationSize = try c.decode(Int.self, forKey: .representationSize)
        resnetStemChannels = try c.decodeIfPresent(Int.self, forKey: .resnetStemChannels) ?? 64
        resnetWidths = try c.decodeIfPresent([Int].self, forKey: .resnetWidths) ?? [64, 128, 256, 512]
        resnetBlocks = try c.decodeIfPresent([Int].self, forKey: .resnetBlocks) ?? [3, 4, 6, 3]
        mobilenetWidthMultiplier = try c.decodeIfPresent(Double.self, forKey: .mobilenetWidthMultiplier) ?? 1.0
        boxHeadConvChannels = try c.decodeIfPresent([Int].self, forKey: .boxHeadConvChannels) ?? [256, 256, 256, 256]
        numClasses = try c.decode(Int.self, forKey: .numClasses)
        notes = try c.decodeIfPresent(String.self, forKey: .notes)
        url = try c.decodeIfPresent(String.self, forKey: .url)
        sha256Prefix = try c.decodeIfPresent(String.self, forKey: .sha256Prefix)
    }

    /// Reads a model definition from any JSON file.
    public static func load(file: URL) throws -> ModelConfig {
        do {
            return try JSONDecoder().decode(ModelConfig.self, from: Data(contentsOf: file))
        } catch {
            throw DetectionError.badModelDefinition(file: file.path, reason: "\(error)")
        }
    }

    public static let names = [
        "fasterrcnn_resnet50_fpn", "fasterrcnn_resnet50_fpn_v2",
        "fasterrcnn_mobilenet_v3_large_fpn", "fasterrcnn_mobilenet_v3_large_320_fpn",
        "fasterrcnn_mobilenet_v2_fpn",
    ]

    /// Reads `<directory>/<name>.json`.
    public static func load(name: String, from directory: URL = ModelDirectory.url) throws -> ModelConfig {
        let file = directory.appendingPathComponent("\(name).json")
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw DetectionError.unknownModel(name: name, searched: directory.path)
        }
        return try load(file: file)
    }
}

/// Where the `Models/` folder (definitions, labels, shipped checkpoints) is found:
/// `$VISION_MODELS`, else a `Models` folder beside or above the executable
/// (a SwiftPM build lives in `<repo>/.build/<config>/`), else `./Models`.
public enum ModelDirectory {
    public static var url: URL {
        let fm = FileManager.default
        if let env = ProcessInfo.processInfo.environment["VISION_MODELS"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        var dir = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = dir.appendingPathComponent("Models")
            if fm.fileExists(atPath: candidate.appendingPathComponent("fasterrcnn_resnet50_fpn.json").path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: fm.currentDirectoryPath).appendingPathComponent("Models")
    }
}
